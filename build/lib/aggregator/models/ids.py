"""Identifier normalization shared by every query and record."""

from __future__ import annotations

import re

_MEMBER_ID_NOISE = re.compile(r"[\s\-]")


def normalize_member_id(value: str) -> str:
    """Member ids are stored uppercase without spaces or dashes; leading zeros are kept."""
    cleaned = _MEMBER_ID_NOISE.sub("", value).upper()
    if not cleaned:
        raise ValueError("member id is empty")
    if not cleaned.isalnum():
        raise ValueError("member id may contain only letters and digits")
    return cleaned
