"""Reading single-page apps: the JSON the page loaded kept with the evidence, screen and data agreeing,
definition lists, accordions, and network columns of benefit grids.

A single-page app draws its screens from its own API. The adapter parses what the screen shows (the
rendered DOM, captured after every accordion is open, so the screenshot shows it too) and keeps the
API responses the page loaded inside the evidence HTML (`api_appendix`, read back by `api_snapshot`).
Every value a record takes from the screen is then compared with the data it was drawn from
(`Agreement`): the adapter declares, per section, how a row is keyed and where the data holds each
value; the framework pairs rows by key and compares both ways. Pure functions, value-free messages.
"""

from __future__ import annotations

import html as html_lib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from lxml.html import HtmlElement

from aggregator.browser import ApiResponse
from aggregator.errors import AggregatorError, ParseError
from aggregator.scrapers.framework.html import (
    Document,
    clean,
    header_key,
    next_element,
    parse_date,
    text_of,
)
from aggregator.scrapers.framework.maps import VocabularyMap
from aggregator.scrapers.framework.reading import Labels

SNAPSHOT_ATTRIBUTE = "data-aggregator-api"  # marks a kept API response inside captured HTML
T = TypeVar("T")


# --- the JSON the page loaded ---------------------------------------------------------------------

def api_appendix(*responses: ApiResponse) -> str:
    """HTML to store with a capture: one inert JSON script element per response, in order."""
    parts = []
    for response in responses:
        body = json.dumps(response.body, sort_keys=True).replace("<", "\\u003c")  # never closes the element
        parts.append(f'<script type="application/json" {SNAPSHOT_ATTRIBUTE}="{html_lib.escape(response.url)}" '
                     f'data-status="{response.status}">{body}</script>')
    return "".join(parts)


@dataclass(frozen=True)
class ApiSnapshot:
    url: str
    status: int
    body: Any


def api_snapshots(doc: Document) -> list[ApiSnapshot]:
    found = []
    for element in doc.select(f"script[{SNAPSHOT_ATTRIBUTE}]"):
        try:
            found.append(ApiSnapshot(element.get(SNAPSHOT_ATTRIBUTE) or "", int(element.get("data-status") or 0),
                                     json.loads(element.text or "null")))
        except ValueError:
            raise ParseError("a kept API response is not readable JSON") from None
    return found


def api_snapshot(doc: Document, path_part: str) -> ApiSnapshot:
    """The one kept response whose URL contains `path_part` (exactly one, or the page is not the one captured)."""
    found = [s for s in api_snapshots(doc) if path_part in s.url]
    if len(found) != 1:
        raise ParseError(f"expected the page's '{path_part}' response with the evidence, found {len(found)}")
    return found[0]


# --- the screen agrees with the data ---------------------------------------------------------------

def same(value: Any) -> Any:
    return value


def text(value: Any) -> str:
    """A string of the data as a screen shows it (whitespace collapsed)."""
    if not isinstance(value, str):
        raise TypeError("not a string")
    return clean(value)


def money(value: Any) -> Decimal:
    """An amount the API sends as a string ("25.00") or a number."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError("not an amount")
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ValueError("not an amount")
    return amount.quantize(Decimal("0.01"))


def number(value: Any) -> Decimal:
    """A count or quantity (units, visits)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError("not a number")
    found = Decimal(str(value))
    if not found.is_finite():
        raise ValueError("not a number")
    return found


def iso_day(value: Any) -> date:
    if not isinstance(value, str):
        raise TypeError("not a date")
    return date.fromisoformat(value)


