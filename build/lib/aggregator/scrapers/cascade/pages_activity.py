"""Cascade Care authorization and claim screens.

Authorizations: member search -> summary grid (one postback link `Select$<ref>` per row) -> detail.
Claims: search -> a fixed-width report in a `<pre>` (one postback link `EOB$<claim>` on each claim
number) -> an EOB page offering the PDF. The report is returned as `ClaimReport` (its criteria, rows and
the count it states); the claim record itself is completed from the PDF (`eob.parse_eob`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from aggregator.errors import ParseError, UnexpectedPage
from aggregator.models import (
    Authorization,
    AuthorizationQuery,
    AuthorizedService,
    ClaimQuery,
    MemberNotFound,
)
from aggregator.models.base import Record
from aggregator.scrapers.cascade import maps
from aggregator.scrapers.cascade.pages import PageDates, birth_as_asked, money, parse_not_found, screen, title_is
from aggregator.scrapers.framework import (
    Document,
    PortalPage,
    account_number,
    build,
    classify,
    header_key,
    member_id_of,
    npi_of,
    parse_quantity,
    portal_number,
    read_report,
    read_table,
)
from aggregator.scrapers.framework.listings import (
    AuthListing,
    AuthListRow,
    ClaimListRow,
    claim_number_key,
    list_table_rows,
    listed_once,
    listed_rows,
    searched,
)
from aggregator.scrapers.framework.postback import PostBack, postbacks_in

LIST_HEADERS = ("Ref #", "Type", "Svc", "Decision", "From", "Thru")
SERVICE_HEADERS = ("CPT", "Approved", "Used", "Balance", "Unit Type")
REPORT_HEADERS = ("Claim No.", "Patient Acct", "From", "Thru", "Billed", "Paid", "Status")
_COUNT = re.compile(r"^\*\*\* (\d+) CLAIM\(S\) LISTED \*\*\*$")
_RUN_DATE = re.compile(r"^RUN DATE: *(\S+)$")
_BY_CLAIM = re.compile(r"^CRITERIA: CLAIM (\S+)$")
_BY_MEMBER = re.compile(r"^CRITERIA: MEMBER (\S+) +DOS (\d\d/\d\d/\d\d) - (\d\d/\d\d/\d\d)$")

AuthSearchPage = screen("authorization search", "Authorization Inquiry", "txtMemberId")
AuthDetailPage = screen("authorization detail", "Authorization Detail")
ClaimSearchPage = screen("claim search", "Claim Status Inquiry", "txtClaimNo")
EobPage = screen("explanation of benefits", "Explanation of Benefits")


class AuthListPage(PortalPage):
    name = "authorization summary"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Authorization Summary") and (
            bool(doc.tables_with_headers(*LIST_HEADERS)) or doc.has_text(maps.NO_AUTHORIZATIONS))


class ClaimReportPage(PortalPage):
    name = "claim status report"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Claim Status Report") and len(doc.select("pre")) == 1


# --- page models ------------------------------------------------------------------------------------

class ClaimReport(Record):
    kind: Literal["claim_report"] = "claim_report"
    claim_number: str | None = None
    member_id: str | None = None
    service_from: date | None = None
    service_to: date | None = None
    rows: tuple[ClaimListRow, ...] = ()


class EobOffer(Record):
    """The page offering a claim's EOB document: which claim it is for."""

    kind: Literal["eob_offer"] = "eob_offer"
    claim_number: str


# --- authorizations ---------------------------------------------------------------------------------

def parse_auth_answer(doc: Document, query: AuthorizationQuery, carrier: str) -> AuthListing | Authorization | MemberNotFound:
    page = classify(doc, "", (AuthListPage, AuthDetailPage, AuthSearchPage))
    if page is AuthListPage:
        listing = parse_auth_list(doc)
        _same_member(listing.member_id, query)
        return listing.model_copy(update={"date_of_birth": birth_as_asked(listing.date_of_birth, query.date_of_birth)})
    if page is AuthDetailPage:
        auth = parse_auth_detail(doc, carrier)
        _same_member(auth.member_id, query)
        return auth
    if page is AuthSearchPage:
        return parse_not_found(doc, query, carrier)
    raise UnexpectedPage("the page is none of the authorization summary, detail or search pages")


def _same_member(member_id: str, query: AuthorizationQuery) -> None:
    """A page of the authorization flow names its member: the one searched, or it answers someone else."""
    if member_id != query.member_id:
        raise ParseError("the authorization page is for a different member than the one searched")


