"""Ridgeline Mutual claim status screens: search -> results (10 per page, "Next >") -> one detail page per claim.

A results page is returned as `ClaimResultsListing`, a page model of its own (criteria, rows, page N of
M, whether there is a next page), so the adapter can walk the pages safely and check each detail page
against its row. Detail pages carry the record. Everything the page states twice is checked: totals
against the lines, each adjudicated line's billed against paid + adjustments, the patient
responsibility against the PR adjustments, the status code against the status word, the pager against
the page number. A disagreement is a `ParseError`, never a choice between the two.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from aggregator.errors import ParseError, UnexpectedPage
from aggregator.models import Adjustment, ClaimLine, ClaimQuery, ClaimStatus, MemberNotFound
from aggregator.models.base import Record
from aggregator.models.codes import AdjustmentGroup, ClaimStatusCategory
from aggregator.scrapers.framework import (
    Document,
    PortalPage,
    TableRow,
    classify,
    clean,
    parse_date,
    parse_money,
    read_table,
)
from aggregator.scrapers.ridgeline import maps
from aggregator.scrapers.ridgeline.pages import (
    Labels,
    build,
    innermost_matching,
    link_in,
    links_titled,
    member_id_of,
    parse_date_range,
    parse_not_found,
    parse_quantity,
    title_is,
)

RESULT_HEADERS = ("Claim #", "Patient Acct #", "Service Dates", "Billed", "Paid", "Status")
LINE_HEADERS = ("Line", "Procedure", "Date", "Units", "Billed", "Allowed", "Paid", "Adjustments")
_COUNT = re.compile(r"^(\d+) claim\(s\) found\.$")
_PAGER = re.compile(r"^Page (\d+) of (\d+)$")
_ADJUSTMENT = re.compile(r"^(?P<group>[A-Za-z]{2})-(?P<reason>[0-9A-Za-z]{1,5}) (?P<amount>\S+)$")
_STATUS_CODE = re.compile(r"^\d{1,5}$")
ZERO = Decimal("0.00")


# --- recognition ------------------------------------------------------------------------------------

class ClaimSearchPage(PortalPage):
    """The claim search form; after a refused search it carries the portal's message."""

    name = "claim search"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Claim Status Search") and bool(doc.select("input[name=claimNumber]"))


class ClaimResultsPage(PortalPage):
    name = "claim results"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Claim Status Results") and (
            bool(doc.tables_with_headers(*RESULT_HEADERS)) or doc.has_text(maps.NO_CLAIMS))


class ClaimDetailPage(PortalPage):
    name = "claim detail"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Claim Detail") and bool(doc.tables_with_headers(*LINE_HEADERS))


# --- the results page's content ---------------------------------------------------------------------

class ClaimResultRow(Record):
    claim_number: str
    provider_account_number: str
    service_from: date
    service_to: date
    billed: Decimal
    paid: Decimal
    status_category: ClaimStatusCategory


class ClaimResultsListing(Record):
    """One results page: the criteria it repeats, its rows in page order, and where it sits in the pages.

    An empty result ("No claims found") is one page of one, with no rows and a total of 0.
    """

    kind: Literal["claim_results"] = "claim_results"
    claim_number: str | None = None  # criteria of a claim-number search
    member_id: str | None = None  # criteria of a member search
    service_from: date | None = None
    service_to: date | None = None
    total: int  # "N claim(s) found."
    page: int
    pages: int
    has_next: bool
    rows: tuple[ClaimResultRow, ...] = ()


# --- parsers ----------------------------------------------------------------------------------------

def parse_claim_answer(doc: Document, query: ClaimQuery, carrier: str) -> ClaimResultsListing | ClaimStatus | MemberNotFound:
    """Any page a claim lookup reads an answer from: a results page, a detail page, or "not found"."""
    page = classify(doc, "", (ClaimResultsPage, ClaimDetailPage, ClaimSearchPage))
    if page is ClaimResultsPage:
        return parse_claim_results(doc)
    if page is ClaimDetailPage:
        return parse_claim_detail(doc, carrier)
    if page is ClaimSearchPage:
        if query.claim_number:
            # A claim-number search has no "member not found": a message means the portal refused it.
            raise ParseError("the portal refused the claim-number search with a message")
        return parse_not_found(doc, query, carrier)
    raise UnexpectedPage("the page is none of the claim results, detail or search pages")


