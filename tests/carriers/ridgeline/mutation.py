"""What the mutation suite's meaning families need to know about Ridgeline's words (tests/mutation/portal_words.py)."""

from aggregator.scrapers.ridgeline import maps

NO_VALUE_MARKS = (maps.NOT_APPLICABLE,)  # "N/A": no benefit of this kind at this tier