def parse_auth_list(doc: Document) -> AuthListing:
    dates = PageDates.of(doc)
    labels = dates.labels(doc, "authorization summary")
    rows = listed_rows(doc, LIST_HEADERS, name="authorization summary", none_message=maps.NO_AUTHORIZATIONS)
    listed = [build(AuthListRow, "authorization row",
                    auth_number=portal_number(row.text("Ref #"), field="reference number"),
                    service_type=maps.AUTH_SERVICES(row.text("Svc")),
                    status=maps.AUTH_STATUS(row.text("Decision")),
                    effective_date=_optional_day(dates, row.text("From"), "from date"),
                    expiration_date=_optional_day(dates, row.text("Thru"), "thru date"))
              for row in rows]
    listed_once([r.auth_number for r in listed], what="a reference number")
    return build(AuthListing, "authorization summary", member_id=member_id_of(labels.text("Member #:"), field="member id"),
                 date_of_birth=dates.birth(labels.text("Birth Date:"), "birth date"), rows=tuple(listed))


def auth_links(doc: Document) -> dict[str, PostBack]:
    """Reference number -> the postback link that opens its detail."""
    links: dict[str, PostBack] = {}
    for row in list_table_rows(doc, LIST_HEADERS, name="authorization summary") or []:
        found = postbacks_in(row["Ref #"], field="reference number")
        if len(found) != 1 or found[0].target != "gvAuths" or found[0].argument != f"Select${found[0].text}":
            raise ParseError("a reference number's link is not the grid's select postback")
        links[portal_number(found[0].text, field="reference number")] = found[0]
    return links


def parse_auth_detail(doc: Document, carrier: str) -> Authorization:
    dates = PageDates.of(doc)
    labels = dates.labels(doc, "authorization detail")
    reason = labels.optional("Decision Reason:")
    return build(
        Authorization, "authorization detail",
        carrier=carrier,
        member_id=member_id_of(labels.text("Member #:"), field="member id"),
        auth_number=portal_number(labels.text("Reference #:"), field="reference number"),
        status=maps.AUTH_STATUS(labels.text("Decision:")),
        request_category=maps.REQUEST_TYPES(labels.text("Request Type:")),
        service_type=maps.AUTH_SERVICES(labels.text("Service:")),
        services=_auth_services(doc),
        effective_date=labels.optional_day("From:"),
        expiration_date=labels.optional_day("Thru:"),
        servicing_provider_name=labels.text("Servicing Provider:"),
        servicing_provider_npi=npi_of(labels.optional("Provider NPI:")),
        decision_reason=None if reason is None else maps.DECISION_REASONS(reason),
        last_updated=labels.day("Last Activity:"),
    )


def _auth_services(doc: Document) -> tuple[AuthorizedService, ...]:
    table = doc.table_with_headers(*SERVICE_HEADERS, field="authorized services")
    _, rows = read_table(table, name="authorized services", required=SERVICE_HEADERS)
    if not rows:
        raise ParseError("the authorized services table has no rows")
    # One row per procedure and unit: a second one (same or other numbers) cannot be told apart.
    listed_once([f"{header_key(row.text('CPT'))}/{header_key(row.text('Unit Type'))}" for row in rows],
                what="an authorized procedure")
    return tuple(build(AuthorizedService, "authorized service",
                       procedure_code=row.text("CPT"), unit=maps.UNITS(row.text("Unit Type")),
                       approved=parse_quantity(row.text("Approved"), field="approved"),
                       used=parse_quantity(row.text("Used"), field="used"),
                       remaining=parse_quantity(row.text("Balance"), field="balance"))
                 for row in rows)


# --- claims -----------------------------------------------------------------------------------------

def parse_claim_answer(doc: Document, query: ClaimQuery, carrier: str) -> ClaimReport | EobOffer | MemberNotFound:
    page = classify(doc, "", (ClaimReportPage, EobPage, ClaimSearchPage))
    if page is ClaimReportPage:
        report = parse_claim_report(doc)
        # The report repeats its criteria: they must be the search made, or it answers another one.
        if (report.claim_number, report.member_id, report.service_from, report.service_to) != searched(query):
            raise ParseError("the claims report is for a different search than the one made")
        return report
    if page is EobPage:
        offer = parse_eob_offer(doc)
        if query.claim_number and offer.claim_number != claim_number_key(query.claim_number):
            raise ParseError("the EOB page is for a different claim than the one searched")
        return offer
    if page is ClaimSearchPage:
        if query.claim_number:
            raise ParseError("the portal refused the claim-number search with a message")
        return parse_not_found(doc, query, carrier)
    raise UnexpectedPage("the page is none of the claim report, EOB or search pages")


