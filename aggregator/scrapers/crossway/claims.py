"""The claim status pages of the hub (every payer alike): the results list and each claim's detail.

Completeness: the results list states its count (`N claim(s) found.`) and shows every claim on one page,
so the rows read must be that many; the detail's totals are checked against its lines
(`framework.checks.check_claim_amounts`). Consistency: the results repeat the search (member id, date of
birth, service dates), which must be the search made; each detail page says what its row says (the
adapter checks `ClaimListRow.shows`); the status code and the status word agree on whether the claim was
decided.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.models import Adjustment, ClaimLine, ClaimQuery, ClaimStatus
from aggregator.models.base import Record
from aggregator.scrapers.framework import (
    Document,
    TableRow,
    account_number,
    build,
    clean,
    member_id_of,
    parse_date,
    parse_quantity,
    portal_number,
    read_table,
    text_of,
)
from aggregator.scrapers.framework.checks import check_claim_amounts
from aggregator.scrapers.framework.completeness import require_count
from aggregator.scrapers.framework.listings import ClaimListRow, listed_once
from aggregator.scrapers.framework.reading import parse_adjustment, parse_amount

from . import maps
from .pages import CLAIM_CRITERIA, CLAIM_INFO, Definitions, innermost_saying, payer_of_page

RESULT_HEADERS = ("Claim Number", "Patient Account", "Service Dates", "Billed", "Paid", "Status")
LINE_HEADERS = ("Line", "Procedure", "Service Date", "Units", "Billed", "Allowed", "Paid", "Adjustments")
_COUNT = re.compile(r"^(\d+) claim\(s\) found\.$", re.IGNORECASE)
_STATUS_CODE = re.compile(r"^\d{1,5}$")
# STC01-2 codes whose meaning fixes whether the claim is decided (as every carrier's adapter checks).
ADJUDICATED_STATUS_CODES = frozenset({"1", "65", "104", "585"})
UNADJUDICATED_STATUS_CODES = frozenset({"19", "20"})


class ClaimResultsListing(Record):
    """The hub's claim results: the criteria it repeats and its rows in page order (one page, every claim)."""

    kind: Literal["claim_results"] = "claim_results"
    carrier: str
    member_id: str
    date_of_birth: date
    service_from: date
    service_to: date
    total: int
    rows: tuple[ClaimListRow, ...] = ()


def parse_date_range(text: str, *, field: str) -> tuple[date, date]:
    start, separator, end = clean(text).partition(" - ")
    if not separator:
        raise ParseError(f"{field}: not a date range")
    first, last = parse_date(start, field=field), parse_date(end, field=field)
    if last < first:
        raise ParseError(f"{field}: the range ends before it starts")
    return first, last


def parse_claim_results(doc: Document) -> ClaimResultsListing:
    entry = payer_of_page(doc)
    criteria = Definitions(doc, CLAIM_CRITERIA, what="claim search criteria")
    service_from, service_to = parse_date_range(criteria.text("Service Dates"), field="searched service dates")
    fields = {"carrier": entry.slug,
              "member_id": member_id_of(criteria.text("Member ID"), field="searched member id"),
              "date_of_birth": criteria.day("Date of Birth"), "service_from": service_from, "service_to": service_to}
    tables = doc.tables_with_headers(*RESULT_HEADERS)
    counts = innermost_saying(doc, lambda text: bool(_COUNT.match(text)), word="found")
    if doc.has_text(maps.NO_CLAIMS):
        if tables or counts:
            raise ParseError("the results say no claims were found and list claims")
        return build(ClaimResultsListing, "claim results", **fields, total=0)
    if len(tables) != 1 or len(counts) != 1:
        raise ParseError("the results page lacks its claim list or its 'N claim(s) found' line")
    match = _COUNT.match(text_of(counts[0]))
    assert match is not None  # selected by this very pattern above
    _, rows = read_table(tables[0], name="claim list", required=RESULT_HEADERS)
    require_count(int(match.group(1)), len(rows), what="the claim list")
    listed = [_result_row(row) for row in rows]
    listed_once([r.claim_number for r in listed], what="a claim number")
    return build(ClaimResultsListing, "claim results", **fields, total=len(listed), rows=tuple(listed))


def claim_links(doc: Document) -> dict[str, str]:
    """Claim number -> the hub path of its detail page (the claim number's link in its row)."""
    links: dict[str, str] = {}
    tables = doc.tables_with_headers(*RESULT_HEADERS)
    if len(tables) != 1:
        return links
    for row in read_table(tables[0], name="claim list", required=RESULT_HEADERS)[1]:
        text, href = _link(row["Claim Number"])
        number = portal_number(text, field="claim number")
        listed_once([*links, number], what="a claim number")
        links[number] = href
    return links


