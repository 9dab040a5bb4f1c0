"""Generic reading helpers every carrier's page parsers share: records from fields, `Label:` boxes,
ids, quantities, two-digit-year dates with an explicit century rule.

Pure and value-free in their messages (a message names the field, never what the page showed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aggregator.errors import ParseError
from aggregator.models import (
    AuthorizationQuery,
    ClaimQuery,
    EligibilityQuery,
    MemberNotFound,
    RejectReason,
    normalize_member_id,
)
from aggregator.scrapers.framework.html import Document, clean, header_key, parse_date, parse_money, text_of
from aggregator.scrapers.framework.maps import VocabularyMap

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def build(model: type[M], what: str, **fields: Any) -> M:
    """A record from parsed fields; a record the model refuses is a page we misread (values not shown)."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors())
        raise ParseError(f"{what} does not make a valid record ({problems})") from None


def member_id_of(text: str, *, field: str) -> str:
    try:
        return normalize_member_id(text)
    except ValueError:
        raise ParseError(f"{field} is not a member id") from None


def member_not_found(message: str | None, reasons: Mapping[str, RejectReason],
                     query: EligibilityQuery | AuthorizationQuery | ClaimQuery, carrier: str) -> MemberNotFound:
    """A search form re-rendered with `message`: a definite "no such member" (`reasons`: the portal's
    sentences, keyed by `header_key`), or an error."""
    if message is None:
        raise ParseError("the search page came back without a result or a message")
    reason = reasons.get(header_key(message))
    if reason is None:
        # A validation message means we sent something the portal did not accept: our bug, not a result.
        raise ParseError("the portal refused the search with a message the adapter does not know")
    return MemberNotFound(carrier=carrier, query=query, reject_reason=reason)


def portal_number(text: str, *, field: str) -> str:
    """A number the portal issues (authorization, claim, reference): letters and digits only."""
    if not text or not text.isalnum():
        raise ParseError(f"{field} is not a number the portal issues")
    return text


def account_number(text: str) -> str:
    """The practice's patient account number as the portal repeats it: letters, digits, dashes."""
    if not text or not all(c.isalnum() or c == "-" for c in text):
        raise ParseError("patient account number is not an account number")
    return text


def npi_of(text: str | None) -> str | None:
    """A provider NPI (ten digits) or None where the portal shows none."""
    if text is not None and not (len(text) == 10 and text.isdigit()):
        raise ParseError("provider NPI is not ten digits")
    return text


def parse_quantity(text: str, *, field: str) -> Decimal:
    """`12` or `1.5` -> Decimal; signs, words and separators raise."""
    value = clean(text)
    if not value or not all(c.isdigit() or c == "." for c in value) or value.count(".") > 1:
        raise ParseError(f"{field}: not a quantity")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ParseError(f"{field}: not a quantity") from None


@dataclass(frozen=True)
class CenturyWindow:
    """The explicit rule that turns a two-digit year into a year: the one year ending in those two
    digits inside the 100 years that end `years_ahead` years after the reference year.

    Dates of birth use `years_ahead=0` (nobody is born after the reference date's year); service,
    coverage and claim dates use a window reaching a little into the future.
    """

    reference: date
    years_ahead: int

    def year(self, two_digits: int) -> int:
        if not 0 <= two_digits <= 99:
            raise ValueError("a two-digit year is 0..99")
        last = self.reference.year + self.years_ahead
        return last - ((last - two_digits) % 100)


def parse_short_date(text: str, *, field: str, window: CenturyWindow) -> date:
    """`MM/DD/YY` -> date, the century chosen by `window`; anything else raises (four-digit years too)."""
    value = clean(text)
    parts = value.split("/")
    if len(parts) != 3 or [len(p) for p in parts] != [2, 2, 2] or not all(p.isdigit() for p in parts):
        raise ParseError(f"{field}: not a date written MM/DD/YY")
    month, day, year = (int(p) for p in parts)
    try:
        return date(window.year(year), month, day)
    except ValueError:
        raise ParseError(f"{field}: not a calendar date") from None


class Labels:
    """A page's `Label:` -> value cells, read by label words (case and spacing ignored).

    `absent` is the word the portal prints for "no value" (`N/A`, `--`, ...): `optional*` readers turn
    it into None, the others treat it as a value. `dates` reads the portal's date format.
    """

    def __init__(self, doc: Document, page: str, *, absent: str, dates: Callable[[str, str], date] | None = None) -> None:
        self.values = doc.labelled_values()
        self.page = page
        self.absent = absent
        self._dates = dates or (lambda text, field: parse_date(text, field=field))

    def has(self, label: str) -> bool:
        return header_key(label) in self.values

    def text(self, label: str) -> str:
        cell = self.values.get(header_key(label))
        if cell is None:
            raise ParseError(f"{self.page} lacks '{label}'")
        value = text_of(cell)
        if not value:
            raise ParseError(f"{self.page}: '{label}' is empty")
        return value

    def optional(self, label: str) -> str | None:
        """A mandatory label whose value may be the portal's "no value" word."""
        value = self.text(label)
        return None if header_key(value) == header_key(self.absent) else value

    def day(self, label: str) -> date:
        return self._dates(self.text(label), label.rstrip(":"))

    def optional_day(self, label: str) -> date | None:
        value = self.optional(label)
        return None if value is None else self._dates(value, label.rstrip(":"))

    def money(self, label: str) -> Decimal:
        return parse_money(self.text(label), field=label.rstrip(":"))

    def optional_money(self, label: str) -> Decimal | None:
        value = self.optional(label)
        return None if value is None else parse_money(value, field=label.rstrip(":"))


def columns_named(headers: list[str], fixed: tuple[str, ...], vocabulary: VocabularyMap[T], wanted: set[T],
                  *, table: str) -> dict[str, T]:
    """Headers that name one of `wanted` (e.g. the two network tiers), each exactly once.

    Columns outside `fixed` that the vocabulary does not know are informational and ignored, unless a
    wanted value is missing: then an unknown header may be a renamed column, and it is reported as
    unmapped vocabulary rather than guessed at.
    """
    fixed_keys = {header_key(f) for f in fixed}
    named = {h: vocabulary(h) for h in headers if h not in fixed_keys and h in vocabulary}
    if sorted(map(str, named.values())) == sorted(map(str, wanted)) and len(named) == len(wanted):
        return named
    unknown = [h for h in headers if h not in fixed_keys and h not in vocabulary]
    if unknown:
        vocabulary(unknown[0])  # raises UnmappedValue
    raise ParseError(f"{table} table does not have exactly one column for each of its {len(wanted)} kinds")
