"""The fuzz suites' budget: bounded and deterministic by default (the same examples every run, about a
minute for all of tests/fuzz on two busy cores); a longer hunt sets FUZZ_EXAMPLES (examples per test)
and FUZZ_RANDOM=1 (new examples each run)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def fuzz_settings(default_examples: int) -> settings:
    examples = int(os.environ.get("FUZZ_EXAMPLES") or default_examples)
    return settings(max_examples=examples, deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
