"""What the meaning families need to know about a carrier's portal words, without naming any carrier.

Two things: how the portal shows "no value" (besides an empty cell), and which vocabularies are statuses
(swapping one status word for another changes the answer). Both come from the carrier's own folders:

- by default from its maps module (aggregator/scrapers/<slug>/maps.py): `NO_VALUE` (the scaffold's name
  for the mark) and the status maps named as the scaffold names them (`AUTH_STATUS`, `CLAIM_STATUS`,
  `COVERAGE_STATUS`), so a new carrier needs nothing here;
- a carrier whose maps name them otherwise declares them in tests/carriers/<slug>/mutation.py:
  `NO_VALUE_MARKS: tuple[str, ...]` and/or `STATUS_VOCABULARIES: tuple[VocabularyMap, ...]` (in a stable order:
  the variants are drawn from them with a seeded random).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from aggregator.scrapers.framework import VocabularyMap

DEFAULT_NO_VALUE = "NO_VALUE"
DEFAULT_STATUS_MAPS = ("AUTH_STATUS", "CLAIM_STATUS", "COVERAGE_STATUS")


@dataclass(frozen=True)
class PortalWords:
    no_value_marks: tuple[str, ...]
    status_vocabularies: tuple[VocabularyMap, ...]


def _declaration(carrier: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"tests.carriers.{carrier}.mutation")
    except ModuleNotFoundError as missing:
        if missing.name != f"tests.carriers.{carrier}.mutation" and missing.name != f"tests.carriers.{carrier}":
            raise  # the declaration exists but imports something missing: say so, do not fall back silently
        return None


@cache
def portal_words(carrier: str) -> PortalWords:
    maps = importlib.import_module(f"aggregator.scrapers.{carrier}.maps")
    declared = _declaration(carrier)
    marks = getattr(declared, "NO_VALUE_MARKS", None)
    if marks is None:
        marks = (maps.NO_VALUE,) if hasattr(maps, DEFAULT_NO_VALUE) else ()
    vocabularies = getattr(declared, "STATUS_VOCABULARIES", None)
    if vocabularies is None:
        vocabularies = tuple(getattr(maps, name) for name in DEFAULT_STATUS_MAPS if hasattr(maps, name))
    assert all(isinstance(v, VocabularyMap) for v in vocabularies), f"{carrier}: STATUS_VOCABULARIES holds a non-map"
    return PortalWords(tuple(marks), tuple(vocabularies))
