"""The `sections` layout (Harborview Health): one section per network.

Each `section.network` has its network as an `h2` and a table `Service | Benefit | Level | Period | Value |
Authorization Required`, one row per benefit line. A table's network is the heading (of whatever level) of
its own section (or, without a section, the last heading drawn before it); each network is drawn at most
once.
"""

from __future__ import annotations

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.models import BenefitLine, NetworkIndicator
from aggregator.scrapers.framework import Document, read_table, text_of

from .. import maps
from ..pages import HEADING
from .common import benefit_line, optional_word

HEADERS = ("Service", "Benefit", "Level", "Period", "Value", "Authorization Required")


def read_benefits(doc: Document) -> list[BenefitLine]:
    tables = doc.tables_with_headers(*HEADERS)
    if not tables:
        raise ParseError("the page shows no benefit table for active coverage")
    lines: list[BenefitLine] = []
    seen: set[NetworkIndicator] = set()
    for table in tables:
        network = maps.NETWORKS(_heading(table))
        if network in seen:
            raise ParseError("a network's benefits are drawn twice")
        seen.add(network)
        _, rows = read_table(table, name="network benefits", required=HEADERS)
        if not rows:
            raise ParseError("a network section shows no benefit")
        lines += [benefit_line({
            "service_type": maps.SERVICE_TYPES(row.text("Service")),
            "kind": maps.BENEFITS(row.text("Benefit")),
            "network": network,
            "coverage_level": optional_word(row.text("Level"), maps.LEVELS),
            "time_period": optional_word(row.text("Period"), maps.PERIODS),
            "prior_auth": maps.PRIOR_AUTH(row.text("Authorization Required")),
        }, row.text("Value")) for row in rows]
    return lines


def _heading(table: HtmlElement) -> str:
    sections = table.xpath("ancestor::section[1]")
    headings = sections[0].xpath(f".//*[{HEADING}]") if sections else table.xpath(f"preceding::*[{HEADING}][1]")
    if len(headings) != 1:
        raise ParseError("a benefit table is not under one network heading")
    return text_of(headings[0])