def _report_lines(doc: Document) -> list[str]:
    pre = doc.one("pre", field="claims report")
    return [line.rstrip() for line in (pre.text_content() or "").replace("\xa0", " ").split("\n")]


def parse_claim_report(doc: Document) -> ClaimReport:
    dates = PageDates.of(doc)
    lines = _report_lines(doc)
    criteria = _criteria(lines, dates)
    # The report states its run date as the page states its own: two statements of one day.
    run_dates = [m.group(1) for line in lines if (m := _RUN_DATE.match(line.strip()))]
    if len(run_dates) != 1 or dates.day(run_dates[0], "run date") != dates.reference:
        raise ParseError("the report's run date is missing or disagrees with the page's date")
    if any(line.strip() == maps.NO_CLAIMS for line in lines):
        if any(_COUNT.match(line.strip()) for line in lines) or postbacks_in(doc.one("pre", field="report"), field="claim"):
            raise ParseError("the report says no claims were found and lists claims")
        return build(ClaimReport, "claim report", **criteria)
    table = read_report(lines, name="claims", required=REPORT_HEADERS)
    counts = [int(m.group(1)) for line in lines[table.end_line:] if (m := _COUNT.match(line.strip()))]
    if counts != [len(table.rows)] or not table.rows:
        raise ParseError("the report's claim count disagrees with its rows")
    rows = [build(ClaimListRow, "claim report row",
                  claim_number=portal_number(row["Claim No."], field="claim number"),
                  provider_account_number=account_number(row["Patient Acct"]),
                  service_from=dates.day(row["From"], "from date"),
                  service_to=dates.day(row["Thru"], "thru date"),
                  billed=money(row["Billed"], field="billed"),
                  paid=money(row["Paid"], field="paid"),
                  status_category=maps.CLAIM_STATUS(row["Status"]))
            for row in table.rows]
    listed_once([r.claim_number for r in rows], what="a claim number")
    searched = criteria.get("claim_number")
    if searched is not None and any(r.claim_number != searched for r in rows):
        raise ParseError("the report for one claim number lists another claim")
    return build(ClaimReport, "claim report", **criteria, rows=tuple(rows))


def report_received_dates(doc: Document) -> dict[str, date]:
    """Claim number -> the received date the report prints, when its layout has that column (the EOB
    states it too, and the two must agree); empty when the report has no such column."""
    dates, lines = PageDates.of(doc), _report_lines(doc)
    if any(line.strip() == maps.NO_CLAIMS for line in lines):
        return {}
    table = read_report(lines, name="claims", required=REPORT_HEADERS)
    if header_key("Received") not in table.headers:
        return {}
    return {portal_number(row["Claim No."], field="claim number"): dates.day(row["Received"], "received date")
            for row in table.rows}


def claim_links(doc: Document) -> dict[str, PostBack]:
    """Claim number -> the postback link (on the number, in the report) that opens its EOB page."""
    links: dict[str, PostBack] = {}
    for link in postbacks_in(doc.one("pre", field="claims report"), field="claim number"):
        if link.target != "rptClaims" or link.argument != f"EOB${link.text}" or link.text in links:
            raise ParseError("a claim number's link is not the report's EOB postback")
        links[link.text] = link
    return links


def parse_eob_offer(doc: Document) -> EobOffer:
    labels = PageDates.of(doc).labels(doc, "EOB page")
    return build(EobOffer, "EOB page", claim_number=portal_number(labels.text("Claim #:"), field="claim number"))


def _criteria(lines: list[str], dates: PageDates) -> dict[str, object]:
    found = [line.strip() for line in lines if line.strip().startswith("CRITERIA:")]
    if len(found) != 1:
        raise ParseError("the report does not state its criteria once")
    if match := _BY_CLAIM.match(found[0]):
        return {"claim_number": portal_number(match.group(1), field="searched claim number")}
    if match := _BY_MEMBER.match(found[0]):
        return {"member_id": member_id_of(match.group(1), field="searched member id"),
                "service_from": dates.day(match.group(2), "searched from date"),
                "service_to": dates.day(match.group(3), "searched thru date")}
    raise ParseError("the report's criteria are written in an unknown way")


def _optional_day(dates: PageDates, text: str, field: str) -> date | None:
    return None if text == maps.NONE else dates.day(text, field)
