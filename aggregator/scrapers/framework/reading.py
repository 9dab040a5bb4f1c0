"""Generic reading helpers every carrier's page parsers share: records from fields, `Label:` boxes,
ids, quantities, two-digit-year dates with an explicit century rule.

Pure and value-free in their messages (a message names the field, never what the page showed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from lxml.html import HtmlElement
from pydantic import BaseModel, ValidationError

from aggregator.errors import ParseError
from aggregator.models import (
    Adjustment,
    AuthorizationQuery,
    ClaimQuery,
    EligibilityQuery,
    MemberNotFound,
    RejectReason,
    normalize_member_id,
)
from aggregator.scrapers.framework.html import (
    Document,
    clean,
    header_key,
    next_element,
    parse_date,
    parse_money,
    run_together,
    text_of,
)
from aggregator.scrapers.framework.maps import ADJUSTMENT_GROUPS, ADJUSTMENT_REASONS, VocabularyMap

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def build(model: type[M], what: str, **fields: Any) -> M:
    """A record from parsed fields; a record the model refuses is a page we misread (values not shown)."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors())
        raise ParseError(f"{what} does not make a valid record ({problems})") from None


# A claim adjustment as portals print X12 CAS: "CO-45 $120.00" (group code, CARC reason code, amount).
_ADJUSTMENT = re.compile(r"^(?P<group>[A-Za-z]{2})-(?P<reason>[0-9A-Za-z]{1,5}) (?P<amount>\S+)$")


def parse_adjustment(text: str, *, field: str) -> Adjustment:
    """One adjustment written `GROUP-REASON $amount`; codes no map knows are refused, never guessed."""
    match = _ADJUSTMENT.match(text.strip())
    if not match:
        raise ParseError(f"{field}: not written as 'GROUP-REASON $amount'")
    return build(Adjustment, f"{field} adjustment", group=ADJUSTMENT_GROUPS(match.group("group")),
                 reason=ADJUSTMENT_REASONS(match.group("reason")),
                 amount=parse_money(match.group("amount"), field=field))


def parse_amount(text: str, *, field: str) -> Decimal:
    """An amount the domain never has below zero (a charge, a payment, a benefit, a deductible): the
    page's negative, e.g. an accountants' `($3,000.00)`, is read as negative and refused by that rule."""
    amount = parse_money(text, field=field)
    if amount < 0:
        raise ParseError(f"{field}: a negative amount where amounts are never negative")
    return amount


def one_per_key(items: Iterable[T], key: Callable[[T], Hashable], *, what: str) -> list[T]:
    """`items` in page order, each key once. A row printed twice states one fact twice and is kept
    once (whichever copy is read, the answer is the same); two rows for one key that say different
    things contradict each other: a `ParseError` naming `what`, never a choice between them."""
    kept: dict[Hashable, T] = {}
    for item in items:
        found = kept.setdefault(key(item), item)
        if found != item:
            raise ParseError(f"{what}: two rows for the same entry disagree")
    return list(kept.values())


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
    if not text or not (text.isascii() and text.isalnum()):
        raise ParseError(f"{field} is not a number the portal issues")
    return text


def account_number(text: str) -> str:
    """The practice's patient account number as the portal repeats it: letters, digits, dashes."""
    if not text or not text.isascii() or not all(c.isalnum() or c == "-" for c in text):
        raise ParseError("patient account number is not an account number")
    return text


def npi_of(text: str | None) -> str | None:
    """A provider NPI (ten digits) or None where the portal shows none."""
    if text is not None and not (len(text) == 10 and text.isascii() and text.isdigit()):
        raise ParseError("provider NPI is not ten digits")
    return text


def parse_quantity(text: str, *, field: str) -> Decimal:
    """`12` or `1.5` -> Decimal; signs, words and separators raise."""
    value = clean(text)
    # ASCII digits only: other scripts' digits and superscripts are not a portal's quantities.
    if not value or not value.isascii() or not all(c.isdigit() or c == "." for c in value) or value.count(".") > 1:
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
    if len(parts) != 3 or [len(p) for p in parts] != [2, 2, 2] or not all(p.isascii() and p.isdigit() for p in parts):
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
        # A label printed without its word breaks ("MemberID:") is still that label; two labels that
        # run together alike cannot be told apart and are not read that way.
        together: dict[str, list[str]] = {}
        for key in self.values:
            together.setdefault(run_together(key), []).append(key)
        self._run_together = {k: keys[0] for k, keys in together.items() if len(keys) == 1}
        self._doc = doc
        self.page = page
        self.absent = absent
        self._dates = dates or (lambda text, field: parse_date(text, field=field))

    def _cell(self, label: str) -> HtmlElement | None:
        key = header_key(label)
        if key not in self.values:
            key = self._run_together.get(run_together(key), key)
        found = self.values.get(key)
        return found if found is not None else self._uncoloned(key)

    def _uncoloned(self, key: str) -> HtmlElement | None:
        """The value of a label printed without its colon: a cell saying exactly the label (the asked-for
        words only, so an unknown label is never taken for it) followed by a <td> value cell. A column
        header is followed by another header, never by a value, so it does not count. Twice is an error."""
        found = [value for cell in self._doc.elements_with_word(key.split(" ", 1)[0])
                 if cell.tag in ("td", "th") and run_together(header_key(text_of(cell))) == run_together(key)
                 and (value := next_element(cell)) is not None and value.tag == "td"]
        if len(found) > 1:
            raise ParseError(f"{self.page}: a label appears twice on the page")
        return found[0] if found else None

    def has(self, label: str) -> bool:
        return self._cell(label) is not None

    def text(self, label: str) -> str:
        cell = self._cell(label)
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

    def amount(self, label: str) -> Decimal:
        """Money that is never negative (`parse_amount`)."""
        return parse_amount(self.text(label), field=label.rstrip(":"))

    def optional_amount(self, label: str) -> Decimal | None:
        value = self.optional(label)
        return None if value is None else parse_amount(value, field=label.rstrip(":"))


def columns_named(headers: list[str], fixed: tuple[str, ...], vocabulary: VocabularyMap[T], wanted: set[T],
                  *, table: str) -> dict[str, T]:
    """Headers that name one of `wanted` (e.g. the two network tiers), each exactly once.

    Columns outside `fixed` that the vocabulary does not know are informational and ignored, unless a
    wanted value is missing: then an unknown header may be a renamed column, and it is reported as
    unmapped vocabulary rather than guessed at.
    """
    fixed_keys = {header_key(f) for f in fixed}
    # A header that lost its word breaks ("INNETWORK") is the one vocabulary entry it runs together to.
    run_together_known = {run_together(k): k for k in vocabulary.known()}

    def entry(header: str) -> str:
        return header if header in vocabulary else run_together_known.get(run_together(header), header)

    named = {h: vocabulary(entry(h)) for h in headers if h not in fixed_keys and entry(h) in vocabulary}
    if sorted(map(str, named.values())) == sorted(map(str, wanted)) and len(named) == len(wanted):
        return named
    unknown = [h for h in headers if h not in fixed_keys and entry(h) not in vocabulary]
    if unknown:
        vocabulary(unknown[0])  # raises UnmappedValue
    raise ParseError(f"{table} table does not have exactly one column for each of its {len(wanted)} kinds")