def optional(read: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """`read` for a value the data may leave out (null): None, as the screen's "no value" word reads."""
    return lambda value: None if value is None else read(value)


def coded(vocabulary: VocabularyMap[T]) -> Callable[[Any], T]:
    """A code of the API read through the adapter's map of the API's codes (an unknown code raises)."""
    def read(value: Any) -> T:
        if not isinstance(value, str):
            raise TypeError("not a code")
        return vocabulary(value)
    return read


@dataclass(frozen=True)
class Shown:
    """One value a record takes from the screen and where the data holds it: `field` is the record's
    attribute (dotted into nested models, "member.member_id"), `data` the item's key (dotted,
    "totals.billed"; "" for the whole item when the value is derived from several keys), `read` turns
    the data's value into the record's type and vocabulary and raises on anything else."""

    field: str
    data: str
    read: Callable[[Any], Any] = same


@dataclass(frozen=True)
class Nested:
    """Rows inside a row: the record's attribute holding them, the item's key holding the data's rows."""

    field: str
    data: str
    agreement: Agreement


@dataclass(frozen=True)
class Agreement:
    """A section of the screen and the data it was drawn from.

    `key`: the fields that identify a row (each key once on each side); empty when a row is only its
    values (adjustments: the rows pair as a multiset). A row on one side only, a value that differs, or
    data that is missing or unreadable is a `ParseError` naming the section and the field.
    """

    section: str
    values: tuple[Shown, ...]
    key: tuple[str, ...] = ()
    nested: tuple[Nested, ...] = ()

    def one(self, record: Any, item: Any) -> None:
        """One record (or a screen row as a mapping) agrees with one data item, nested rows included."""
        shown, sent = self._shown(record), self._sent(item)
        for name in shown:
            if shown[name] != sent[name]:
                raise ParseError(f"{self.section}: the screen's '{_words(name)}' disagrees with the data")
        for inner in self.nested:
            inner.agreement.rows(_field(record, inner.field), self._items(item, inner))

    def rows(self, records: Iterable[Any], items: Any) -> None:
        """Pair screen rows with data rows by key and compare both ways."""
        if not isinstance(items, (list, tuple)):
            raise ParseError(f"{self.section}: the data kept with the page has no list of rows")
        records, items = list(records), list(items)
        if not self.key:
            shown = Counter(tuple(self._shown(r).values()) for r in records)
            sent = Counter(tuple(self._sent(i).values()) for i in items)
            _one_side(self.section, shown, sent)
            return
        by_key = self._keyed([(self._key(self._shown(r)), r) for r in records], "screen")
        data = self._keyed([(self._key(self._sent(i)), i) for i in items], "data")
        _one_side(self.section, Counter(by_key.keys()), Counter(data.keys()))
        for key, record in by_key.items():
            self.one(record, data[key])

    def _key(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] for name in self.key)

    def _keyed(self, pairs: list[tuple[tuple[Any, ...], Any]], side: str) -> dict[tuple[Any, ...], Any]:
        found: dict[tuple[Any, ...], Any] = {}
        for key, row in pairs:
            if key in found:
                raise ParseError(f"{self.section}: two rows of the {side} share one key")
            found[key] = row
        return found

    def _shown(self, record: Any) -> dict[str, Any]:
        try:
            return {v.field: _field(record, v.field) for v in self.values}
        except (AttributeError, KeyError):
            raise ParseError(f"{self.section}: a row of the screen lacks a declared field") from None

    def _sent(self, item: Any) -> dict[str, Any]:
        values = {}
        for value in self.values:
            try:
                values[value.field] = value.read(_path(item, value.data))
            except (AggregatorError, LookupError, TypeError, ValueError, ArithmeticError):
                raise ParseError(f"{self.section}: the data's '{_words(value.field)}' is missing or "
                                 f"unreadable") from None
        return values

    def _items(self, item: Any, inner: Nested) -> Any:
        try:
            return _path(item, inner.data)
        except (LookupError, TypeError):
            raise ParseError(f"{inner.agreement.section}: the data kept with the page lacks its rows") from None


def _one_side(section: str, shown: Counter[Any], sent: Counter[Any]) -> None:
    if sent - shown:
        raise ParseError(f"{section}: a row the data holds is missing from the screen")
    if shown - sent:
        raise ParseError(f"{section}: a row on the screen is not in the data")


def _field(record: Any, dotted: str) -> Any:
    value = record
    for part in dotted.split("."):
        value = value[part] if isinstance(value, Mapping) else getattr(value, part)
    return value


def _path(item: Any, dotted: str) -> Any:
    value = item
    for part in filter(None, dotted.split(".")):
        if not isinstance(value, Mapping):
            raise TypeError("not an object")
        value = value[part]
    return value


def _words(field: str) -> str:
    return field.rsplit(".", 1)[-1].replace("_", " ")


# --- definition lists and accordions --------------------------------------------------------------

def _in_region(element: HtmlElement, scope: HtmlElement) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not scope:
        if parent.get("role") == "region":
            return True
        parent = parent.getparent()
    return False


def definitions(scope: HtmlElement, *, name: str) -> dict[str, HtmlElement]:
    """`<dt>` label -> its `<dd>` in `scope`'s definition lists, leaving out those inside nested
    regions (accordion panels, read on their own). A label twice is an error."""
    values: dict[str, HtmlElement] = {}
    for dl in scope.iter("dl"):
        if _in_region(dl, scope):
            continue
        for dt in dl.iter("dt"):
            dd = next_element(dt)
            if dd is None or dd.tag != "dd":
                raise ParseError(f"{name}: a label without its value")
            key = header_key(text_of(dt))
            if key in values:
                raise ParseError(f"{name}: the label '{text_of(dt)}' appears twice")
            values[key] = dd
    return values


