"""Checks of the practice's own identifiers (NPI, Tax ID), shared by the appointment importers and the vault
(which may use only the product's foundations)."""

from __future__ import annotations

import re

_NPI_PREFIX = "80840"  # the health-industry prefix CMS includes in the NPI check digit (STANDARDS.md 6)
_TAX_ID = re.compile(r"(\d{2})-?(\d{7})")


def npi_valid(npi: str) -> bool:
    """10 digits, first 1 or 2, Luhn check digit computed over 80840 + the first 9 digits."""
    if len(npi) != 10 or not npi.isdigit() or npi[0] not in "12":
        return False
    total = 0
    for position, char in enumerate(reversed(_NPI_PREFIX + npi)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def normalize_tax_id(value: str) -> str:
    """An employer identification number as portals show it, NN-NNNNNNN (typed with or without the dash)."""
    found = _TAX_ID.fullmatch(value.strip())
    if found is None:
        raise ValueError("a Tax ID is 9 digits, written NN-NNNNNNN")
    return f"{found.group(1)}-{found.group(2)}"
