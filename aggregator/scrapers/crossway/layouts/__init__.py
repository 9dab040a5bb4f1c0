"""Per-payer result layouts of the Crossway hub: one module per layout, each reading the benefit tables
the hub draws for its payers' eligibility answers (the member summary and the prior-authorization list
around them are the same for every payer, read in `..eligibility`).

    sections   Harborview Health: a section per network, one row per benefit line
    pivot      Prairie Mutual: plan accumulators, then a table per service with a column per network (+ v2)
    standard   Ridgeline Mutual: the hub's own 271 rendering, one row per benefit line

Which layout a page is drawn in follows from the payer the page says it is about (its `data-payer` mark),
never from its look: a page of another payer is never read with a payer's layout.

Each layout also names the header rows of the tables it draws, so the answer page can tell where its
benefit tables are (the prior-authorization list is drawn after them; an inactive coverage shows none)
without relying on ids or on every `<table>` being one of them (a site notice may be a table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml.html import HtmlElement

from aggregator.models import BenefitLine
from aggregator.scrapers.framework import Document

from . import pivot, sections, standard


@dataclass(frozen=True)
class Layout:
    read: Callable[[Document], list[BenefitLine]]
    headers: tuple[tuple[str, ...], ...]  # the header rows (the headers each holds) of the layout's tables

    def tables(self, doc: Document) -> list[HtmlElement]:
        """The layout's benefit tables on the page, in page order."""
        # Through the document, which reads each header row once for every look (and for the layout's own).
        found = {table for wanted in self.headers for table in doc.tables_with_headers(*wanted)}
        return [table for table in doc.root.iter("table") if table in found]


LAYOUTS: dict[str, Layout] = {
    "harborview": Layout(sections.read_benefits, (sections.HEADERS,)),
    "prairie": Layout(pivot.read_benefits, (pivot.ACCUMULATOR_HEADERS, pivot.SERVICE_HEADERS)),
    "ridgeline": Layout(standard.read_benefits, (standard.HEADERS,)),
}
