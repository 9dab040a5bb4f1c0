"""A variant of a recorded page and the registry of mutation families that make them."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tests.mutation.corpus import Case
from tests.mutation.oracle import Truth

LAYOUT, MEANING = "layout-only", "meaning-changing"


@dataclass(frozen=True)
class Variant:
    family: str
    klass: str  # LAYOUT or MEANING
    description: str  # what was changed, value-free (labels and positions, never member data)
    html: str
    truth: Truth


@dataclass(frozen=True)
class Family:
    name: str
    klass: str
    make: Callable[[Case, random.Random], list[Variant]]
    doc: str


FAMILIES: dict[str, Family] = {}


def family(name: str, klass: str) -> Callable[[Callable[[Case, random.Random], list[tuple[str, str, Truth]]]],
                                              Callable[[Case, random.Random], list[Variant]]]:
    """Register a family. The decorated function returns (description, html, truth) triples; its docstring
    is the family's documentation (docs/mutation-suite.md repeats it)."""

    def register(fn: Callable[[Case, random.Random], list[tuple[str, str, Truth]]]
                 ) -> Callable[[Case, random.Random], list[Variant]]:
        def make(case: Case, rng: random.Random) -> list[Variant]:
            return [Variant(name, klass, description, html, truth) for description, html, truth in fn(case, rng)]

        FAMILIES[name] = Family(name, klass, make, (fn.__doc__ or "").strip())
        return make

    return register