def parse_claim_results(doc: Document) -> ClaimResultsListing:
    criteria = _parse_criteria(doc)
    tables = doc.tables_with_headers(*RESULT_HEADERS)
    pagers = innermost_matching(doc, lambda text: bool(_PAGER.match(text)))
    counts = innermost_matching(doc, lambda text: bool(_COUNT.match(text)))
    next_links, prev_links = links_titled(doc, maps.PAGE_NEXT), links_titled(doc, maps.PAGE_PREV)
    if doc.has_text(maps.NO_CLAIMS):
        if tables or pagers or counts or next_links or prev_links:
            raise ParseError("the results page says no claims were found and shows claims or pages")
        return build(ClaimResultsListing, "claim results", **criteria, total=0, page=1, pages=1, has_next=False)
    if len(tables) != 1:
        raise ParseError(f"expected one claim list table, found {len(tables)}")
    if len(pagers) != 1 or len(counts) != 1:
        raise ParseError("the results page lacks its 'N claim(s) found' line or its 'Page N of M' pager")
    if len(next_links) > 1 or len(prev_links) > 1:
        raise ParseError("the results page has more than one 'Next' or 'Prev' link")
    page, pages = (int(n) for n in _PAGER.match(pagers[0]).groups())  # type: ignore[union-attr]
    total = int(_COUNT.match(counts[0]).group(1))  # type: ignore[union-attr]
    if not 1 <= page <= pages:
        raise ParseError("the pager shows a page outside its own range")
    if bool(next_links) != (page < pages) or bool(prev_links) != (page > 1):
        raise ParseError("the pager's links disagree with 'Page N of M'")
    _, rows = read_table(tables[0], name="claim list", required=RESULT_HEADERS)
    if not rows or len(rows) > total:
        raise ParseError("the claim list's rows disagree with the number of claims found")
    listed = [_result_row(row) for row in rows]
    numbers = [r.claim_number for r in listed]
    if len(set(numbers)) != len(numbers):
        raise ParseError("a claim number is listed twice on one page")
    return build(ClaimResultsListing, "claim results", **criteria, total=total, page=page, pages=pages,
                 has_next=bool(next_links), rows=tuple(listed))


def next_page_link(doc: Document) -> str | None:
    """The path the `Next >` link opens, or None on the last page."""
    links = links_titled(doc, maps.PAGE_NEXT)
    if len(links) > 1:
        raise ParseError("the results page has more than one 'Next' link")
    return links[0] if links else None


def claim_links(doc: Document) -> dict[str, str]:
    """Claim number -> the path its `Claim #` link opens (the detail page)."""
    tables = doc.tables_with_headers(*RESULT_HEADERS)
    if not tables:
        return {}
    if len(tables) != 1:
        raise ParseError(f"expected one claim list table, found {len(tables)}")
    _, rows = read_table(tables[0], name="claim list", required=RESULT_HEADERS)
    links: dict[str, str] = {}
    for row in rows:
        text, href = link_in(row["Claim #"], field="claim number")
        number = _claim_number(text)
        if number in links:
            raise ParseError("a claim number is listed twice on one page")
        links[number] = href
    return links


def _parse_criteria(doc: Document) -> dict[str, object]:
    labels = Labels(doc, "claim results")
    if labels.has("Claim Number:"):
        if labels.has("Member ID:"):
            raise ParseError("the results page repeats both a claim number and a member as criteria")
        return {"claim_number": _claim_number(labels.text("Claim Number:"))}
    service_from, service_to = parse_date_range(labels.text("Service Dates:"), field="searched service dates")
    return {"member_id": member_id_of(labels.text("Member ID:"), field="searched member id"),
            "service_from": service_from, "service_to": service_to}


def _result_row(row: TableRow) -> ClaimResultRow:
    service_from, service_to = parse_date_range(row.text("Service Dates"), field="claim service dates")
    return build(
        ClaimResultRow, "claim list row",
        claim_number=_claim_number(row.text("Claim #")),
        provider_account_number=_account_number(row.text("Patient Acct #")),
        service_from=service_from,
        service_to=service_to,
        billed=parse_money(row.text("Billed"), field="claim billed"),
        paid=parse_money(row.text("Paid"), field="claim paid"),
        status_category=maps.CLAIM_STATUS(row.text("Status")),
    )


def parse_claim_detail(doc: Document, carrier: str) -> ClaimStatus:
    labels = Labels(doc, "claim detail")
    service_from, service_to = parse_date_range(labels.text("Service Dates:"), field="service dates")
    category = maps.CLAIM_STATUS(labels.text("Claim Status:"))
    status_code = labels.text("Status Code:")
    if not _STATUS_CODE.match(status_code):
        raise ParseError("status code is not a claim status code")
    claim = build(
        ClaimStatus, "claim detail",
        carrier=carrier,
        payer_claim_number=_claim_number(labels.text("Claim Number:")),
        provider_account_number=_account_number(labels.text("Patient Account Number:")),
        member_id=member_id_of(labels.text("Member ID:"), field="member id"),
        service_from=service_from,
        service_to=service_to,
        billed=labels.money("Total Billed:"),
        allowed=labels.optional_money("Total Allowed:"),
        paid=labels.money("Total Paid:"),
        patient_responsibility=labels.optional_money("Patient Responsibility:"),
        status_category=category,
        status_code=status_code,
        received_date=labels.day("Received Date:"),
        adjudicated_date=labels.optional_day("Processed Date:"),
        paid_date=labels.optional_day("Paid Date:"),
        check_number=labels.optional("Check/EFT Number:"),
        lines=_parse_lines(doc),
    )
    _check_claim(claim)
    return claim


