"""Recorded pages: captured portal pages kept as offline test cases (tests/recorded_pages/<slug>/<flow>/).

- `cases`: the case format (a page or document, and its expected answer) and the offline parse that reads it.
- `capture`: the pages a lookup read, taken from its evidence and checked against the hashes it recorded.
- `scrub`: replaces a member's identifying values with synthetic ones, consistently across pages;
  `finders`: where a page shows such values that nobody told the scrubber (patterns, labels).
- `live`: recording from a real portal (`aggregator record`): lookup, private raw copy, scrub, review.

The sandbox's recorder (sandbox/recorder.py) builds on `cases` and `capture`; nothing here imports the sandbox.
"""