class Definitions(Labels):
    """A scope's definition lists read by label words (case, spacing, hyphens and footnote markers ignored,
    as `header_key` compares): the `Labels` readers (text / optional / day / money) over `<dt>`/`<dd>`.

    `absent` is the word the app prints for "no value": `optional*` readers turn it into None, the others
    treat it as a value. `dates` reads the app's date format. Messages name the label, never the value.
    """

    def __init__(self, scope: HtmlElement, page: str, *, absent: str,
                 dates: Callable[[str, str], date] | None = None) -> None:
        # Not Labels.__init__: the values come from <dt>/<dd> pairs in `scope`, not `Label:` cells.
        self.values = definitions(scope, name=page)
        self.page = page
        self.absent = absent
        self._dates = dates or (lambda text, field: parse_date(text, field=field))

    def _cell(self, label: str) -> HtmlElement | None:
        return self.values.get(header_key(label))


TOGGLES = "button[aria-controls][aria-expanded]"


@dataclass(frozen=True)
class Accordion:
    title: str
    expanded: bool
    panel: HtmlElement | None  # the element the toggle controls; None when the page lacks it
    # What the closed disclosure shows beside its title (e.g. "Jul 4, 2025 - Jul 4, 2025 · Paid"): a
    # second statement of values the panel holds, "" when it shows nothing else.
    summary: str = ""


def accordions(scope: HtmlElement, doc: Document) -> list[Accordion]:
    """Every disclosure toggle (`button[aria-controls][aria-expanded]`) in `scope`, with its panel."""
    found = []
    for button in scope.cssselect(TOGGLES):
        panel = _panel_of(button, doc.root)
        found.append(Accordion(text_of(button), header_key(button.get("aria-expanded") or "") == "true",
                               panel, _summary(button, panel)))
    return found


def _summary(button: HtmlElement, panel: HtmlElement | None) -> str:
    """The text of the toggle's own disclosure outside its heading and its panel."""
    for ancestor in button.iterancestors():
        if len(ancestor.cssselect(TOGGLES)) > 1:
            return ""
        if panel is not None and panel in ancestor.iterdescendants():
            parts = [text_of(child) for child in ancestor if isinstance(child.tag, str)
                     and child is not panel and panel not in child.iterdescendants()
                     and child is not button and button not in child.iterdescendants()]
            return clean(" ".join(parts))
    return ""


def _panel_of(button: HtmlElement, root: HtmlElement) -> HtmlElement | None:
    """The element the toggle controls: by the id it names; when a release renamed that id, the one region
    labelled by the toggle, or the one region of the toggle's own disclosure (an ancestor holding this
    toggle and no other). None when none of these is unambiguous."""
    controlled = root.xpath("//*[@id=$id]", id=button.get("aria-controls") or "")
    if len(controlled) == 1:
        return controlled[0]
    if button.get("id"):
        labelled = root.xpath("//*[@aria-labelledby=$id]", id=button.get("id"))
        if len(labelled) == 1:
            return labelled[0]
    for ancestor in button.iterancestors():
        toggles = ancestor.cssselect(TOGGLES)
        if len(toggles) > 1:
            return None
        regions = ancestor.cssselect("[role=region]")
        if regions:
            return regions[0] if len(regions) == 1 else None
    return None


def opened_panel(item: Accordion, *, name: str) -> HtmlElement:
    """The panel of an accordion that must have been opened before capture (the screenshot shows it)."""
    if not item.expanded or item.panel is None or item.panel.get("hidden") is not None:
        raise ParseError(f"{name}: a section was captured closed")
    if not text_of(item.panel):
        raise ParseError(f"{name}: a section was captured before its content arrived")
    return item.panel


# --- benefit grids -------------------------------------------------------------------------------

def mapped_columns(headers: list[str], fixed: tuple[str, ...], vocabulary: VocabularyMap[T], wanted: set[T],
                   *, table: str, informational: tuple[str, ...] = ()) -> dict[str, T]:
    """The columns whose header `vocabulary` maps (e.g. the network tiers), each of `wanted` once.

    Other headers are informational when listed in `informational`; any other header, while a wanted
    column is missing, may be a renamed one: it is reported as unmapped vocabulary, never guessed.
    """
    skip = {header_key(h) for h in (*fixed, *informational)}
    columns = {h: vocabulary(h) for h in headers if h not in skip and h in vocabulary}
    if sorted(map(str, columns.values())) == sorted(map(str, wanted)):
        return columns
    for header in headers:
        if header not in skip and header not in vocabulary:
            vocabulary(header)  # raises UnmappedValue
    raise ParseError(f"{table} table does not have each expected column exactly once")

