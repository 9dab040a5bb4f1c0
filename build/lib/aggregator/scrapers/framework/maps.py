"""Carrier vocabulary -> canonical codes. An unknown value raises; it never becomes "other"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from aggregator.errors import UnmappedValue
from aggregator.models.codes import AdjustmentGroup, AdjustmentReason
from aggregator.scrapers.framework.html import header_key

T = TypeVar("T")


class VocabularyMap(Generic[T]):
    """A named, case/space-insensitive mapping from what the portal prints to what we store."""

    def __init__(self, name: str, entries: Mapping[str, T]) -> None:
        self.name = name
        self._entries: dict[str, T] = {}
        for text, value in entries.items():
            key = header_key(text)
            if key in self._entries and self._entries[key] != value:
                raise ValueError(f"{name}: '{text}' mapped twice")
            self._entries[key] = value

    def __call__(self, text: str) -> T:
        key = header_key(text)
        if key not in self._entries:
            # The word stays out of the message: a drifted column could put member data where a label
            # was expected, and messages are logged. The evidence screenshot shows what was there.
            raise UnmappedValue(f"{self.name}: the portal shows a value no map knows ({len(text)} characters)",
                                field=self.name, value=text[:60])
        return self._entries[key]

    def __contains__(self, text: str) -> bool:
        return header_key(text) in self._entries

    def known(self) -> list[str]:
        return sorted(self._entries)


# Adjustments printed as X12 codes ("CO-45"): the groups (CAS01) and reasons (CARCs, CAS02) this product
# knows. The codes are the standard's, not a carrier's words, so every carrier reads them with these maps;
# any other code is unmapped, never "other".
ADJUSTMENT_GROUPS = VocabularyMap("adjustment group", {group.value: group for group in AdjustmentGroup})
ADJUSTMENT_REASONS = VocabularyMap("adjustment reason", {reason.value: reason for reason in AdjustmentReason})
