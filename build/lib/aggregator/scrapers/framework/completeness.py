"""A list or table is trusted only when the page shows where it ends.

A page cut short still parses: lxml closes whatever was left open, so a table that lost its last rows
looks like a shorter table. What a truncation cannot fake is what the portal always draws *after* the
list (a table footer, a summary row, the page footer) or a count the page states beside it. Each page
class declares which of those proves its list complete; these pure checks refuse the page otherwise.
Reasons name the list, never a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.scrapers.framework.html import Document

# Chromium serialises every captured page through the closing tag; anything else was cut in transit.
_HTML_END = re.compile(r"</html\s*>\Z", re.IGNORECASE)


def require_whole_page(html: str) -> None:
    """The captured HTML ends with `</html>` (after trailing whitespace), as every Chromium capture does."""
    if not _HTML_END.search(html.rstrip()[-32:]):
        raise ParseError("the captured page ends early")


def _root(doc_or_root: Document | HtmlElement) -> HtmlElement:
    return doc_or_root.root if isinstance(doc_or_root, Document) else doc_or_root


def marker_after(doc_or_root: Document | HtmlElement, anchor: HtmlElement, marker_selector: str) -> bool:
    """Whether an element matching the CSS `marker_selector` lies inside `anchor` or after it in
    document order (not before it, and not an element that merely contains it)."""
    markers = _root(doc_or_root).cssselect(marker_selector)
    if not markers:
        return False
    later = anchor.xpath("descendant::* | following::*")
    wanted = set(markers)
    return any(element in wanted for element in later)


def require_after(doc_or_root: Document | HtmlElement, anchor: HtmlElement, marker_selector: str, *,
                  what: str) -> None:
    """ParseError unless the end marker (`marker_selector`) is drawn inside or after `anchor`: e.g. the
    table's footer row, or the portal footer every page draws below its content."""
    if not marker_after(doc_or_root, anchor, marker_selector):
        raise ParseError(f"{what} is cut short: its end marker is missing")


def require_count(stated: int | None, rows: int, *, what: str) -> None:
    """ParseError when the count the page states beside a list ("12 claim(s)") disagrees with the rows
    read, or when a count the page always shows is missing (`stated` None)."""
    if stated is None:
        raise ParseError(f"{what} does not state how many entries it has")
    if stated != rows:
        raise ParseError(f"{what} states a count that disagrees with the rows shown")


@dataclass(frozen=True)
class EndsWith:
    """Declared on a page class: the list starting at an anchor is complete when `selector` matches
    an element inside or after it. `complete = EndsWith("#footer", what="authorization list")`."""

    selector: str
    what: str

    def check(self, doc: Document | HtmlElement, anchor: HtmlElement | None = None) -> None:
        """Without an anchor the whole page is the list: the marker must simply be present."""
        root = _root(doc)
        require_after(root, anchor if anchor is not None else root, self.selector, what=self.what)


@dataclass(frozen=True)
class StatesCount:
    """Declared on a page class: the list is complete when the count the page states equals the rows."""

    what: str

    def check(self, stated: int | None, rows: int) -> None:
        require_count(stated, rows, what=self.what)
