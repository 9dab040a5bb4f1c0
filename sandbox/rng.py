"""One seeded random stream per purpose: every random choice of the sandbox dataset comes from
`rng_for(seed, *purpose)`, so the same seed makes the same world everywhere (sandbox/dataset.py)."""

from __future__ import annotations

import random


def rng_for(seed: int, *purpose: str) -> random.Random:
    return random.Random(":".join((str(seed), *purpose)))
