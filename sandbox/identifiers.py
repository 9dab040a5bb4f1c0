"""Identifier formats the sandbox generates: NPI (with its Luhn check digit), tax ids, digit strings.

Everything takes a `random.Random` so the caller's seeded stream decides every digit.
"""

from __future__ import annotations

import random

# CMS computes the NPI check digit as if the 80840 health-industry prefix were in front of the
# 9-digit base (STANDARDS.md section 6), so the prefix takes part in the Luhn sum.
_NPI_PREFIX = "80840"


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` pass the Luhn (mod 10, double every second) test."""
    total = 0
    # The check digit will sit at the right end, so the payload's rightmost digit is doubled.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def npi_valid(npi: str) -> bool:
    """10 digits, first digit 1 or 2, Luhn-valid with the 80840 prefix."""
    if len(npi) != 10 or not npi.isdigit() or npi[0] not in "12":
        return False
    return luhn_check_digit(_NPI_PREFIX + npi[:9]) == npi[9]


def make_npi(rng: random.Random) -> str:
    """A Luhn-valid NPI; the leading digit is 1 or 2 as CMS assigns them."""
    base = rng.choice("12") + digits(rng, 8)
    return base + luhn_check_digit(_NPI_PREFIX + base)


def make_tax_id(rng: random.Random) -> str:
    """An EIN written as the IRS prints it, NN-NNNNNNN (prefix 10-98, avoiding unassigned 00/07-09)."""
    prefix = rng.choice([p for p in range(10, 99) if p not in (17, 18, 19, 28, 29, 49, 69, 70, 78, 79, 89)])
    return f"{prefix:02d}-{digits(rng, 7)}"


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def base32_secret(rng: random.Random, length: int = 32) -> str:
    """A TOTP seed in RFC 4648 base32, like pyotp.random_base32 but from the seeded stream."""
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(length))
