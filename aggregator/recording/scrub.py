"""Replace a member's identifying values in captured pages with synthetic ones, so the pages can be committed.

What is replaced: the values the scrubber is told (`add`, `add_values`: from the lookup's query and the
answer the adapter parsed, by field name, `FIELD_KINDS`) and what its patterns find in the pages
(`discover`: phone numbers, street addresses, "City, ST 12345", labelled NPIs, tax ids). Nothing is
guessed from a dataset: a live portal is unknown.

How, so that the parser still reads the pages and reads the same answer:
- Consistently: one value -> one replacement, in every page, every attribute and URL, inside embedded JSON
  and inside base64 blobs (ASP.NET view state) -- matched in its HTML-escaped, URL-encoded and JSON-escaped
  forms too, each replaced by the same encoding of the replacement.
- Format-preserving: same length and shape. Digits become other digits; letters of a name become other
  letters with the same case; punctuation stays (O'Brien -> Xa'Vubel). Identifiers keep their letters (a
  carrier's prefix) and change their digits. An identifier that extends another one (a dependent's id is
  the subscriber's plus two digits) keeps that relation. Fixed-width reports keep their columns.
- Dates of birth: one synthetic date, same year, written in every common format (03/04/1980, 3/4/1980,
  1980-03-04, Mar 4, 1980, ...), each occurrence in the format it was found in.
- Not reversible: replacements come from a keyed hash with a random key per recording (`salt`), never
  from the value alone (a DOB or an id could otherwise be found again by trying them all).

`scrub_text`/`scrub_bytes` rewrite a page; `scrub_json` applies the same map to a parsed answer, so the
scrubbed page's parse can be compared with the scrubbed original parse (and, in the sandbox's tests, with
the scrubbed ground truth).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import random
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any
from urllib.parse import quote, quote_plus

from aggregator.recording.finders import Kind, labelled_values, pattern_values

# Answer and query fields whose values identify a member (or the practice), by field name.
FIELD_KINDS: dict[str, Kind] = {
    "first_name": "name", "last_name": "name", "middle_name": "name", "member_name": "name",
    "patient_name": "name", "subscriber_name": "name",
    "group_name": "phrase", "address": "phrase", "street": "phrase", "city": "phrase",
    "member_id": "id", "subscriber_id": "id", "group_number": "id", "auth_number": "id",
    "payer_claim_number": "id", "claim_number": "id", "provider_account_number": "id", "check_number": "id",
    "npi": "id", "servicing_provider_npi": "id", "rendering_provider_npi": "id", "billing_provider_npi": "id",
    "tax_id": "id", "zip_code": "digits", "phone": "digits",
    "date_of_birth": "date",
}
NAME_SUFFIXES = frozenset({"JR", "SR", "II", "III", "IV"})  # not identifying, and too short to match safely

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_CONSONANTS, _VOWELS = "bcdfghjklmnprstvwz", "aeiou"


def date_forms(day: date) -> list[str]:
    """`day` written the ways pages write dates (the same order for every date, so forms correspond)."""
    m, d, y = day.month, day.day, day.year
    mon, month = _MONTHS[m - 1][:3], _MONTHS[m - 1]
    forms = [f"{y:04d}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y:04d}", f"{m}/{d}/{y:04d}", f"{m:02d}-{d:02d}-{y:04d}",
             f"{m:02d}/{d:02d}/{y % 100:02d}", f"{m}/{d}/{y % 100:02d}", f"{y:04d}{m:02d}{d:02d}",
             f"{m:02d}{d:02d}{y:04d}", f"{y:04d}/{m:02d}/{d:02d}", f"{m:02d}.{d:02d}.{y:04d}",
             f"{mon} {d:02d}, {y}", f"{mon} {d}, {y}", f"{mon}. {d}, {y}", f"{month} {d:02d}, {y}",
             f"{month} {d}, {y}", f"{d:02d} {mon} {y}", f"{d} {mon} {y}", f"{d:02d}-{mon}-{y}", f"{d} {month} {y}"]
    return forms


def _encodings(text: str) -> list[str]:
    """`text` as it may stand in a page: plain, HTML-escaped (three spellings of the apostrophe, and
    spaces as &nbsp;), URL-encoded, JSON-escaped."""
    escaped = html.escape(text, quote=True)
    forms = [text, escaped, escaped.replace("&#x27;", "&#39;"), escaped.replace("&#x27;", "&apos;"),
             html.escape(text, quote=False), text.replace(" ", "&nbsp;"), escaped.replace(" ", "&nbsp;"),
             text.replace(" ", "\xa0"), quote(text, safe=""), quote_plus(text, safe=""), quote(text, safe="/,"),
             json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]]
    return list(dict.fromkeys(forms))


def _transfer_case(found: str, replacement: str) -> str:
    """The replacement written with the case the page used for the original."""
    if len(found) == len(replacement):
        return "".join(r.upper() if f.isupper() else r.lower() if f.islower() else r
                       for f, r in zip(found, replacement, strict=True))
    if found.isupper():
        return replacement.upper()
    return replacement.lower() if found.islower() else replacement


@dataclass(frozen=True)
class Replacement:
    kind: Kind
    original: str
    replacement: str


class Scrubber:
    """One recording's map of original values to synthetic ones (see the module docstring)."""

    def __init__(self, *, salt: bytes | None = None, corpus: Iterable[str] = ()) -> None:
        self._salt = salt if salt is not None else secrets.token_bytes(32)
        self._corpus = "\n".join(corpus)  # replacements must not be text the pages already hold
        self._map: dict[tuple[Kind, str], str] = {}
        self._taken: set[str] = set()
        self._rules: list[_Rule] | None = None

    # --- what to replace ------------------------------------------------------------------------------

    def add(self, kind: Kind, value: Any) -> None:
        """Replace `value` (and, for a name, each of its words) everywhere."""
        if value is None or value == "":
            return
        if kind == "date":
            day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
            self._register("date", day.isoformat())
        elif kind == "name":
            # Each word, and each part of a hyphenated one ("Mary-Ann" may also stand as "Mary").
            words = [w.strip(",.;:()[]\"/") for w in str(value).split()]  # "KING, JEFFREY": the words
            for word in [*words, *(part for w in words if "-" in w for part in w.split("-"))]:
                letters = sum(c.isalpha() for c in word)
                if letters >= 2 and word.strip(".").upper() not in NAME_SUFFIXES:
                    self._register("name", word)
        else:
            text = str(value).strip()
            if sum(c.isalnum() for c in text) >= 3:
                self._register(kind, text)

    def add_values(self, data: Any) -> None:
        """Every value of `data` (a query's or an answer's JSON) under a field of `FIELD_KINDS`. Shorter
        values first, so an id that extends another (a dependent's) keeps the relation."""
        for kind, value in sorted(_field_values(data), key=lambda found: len(found[1])):
            self.add(kind, value)

    def discover(self, text: str) -> None:
        """What the patterns find in a page: phones, street addresses, city-state-ZIP, NPIs, tax ids."""
        for kind, value in pattern_values(text):
            self.add(kind, value)

    def remaining(self, text: str) -> list[str]:
        """The kinds of originals still found in `text` (a last check before anything is written: an
        original left where two matches overlapped; empty when none)."""
        return sorted({kind for (kind, original), new in self._map.items()
                       if any(rule.pattern.search(text) for rule in _rules(kind, original, new))})

    def discover_labelled(self, text: str) -> None:
        """Values the page labels as a person's name, id or date of birth (aggregator/recording/finders.py)."""
        for kind, value in labelled_values(text):
            self.add(kind, value)

    def replacements(self) -> list[Replacement]:
        """The map, for tests and checks. Never print it: it holds the originals."""
        return [Replacement(kind, original, new) for (kind, original), new in self._map.items()]

    def counts(self) -> dict[str, int]:
        """How many values of each kind are replaced (what may be shown)."""
        counts: dict[str, int] = {}
        for kind, _ in self._map:
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    # --- replacing ------------------------------------------------------------------------------------

    def scrub_text(self, text: str) -> str:
        rules = self._compiled()
        if not rules:
            return text
        return _apply(rules, _BASE64.sub(self._scrub_blob, text))

    def scrub_bytes(self, data: bytes) -> bytes:
        """A page's bytes (UTF-8; anything else is treated byte for byte as Latin-1)."""
        try:
            return self.scrub_text(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return self.scrub_text(data.decode("latin-1")).encode("latin-1")

    def scrub_json(self, data: Any) -> Any:
        """Every string of `data` scrubbed (keys kept): a parsed answer under the same map as its pages."""
        if isinstance(data, str):
            return self.scrub_text(data)
        if isinstance(data, dict):
            return {key: self.scrub_json(value) for key, value in data.items()}
        if isinstance(data, list):
            return [self.scrub_json(item) for item in data]
        return data

    def _scrub_blob(self, match: re.Match[str]) -> str:
        """A base64 blob (e.g. a view state) whose decoded text holds a value: decoded, scrubbed, re-encoded."""
        blob = match.group(0)
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            return blob
        codec = "utf-8"
        try:
            decoded = raw.decode(codec)
        except UnicodeDecodeError:
            codec, decoded = "latin-1", raw.decode("latin-1")
        scrubbed = _apply(self._compiled(), decoded)
        return blob if scrubbed == decoded else base64.b64encode(scrubbed.encode(codec)).decode("ascii")

    # --- the map --------------------------------------------------------------------------------------

    def _register(self, kind: Kind, original: str) -> None:
        if kind == "name":
            original = original.casefold()  # one replacement whatever the case; the page's case is kept
        if any(o == original for (_, o) in self._map):
            return
        rng = random.Random(hmac.new(self._salt, f"{kind}\0{original}".encode(), hashlib.sha256).digest())
        for _ in range(50):
            new = self._synthetic(kind, original, rng)
            rendered = date_forms(date.fromisoformat(new))[1] if kind == "date" else new
            if new.casefold() != original.casefold() and new not in self._taken and rendered not in self._corpus:
                break
        else:
            raise ValueError(f"no free synthetic value for a {kind}")
        self._map[(kind, original)] = new
        self._taken.update({new, original})
        self._rules = None

    def _synthetic(self, kind: Kind, original: str, rng: random.Random) -> str:
        if kind == "date":
            day = date.fromisoformat(original)
            # Same year; month and day differ from each other and from the original's month and day, so
            # no written form (month first or day first) of one can be read as the other.
            months = [m for m in range(1, 13) if m not in (day.month, day.day)]
            month = rng.choice(months)
            dom = rng.choice([d for d in range(1, 29) if d not in (day.month, day.day, month)])
            return date(day.year, month, dom).isoformat()
        if kind in ("id", "digits"):
            # An id that extends an id already replaced keeps the relation (dependent = subscriber + suffix).
            base = max((o for (k, o) in self._map if k == "id" and len(o) >= 4 and original.startswith(o)
                        and o != original), key=len, default=None)
            if base is not None and kind == "id":
                return self._map[("id", base)] + original[len(base):]
            letters_too = kind == "id" and not any(c.isdigit() for c in original)
            return "".join(_other_digit(c, rng) if c.isdigit() else _letter(c, rng) if letters_too and c.isalpha()
                           else c for c in original)
        return _pseudo_words(original, rng)

    def _compiled(self) -> list[_Rule]:
        if self._rules is None:
            self._rules = [rule for (kind, original), new in self._map.items() for rule in _rules(kind, original, new)]
        return self._rules




def _field_values(data: Any) -> list[tuple[Kind, str]]:
    found: list[tuple[Kind, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            kind = FIELD_KINDS.get(key) or ("id" if key.endswith("_npi") else None)
            if kind is not None and isinstance(value, (str, int)) and not isinstance(value, bool):
                found.append((kind, str(value)))
            else:
                found.extend(_field_values(value))
    elif isinstance(data, (list, tuple)):
        for item in data:
            found.extend(_field_values(item))
    return found


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    replace: Callable[[str], str]


def _apply(rules: list[_Rule], text: str) -> str:
    """Every rule's matches, the leftmost-longest of overlapping ones kept, replaced in one pass (a
    replacement is never matched again)."""
    spans = sorted(((m.start(), -m.end(), rule) for rule in rules for m in rule.pattern.finditer(text)),
                   key=lambda span: (span[0], span[1]))
    out: list[str] = []
    position = 0
    for start, negative_end, rule in spans:
        if start < position:
            continue
        out.append(text[position:start])
        out.append(rule.replace(text[start:-negative_end]))
        position = -negative_end
    out.append(text[position:])
    return "".join(out)


def _rules(kind: Kind, original: str, new: str) -> list[_Rule]:
    """A rule for every way `original` may stand in a page."""
    if kind in ("id", "digits") and original.isalnum():
        # Printed with or without dashes or spaces between its characters ("ABC-123 456" for ABC123456).
        # A long id is replaced wherever it is, even inside a longer token (a dependent's id, a URL).
        regex = r"[-\s]?".join(re.escape(c) for c in original)
        if len(original) < 6:
            regex = rf"(?<![A-Za-z0-9]){regex}(?![A-Za-z0-9])"
        return [_Rule(re.compile(regex, re.IGNORECASE), partial(_keep_separators, new=new))]
    if kind == "date":
        pairs = list(zip(date_forms(date.fromisoformat(original)), date_forms(date.fromisoformat(new)), strict=True))
    else:
        pairs = [(original, new)]
    before, after = {"name": (r"(?<![A-Za-z])", r"(?![A-Za-z])"), "phrase": (r"(?<![A-Za-z])", r"(?![A-Za-z])"),
                     "date": (r"(?<!\d)", r"(?!\d)"), "digits": (r"(?<!\d)", r"(?!\d)")}.get(kind, ("", ""))
    rules: list[_Rule] = []
    seen: set[str] = set()
    for old_form, new_form in pairs:
        for old_encoded, new_encoded in zip(_encodings(old_form), _encodings(new_form), strict=True):
            if old_encoded.casefold() in seen:
                continue
            seen.add(old_encoded.casefold())
            rules.append(_Rule(re.compile(before + re.escape(old_encoded) + after, re.IGNORECASE),
                               partial(_transfer_case, replacement=new_encoded)))
    return rules


def _keep_separators(found: str, new: str) -> str:
    """An id's replacement laid over the matched text: its separators where the page had them."""
    chars = iter(new)
    return "".join(_transfer_case(c, next(chars)) if c.isalnum() else c for c in found)


def _other_digit(c: str, rng: random.Random) -> str:
    return rng.choice([d for d in "0123456789" if d != c])


def _letter(c: str, rng: random.Random) -> str:
    new = rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
    return new if c.isupper() else new.lower()


def _pseudo_words(original: str, rng: random.Random) -> str:
    """Pronounceable letters in place of every letter (case kept), other digits for digits, the rest kept."""
    out: list[str] = []
    vowel_next = rng.random() < 0.5
    for c in original:
        if c.isalpha():
            new = rng.choice(_VOWELS if vowel_next else _CONSONANTS)
            vowel_next = not vowel_next
            out.append(new.upper() if c.isupper() else new)
        else:
            vowel_next = rng.random() < 0.5 if not c.isdigit() else vowel_next
            out.append(_other_digit(c, rng) if c.isdigit() else c)
    return "".join(out)
