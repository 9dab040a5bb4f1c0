"""The `pivot` layout (Prairie Mutual), and its v2.

- `table#accumulators`: `Benefit | Level | Period | In Network | Out of Network`, the plan-level lines
  (deductible, out-of-pocket) with a column per network; `—` where a network has no such line.
- then per service: an `h3` (the service), `Prior authorization: Required | Not required`, and a table
  `Benefit | In Network | Out of Network` with rows `Co-Payment`, `Co-Insurance`, `Visit Limit (Calendar
  Year)`, `Visits Remaining`. A network where the service is not covered reads `Not Covered` in every row
  (one non-covered line); `—` where that network has no such line; a service covered on no network has
  one row `Coverage`.

v2 prints labels, headers and service names in capitals, puts the out-of-network column first and adds a
`Notes` column: all cosmetic here, since headers are read by name (the network columns by what they
name, whatever their order) and words without regard to case. For one plan v2 writes the plan's share in
the co-insurance cells (`Plan pays 80%`): the same label, the opposite meaning, refused (`common`).
"""

from __future__ import annotations

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.models import AuthIndicator, BenefitKind, BenefitLine, NetworkIndicator, ServiceType
from aggregator.scrapers.framework import Document, build, clean, columns_named, header_key, read_table, text_of

from .. import maps
from ..pages import HEADING
from .common import benefit_line

NETWORKS = {NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK}
ACCUMULATOR_HEADERS = ("Benefit", "Level", "Period")
SERVICE_HEADERS = ("Benefit",)


def read_benefits(doc: Document) -> list[BenefitLine]:
    accumulators = doc.table_with_headers(*ACCUMULATOR_HEADERS, field="plan accumulators")
    lines = _accumulators(accumulators)
    services = [t for t in doc.tables_with_headers(*SERVICE_HEADERS) if t is not accumulators]
    if not services:
        raise ParseError("the page shows no service benefits for active coverage")
    seen: set[ServiceType] = set()
    for table in services:
        service, prior_auth = _service_heading(table)
        if service in seen:
            raise ParseError("a service is drawn twice")
        seen.add(service)
        lines += _service_lines(table, service, prior_auth)
    return lines


def _accumulators(table: HtmlElement) -> list[BenefitLine]:
    headers, rows = read_table(table, name="plan accumulators", required=ACCUMULATOR_HEADERS)
    networks = columns_named(headers, ACCUMULATOR_HEADERS, maps.NETWORKS, NETWORKS, table="plan accumulators")
    lines = []
    for row in rows:
        kind = maps.BENEFITS(row.text("Benefit"))
        if kind not in (BenefitKind.DEDUCTIBLE, BenefitKind.OUT_OF_POCKET):
            raise ParseError("the plan accumulators list a benefit that is not an accumulator")
        for header, network in networks.items():
            cell = row.text(header)
            if cell == maps.NO_VALUE:
                continue
            lines.append(benefit_line({
                "service_type": ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE, "kind": kind, "network": network,
                "coverage_level": maps.LEVELS(row.text("Level")), "time_period": maps.PERIODS(row.text("Period")),
            }, cell))
    return lines


def _service_heading(table: HtmlElement) -> tuple[ServiceType, AuthIndicator]:
    """The service a table is about (the last heading before it, of whatever level) and its
    prior-authorization line, which must sit between that heading and the table."""
    headings = table.xpath(f"preceding::*[{HEADING}][1]")
    notes = table.xpath("preceding::p[1]")
    if len(headings) != 1 or len(notes) != 1 or headings[0] not in notes[0].xpath(f"preceding::*[{HEADING}][1]"):
        raise ParseError("a service table is not under its service heading and prior-authorization line")
    label, colon, said = text_of(notes[0]).partition(":")
    if not colon or header_key(label) != header_key(maps.PIVOT_PRIOR_AUTH_LABEL):
        raise ParseError("a service's prior-authorization line does not say what it states")
    return maps.SERVICE_TYPES(text_of(headings[0])), maps.PIVOT_PRIOR_AUTH(clean(said))


def _service_lines(table: HtmlElement, service: ServiceType, prior_auth: AuthIndicator) -> list[BenefitLine]:
    headers, rows = read_table(table, name="service benefits", required=SERVICE_HEADERS)
    networks = columns_named(headers, SERVICE_HEADERS, maps.NETWORKS, NETWORKS, table="service benefits")
    if not rows:
        raise ParseError("a service table shows no row")
    labels = [row.text("Benefit") for row in rows]
    nowhere = [label for label in labels if header_key(label) == header_key(maps.PIVOT_NOT_COVERED_ROW)]
    if nowhere and len(labels) != 1:
        raise ParseError("a service reads 'not covered anywhere' beside benefits")
    kinds = [] if nowhere else [maps.PIVOT_ROWS(label) for label in labels]
    if len(set(kinds)) != len(kinds):
        raise ParseError("a service table repeats a row")
    lines: list[BenefitLine] = []
    for header, network in networks.items():
        cells = [row.text(header) for row in rows]
        not_covered = [header_key(c) == header_key(maps.NOT_COVERED) for c in cells]
        if any(not_covered) or nowhere:
            if not all(not_covered):
                raise ParseError("a network column reads 'Not Covered' in some rows and benefits in others")
            lines.append(build(BenefitLine, "non-covered line", service_type=service, kind=BenefitKind.NON_COVERED,
                               network=network, prior_auth=prior_auth))
            continue
        for (kind, period), cell in zip(kinds, cells, strict=True):
            if cell == maps.NO_VALUE:
                continue
            lines.append(benefit_line({"service_type": service, "kind": kind, "network": network,
                                       "time_period": period, "prior_auth": prior_auth}, cell))
    return lines
