"""Ridgeline Mutual claim status screens: search -> results (10 per page, "Next >") -> one detail page per claim.

A results page is returned as `ClaimResultsListing`, a page model of its own (criteria, rows, page N of
M, whether there is a next page), so the adapter can walk the pages safely and check each detail page
against its row. Detail pages carry the record. Everything the page states twice is checked: totals
against the lines, each adjudicated line's billed against paid + adjustments, the patient
responsibility against the PR adjustments, the status code against the status word, the pager against
the page number. A disagreement is a `ParseError`, never a choice between the two.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Literal

from aggregator.errors import ParseError, UnexpectedPage
from aggregator.models import Adjustment, ClaimLine, ClaimQuery, ClaimStatus, MemberNotFound
from aggregator.models.base import Record
from aggregator.scrapers.framework import (
    Document,
    PortalPage,
    TableRow,
    account_number,
    build,
    classify,
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
from aggregator.scrapers.framework.listings import (
    ClaimListRow,
    claim_number_key,
    list_table_rows,
    listed_once,
    searched,
)
from aggregator.scrapers.framework.reading import parse_adjustment, parse_amount
from aggregator.scrapers.ridgeline import maps
from aggregator.scrapers.ridgeline.pages import (
    innermost_elements,
    link_in,
    links_titled,
    page_labels,
    parse_date_range,
    parse_not_found,
    require_footer_after,
    saying,
    title_is,
)

RESULT_HEADERS = ("Claim #", "Patient Acct #", "Service Dates", "Billed", "Paid", "Status")
LINE_HEADERS = ("Line", "Procedure", "Date", "Units", "Billed", "Allowed", "Paid", "Adjustments")
_COUNT = re.compile(r"^(\d+) claim\(s\) found\.$", re.IGNORECASE)
_PAGER = re.compile(r"^Page (\d+) of (\d+)$", re.IGNORECASE)
_STATUS_CODE = re.compile(r"^\d{1,5}$")


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
    rows: tuple[ClaimListRow, ...] = ()


# --- parsers ----------------------------------------------------------------------------------------

def parse_claim_answer(doc: Document, query: ClaimQuery, carrier: str) -> ClaimResultsListing | ClaimStatus | MemberNotFound:
    """Any page a claim lookup reads an answer from: a results page, a detail page, or "not found"."""
    page = classify(doc, "", (ClaimResultsPage, ClaimDetailPage, ClaimSearchPage))
    if page is ClaimResultsPage:
        listing = parse_claim_results(doc)
        if (listing.claim_number, listing.member_id, listing.service_from, listing.service_to) != searched(query):
            raise ParseError("the results page repeats another search than the one made")
        if query.claim_number and any(claim_number_key(r.claim_number) != listing.claim_number for r in listing.rows):
            raise ParseError("the results of a claim-number search list another claim")
        return listing
    if page is ClaimDetailPage:
        return parse_claim_detail(doc, carrier)
    if page is ClaimSearchPage:
        if query.claim_number:
            # A claim-number search has no "member not found": a message means the portal refused it.
            raise ParseError("the portal refused the claim-number search with a message")
        return parse_not_found(doc, query, carrier)
    raise UnexpectedPage("the page is none of the claim results, detail or search pages")


def parse_claim_results(doc: Document) -> ClaimResultsListing:
    """One results page. Complete means: "N claim(s) found." above the list, the "Page N of M" pager
    below it, the portal's footer below that, and as many rows as the count and the portal's page size
    leave for this page. Anything else is a page cut short or a list we cannot trust."""
    criteria = _parse_criteria(doc)
    tables = doc.tables_with_headers(*RESULT_HEADERS)
    pagers = innermost_elements(doc, lambda text: bool(_PAGER.match(text)), word="page")
    counts = innermost_elements(doc, lambda text: bool(_COUNT.match(text)), word="found")
    next_links, prev_links = links_titled(doc, maps.PAGE_NEXT), links_titled(doc, maps.PAGE_PREV)
    if doc.has_text(maps.NO_CLAIMS):
        if tables or pagers or counts or next_links or prev_links:
            raise ParseError("the results page says no claims were found and shows claims or pages")
        message = saying(doc, maps.NO_CLAIMS)
        if message is None:
            raise ParseError("the results page's 'no claims' message is not a message of its own")
        require_footer_after(doc, message, what="the claim results page")
        return build(ClaimResultsListing, "claim results", **criteria, total=0, page=1, pages=1, has_next=False)
    if len(tables) != 1:
        raise ParseError(f"expected one claim list table, found {len(tables)}")
    if len(pagers) != 1 or len(counts) != 1:
        raise ParseError("the results page lacks its 'N claim(s) found' line or its 'Page N of M' pager")
    if len(next_links) > 1 or len(prev_links) > 1:
        raise ParseError("the results page has more than one 'Next' or 'Prev' link")
    if pagers[0] not in tables[0].xpath("following::*"):
        raise ParseError("the claim list is cut short: its pager is not drawn below it")
    require_footer_after(doc, pagers[0], what="the claim results page")
    pager, count = _PAGER.match(text_of(pagers[0])), _COUNT.match(text_of(counts[0]))
    if pager is None or count is None:  # found by these very patterns above, so only a misread gets here
        raise ParseError("the results page's pager or claim count cannot be read")
    page, pages = (int(n) for n in pager.groups())
    total = int(count.group(1))
    if not 1 <= page <= pages:
        raise ParseError("the pager shows a page outside its own range")
    if bool(next_links) != (page < pages) or bool(prev_links) != (page > 1):
        raise ParseError("the pager's links disagree with 'Page N of M'")
    if pages > maps.MAX_RESULT_PAGES:
        raise ParseError(f"the search has {pages} result pages, more than the {maps.MAX_RESULT_PAGES} a real "
                         f"answer has")
    if pages != max(1, math.ceil(total / maps.CLAIMS_PER_PAGE)):
        raise ParseError("the number of pages disagrees with the number of claims found")
    _, rows = read_table(tables[0], name="claim list", required=RESULT_HEADERS)
    shown = min(maps.CLAIMS_PER_PAGE, total - (page - 1) * maps.CLAIMS_PER_PAGE)
    require_count(shown, len(rows), what="the claim list page")
    listed = [_result_row(row) for row in rows]
    listed_once([r.claim_number for r in listed], what="a claim number on one page")
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
    links: dict[str, str] = {}
    for row in list_table_rows(doc, RESULT_HEADERS, name="claim list") or []:
        text, href = link_in(row["Claim #"], field="claim number")
        number = portal_number(text, field="claim number")
        listed_once([*links, number], what="a claim number on one page")
        links[number] = href
    return links


def _parse_criteria(doc: Document) -> dict[str, object]:
    labels = page_labels(doc, "claim results")
    if labels.has("Claim Number:"):
        if labels.has("Member ID:"):
            raise ParseError("the results page repeats both a claim number and a member as criteria")
        return {"claim_number": portal_number(labels.text("Claim Number:"), field="claim number")}
    service_from, service_to = parse_date_range(labels.text("Service Dates:"), field="searched service dates")
    return {"member_id": member_id_of(labels.text("Member ID:"), field="searched member id"),
            "service_from": service_from, "service_to": service_to}


def _result_row(row: TableRow) -> ClaimListRow:
    service_from, service_to = parse_date_range(row.text("Service Dates"), field="claim service dates")
    return build(
        ClaimListRow, "claim list row",
        claim_number=portal_number(row.text("Claim #"), field="claim number"),
        provider_account_number=account_number(row.text("Patient Acct #")),
        service_from=service_from,
        service_to=service_to,
        billed=parse_amount(row.text("Billed"), field="claim billed"),
        paid=parse_amount(row.text("Paid"), field="claim paid"),
        status_category=maps.CLAIM_STATUS(row.text("Status")),
    )


def parse_claim_detail(doc: Document, carrier: str) -> ClaimStatus:
    labels = page_labels(doc, "claim detail")
    service_from, service_to = parse_date_range(labels.text("Service Dates:"), field="service dates")
    category = maps.CLAIM_STATUS(labels.text("Claim Status:"))
    status_code = labels.text("Status Code:")
    if not _STATUS_CODE.match(status_code):
        raise ParseError("status code is not a claim status code")
    claim = build(
        ClaimStatus, "claim detail",
        carrier=carrier,
        payer_claim_number=portal_number(labels.text("Claim Number:"), field="claim number"),
        provider_account_number=account_number(labels.text("Patient Account Number:")),
        member_id=member_id_of(labels.text("Member ID:"), field="member id"),
        service_from=service_from,
        service_to=service_to,
        billed=labels.amount("Total Billed:"),
        allowed=labels.optional_amount("Total Allowed:"),
        paid=labels.amount("Total Paid:"),
        patient_responsibility=labels.optional_amount("Patient Responsibility:"),
        status_category=category,
        status_code=status_code,
        received_date=labels.day("Received Date:"),
        adjudicated_date=labels.optional_day("Processed Date:"),
        paid_date=labels.optional_day("Paid Date:"),
        check_number=labels.optional("Check/EFT Number:"),
        lines=_parse_lines(doc),
    )
    check_claim_amounts(claim)
    _check_status_code(claim)
    return claim


def _parse_lines(doc: Document) -> tuple[ClaimLine, ...]:
    """The service lines; complete when the portal's footer follows the table (the totals above it are
    checked against the lines too)."""
    table = doc.table_with_headers(*LINE_HEADERS, field="service lines")
    require_footer_after(doc, table, what="the service lines table")
    _, rows = read_table(table, name="service lines", required=LINE_HEADERS)
    lines = []
    for row in rows:
        number = row.text("Line")
        if not (number.isascii() and number.isdigit()):
            raise ParseError("a service line number is not a number")
        field = f"line {number}"
        lines.append(build(
            ClaimLine, f"service {field}",
            line_number=int(number),
            procedure_code=_procedure_code(row.text("Procedure")),
            service_date=parse_date(row.text("Date"), field=f"{field} date"),
            units=parse_quantity(row.text("Units"), field=f"{field} units"),
            billed=parse_amount(row.text("Billed"), field=f"{field} billed"),
            allowed=parse_amount(row.text("Allowed"), field=f"{field} allowed"),
            paid=parse_amount(row.text("Paid"), field=f"{field} paid"),
            adjustments=parse_adjustments(row.text("Adjustments"), field=f"{field} adjustments"),
        ))
    return tuple(lines)  # no lines, or a line number twice, fails `check_claim_amounts`


def parse_adjustments(text: str, *, field: str) -> tuple[Adjustment, ...]:
    """`CO-45 $120.00; PR-1 $50.00` -> Adjustments (group, CARC, amount); an empty cell is none."""
    value = clean(text)
    if not value:
        return ()
    return tuple(parse_adjustment(part, field=field) for part in value.split(maps.ADJUSTMENT_SEPARATOR))


def _check_status_code(claim: ClaimStatus) -> None:
    """The status code and the status word say the same about whether the claim was decided."""
    decided = claim.status_category.value.startswith("F")
    if claim.status_code in maps.ADJUDICATED_STATUS_CODES and not decided:
        raise ParseError("the status code says the claim was decided, the status word says it was not")
    if claim.status_code in maps.UNADJUDICATED_STATUS_CODES and decided:
        raise ParseError("the status code says the claim is not yet decided, the status word says it was")


def _procedure_code(text: str) -> str:
    if not text or not (text.isascii() and text.isalnum()) or len(text) > 8:
        raise ParseError("procedure code is not a code")
    return text