def _link(cell: HtmlElement) -> tuple[str, str]:
    anchors = cell.xpath(".//a[@href]")
    if len(anchors) != 1:
        raise ParseError("a claim number is not one link")
    href = (anchors[0].get("href") or "").strip()
    if not href.startswith("/") or href.startswith("//"):
        raise ParseError("a claim link does not stay on the hub")
    return text_of(anchors[0]), href


def _result_row(row: TableRow) -> ClaimListRow:
    service_from, service_to = parse_date_range(row.text("Service Dates"), field="claim service dates")
    return build(
        ClaimListRow, "claim list row",
        claim_number=portal_number(row.text("Claim Number"), field="claim number"),
        provider_account_number=account_number(row.text("Patient Account")),
        service_from=service_from,
        service_to=service_to,
        billed=parse_amount(row.text("Billed"), field="claim billed"),
        paid=parse_amount(row.text("Paid"), field="claim paid"),
        status_category=maps.CLAIM_STATUS(row.text("Status")),
    )


def parse_claim_detail(doc: Document) -> ClaimStatus:
    entry = payer_of_page(doc)
    info = Definitions(doc, CLAIM_INFO, what="claim information")
    service_from, service_to = parse_date_range(info.text("Service Dates"), field="service dates")
    status_code = info.text("Status Code")
    if not _STATUS_CODE.match(status_code):
        raise ParseError("status code is not a claim status code")
    claim = build(
        ClaimStatus, "claim detail",
        carrier=entry.slug,
        payer_claim_number=portal_number(info.text("Claim Number"), field="claim number"),
        provider_account_number=account_number(info.text("Patient Account")),
        member_id=member_id_of(info.text("Member ID"), field="member id"),
        service_from=service_from,
        service_to=service_to,
        billed=info.amount("Billed"),
        allowed=info.optional_amount("Allowed"),
        paid=info.amount("Paid"),
        patient_responsibility=info.optional_amount("Patient Responsibility"),
        status_category=maps.CLAIM_STATUS(info.text("Status")),
        status_code=status_code,
        received_date=info.day("Received"),
        adjudicated_date=info.optional_day("Adjudicated"),
        paid_date=info.optional_day("Paid Date"),
        check_number=info.optional("Check/EFT"),
        lines=_lines(doc),
    )
    check_claim_amounts(claim)
    decided = claim.status_category.value.startswith("F")
    if (claim.status_code in ADJUDICATED_STATUS_CODES and not decided) or (
            claim.status_code in UNADJUDICATED_STATUS_CODES and decided):
        raise ParseError("the status code and the status word disagree on whether the claim was decided")
    return claim


def _lines(doc: Document) -> tuple[ClaimLine, ...]:
    table = doc.table_with_headers(*LINE_HEADERS, field="claim lines")
    _, rows = read_table(table, name="claim lines", required=LINE_HEADERS)
    lines = []
    for row in rows:
        number = row.text("Line")
        if not (number.isascii() and number.isdigit()):
            raise ParseError("a claim line number is not a number")
        field = f"line {number}"
        procedure = row.text("Procedure")
        if not procedure or not (procedure.isascii() and procedure.isalnum()) or len(procedure) > 8:
            raise ParseError("procedure code is not a code")
        lines.append(build(
            ClaimLine, f"claim {field}",
            line_number=int(number),
            procedure_code=procedure,
            service_date=parse_date(row.text("Service Date"), field=f"{field} date"),
            units=parse_quantity(row.text("Units"), field=f"{field} units"),
            billed=parse_amount(row.text("Billed"), field=f"{field} billed"),
            allowed=parse_amount(row.text("Allowed"), field=f"{field} allowed"),
            paid=parse_amount(row.text("Paid"), field=f"{field} paid"),
            adjustments=_adjustments(row.text("Adjustments"), field=f"{field} adjustments"),
        ))
    return tuple(lines)


def _adjustments(text: str, *, field: str) -> tuple[Adjustment, ...]:
    value = clean(text)
    if not value or value == maps.NO_VALUE:
        return ()
    return tuple(parse_adjustment(part, field=field) for part in value.split(maps.ADJUSTMENT_SEPARATOR))


def searched(listing: ClaimResultsListing, query: ClaimQuery) -> bool:
    """The results repeat the very search made."""
    return (listing.member_id, listing.date_of_birth, listing.service_from, listing.service_to) == (
        query.member_id, query.date_of_birth, query.service_from, query.service_to)