def _parse_lines(doc: Document) -> tuple[ClaimLine, ...]:
    table = doc.table_with_headers(*LINE_HEADERS, field="service lines")
    _, rows = read_table(table, name="service lines", required=LINE_HEADERS)
    lines = []
    for row in rows:
        number = row.text("Line")
        if not number.isdigit():
            raise ParseError("a service line number is not a number")
        field = f"line {number}"
        lines.append(build(
            ClaimLine, f"service {field}",
            line_number=int(number),
            procedure_code=_procedure_code(row.text("Procedure")),
            service_date=parse_date(row.text("Date"), field=f"{field} date"),
            units=parse_quantity(row.text("Units"), field=f"{field} units"),
            billed=parse_money(row.text("Billed"), field=f"{field} billed"),
            allowed=parse_money(row.text("Allowed"), field=f"{field} allowed"),
            paid=parse_money(row.text("Paid"), field=f"{field} paid"),
            adjustments=parse_adjustments(row.text("Adjustments"), field=f"{field} adjustments"),
        ))
    if not lines:
        raise ParseError("the claim has no service lines")
    numbers = [line.line_number for line in lines]
    if len(set(numbers)) != len(numbers):
        raise ParseError("a service line number appears twice")
    return tuple(lines)


def parse_adjustments(text: str, *, field: str) -> tuple[Adjustment, ...]:
    """`CO-45 $120.00; PR-1 $50.00` -> Adjustments (group, CARC, amount); an empty cell is none."""
    value = clean(text)
    if not value:
        return ()
    adjustments = []
    for part in value.split(maps.ADJUSTMENT_SEPARATOR):
        match = _ADJUSTMENT.match(part.strip())
        if not match:
            raise ParseError(f"{field}: not written as 'GROUP-REASON $amount'")
        adjustments.append(Adjustment(
            group=maps.ADJUSTMENT_GROUPS(match.group("group")),
            reason=maps.ADJUSTMENT_REASONS(match.group("reason")),
            amount=parse_money(match.group("amount"), field=field),
        ))
    return tuple(adjustments)


def _check_claim(claim: ClaimStatus) -> None:
    """What the detail page states twice must agree."""
    lines = claim.lines
    if claim.billed != sum((line.billed for line in lines), ZERO):
        raise ParseError("total billed is not the sum of the lines' billed amounts")
    if claim.paid != sum((line.paid for line in lines), ZERO):
        raise ParseError("total paid is not the sum of the lines' paid amounts")
    if claim.allowed is not None and claim.allowed != sum((line.allowed for line in lines), ZERO):
        raise ParseError("total allowed is not the sum of the lines' allowed amounts")
    if claim.allowed is None and any(line.allowed or line.paid for line in lines):
        raise ParseError("the claim has no allowed amount yet its lines show allowed or paid amounts")
    patient_share = sum((a.amount for line in lines for a in line.adjustments
                         if a.group is AdjustmentGroup.PATIENT_RESPONSIBILITY), ZERO)
    if (claim.patient_responsibility or ZERO) != patient_share:
        raise ParseError("patient responsibility is not the sum of the PR adjustments")
    adjudicated = claim.status_category.value.startswith("F")
    for line in lines:
        if not claim.service_from <= line.service_date <= claim.service_to:
            raise ParseError(f"line {line.line_number} is dated outside the claim's service dates")
        if adjudicated and line.billed != line.paid + sum((a.amount for a in line.adjustments), ZERO):
            raise ParseError(f"line {line.line_number}: billed is not paid plus adjustments")
        if not adjudicated and line.adjustments:
            raise ParseError(f"line {line.line_number} of a claim not yet decided shows adjustments")
    if adjudicated and claim.adjudicated_date is None:
        raise ParseError("a finalized claim without a processed date")
    if not adjudicated and (claim.adjudicated_date is not None or claim.allowed is not None):
        raise ParseError("a claim not yet decided shows a processed date or an allowed amount")
    if claim.status_code in maps.ADJUDICATED_STATUS_CODES and not adjudicated:
        raise ParseError("the status code says the claim was decided, the status word says it was not")
    if claim.status_code in maps.UNADJUDICATED_STATUS_CODES and adjudicated:
        raise ParseError("the status code says the claim is not yet decided, the status word says it was")
    if claim.paid > ZERO and (claim.paid_date is None or claim.check_number is None):
        raise ParseError("money paid without a paid date or a check/EFT number")
    if claim.paid == ZERO and (claim.paid_date is not None or claim.check_number is not None):
        raise ParseError("a paid date or check number on a claim that paid nothing")


def _claim_number(text: str) -> str:
    if not text or not text.isalnum():
        raise ParseError("claim number is not a number the portal issues")
    return text


def _account_number(text: str) -> str:
    if not text or not all(c.isalnum() or c == "-" for c in text):
        raise ParseError("patient account number is not an account number")
    return text


def _procedure_code(text: str) -> str:
    if not text or not text.isalnum() or len(text) > 8:
        raise ParseError("procedure code is not a code")
    return text
