"""Reading single-page apps: the JSON the page loaded kept with the evidence, definition lists,
accordions, and network columns of benefit grids.

A single-page app draws its screens from its own API. The adapter parses what the screen shows (the
rendered DOM, captured after every accordion is open, so the screenshot shows it too) and keeps the
API responses the page loaded inside the evidence HTML (`api_appendix`), so the parser can check that
the screen shows every item the API sent (`api_snapshots`). Pure functions, value-free messages.
"""

from __future__ import annotations

import html as html_lib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from lxml.html import HtmlElement

from aggregator.browser import ApiResponse
from aggregator.errors import ParseError
from aggregator.scrapers.framework.html import Document, header_key, parse_date, text_of
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
            dd = dt.getnext()
            if dd is None or dd.tag != "dd":
                raise ParseError(f"{name}: a label without its value")
            key = header_key(text_of(dt))
            if key in values:
                raise ParseError(f"{name}: the label '{text_of(dt)}' appears twice")
            values[key] = dd
    return values


class Definitions(Labels):
    """`Labels` (text / optional / day / money readers) over definition lists instead of `Label:` cells."""

    def __init__(self, scope: HtmlElement, page: str, *, absent: str,
                 dates: Callable[[str, str], date] | None = None) -> None:
        self.values = definitions(scope, name=page)
        self.page = page
        self.absent = absent
        self._dates = dates or (lambda text, field: parse_date(text, field=field))


@dataclass(frozen=True)
class Accordion:
    title: str
    expanded: bool
    panel: HtmlElement | None  # the element the toggle controls; None when the page lacks it


def accordions(scope: HtmlElement, doc: Document) -> list[Accordion]:
    """Every disclosure toggle (`button[aria-controls][aria-expanded]`) in `scope`, with its panel."""
    found = []
    for button in scope.cssselect("button[aria-controls][aria-expanded]"):
        controlled = doc.select(f'[id="{button.get("aria-controls")}"]')
        found.append(Accordion(text_of(button), button.get("aria-expanded") == "true",
                               controlled[0] if len(controlled) == 1 else None))
    return found


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

