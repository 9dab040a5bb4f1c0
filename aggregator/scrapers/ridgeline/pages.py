"""Ridgeline Mutual screens: how each recognises itself, and pure parsers for the ones with answers.

Recognition uses the page title and its inputs (browsers move a <form> that sits between table rows
out of the table, so its inputs are not its descendants in the DOM), never the URL alone (the portal re-renders the search
form at the same URL for "not found"). Parsers read tables by header text and labels by their words,
so moved columns and new wrappers are harmless; a renamed header or an unknown word is an error.

This module holds the login, eligibility and shared screens plus the reading helpers every screen
uses; the authorization screens are in `pages_authorizations`, the claim screens in `pages_claims`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.models import (
    AuthorizationQuery,
    BenefitKind,
    BenefitLine,
    ClaimQuery,
    Coverage,
    EligibilityQuery,
    EligibilityRecord,
    Member,
    MemberNotFound,
    NetworkIndicator,
    Payer,
    Plan,
    QuantityQualifier,
    RejectReason,
    ServiceType,
    normalize_member_id,
)
from aggregator.scrapers.framework import (
    Document,
    Labels,
    PortalPage,
    TableRow,
    clean,
    columns_named,
    header_key,
    member_not_found,
    parse_date,
    parse_money,
    parse_percent,
    read_table,
    text_of,
)
from aggregator.scrapers.framework.checks import benefits_shown, check_prior_auth_list
from aggregator.scrapers.framework.login import LoginMessages
from aggregator.scrapers.ridgeline import maps

TITLE_PREFIX = "Ridgeline Mutual - "
NETWORKS = {NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK}  # one column each


def title_is(doc: Document, title: str) -> bool:
    return header_key(doc.title) == header_key(TITLE_PREFIX + title)


def page_message(doc: Document) -> str | None:
    """The red message box some screens show (login errors, search results)."""
    found = [text_of(el) for el in doc.select(".errorMsg, .loginMsg") if text_of(el)]
    return found[0] if found else None


# --- reading helpers shared by the screens ---------------------------------------------------------

def page_labels(doc: Document, page: str) -> Labels:
    """The page's `Label:` cells; the portal prints `N/A` for "no value"."""
    return Labels(doc, page, absent=maps.NOT_APPLICABLE)


def parse_date_range(text: str, *, field: str) -> tuple[date, date]:
    """`01/05/2026 - 01/19/2026` -> (start, end); the portal always prints both ends."""
    start, separator, end = clean(text).partition(" - ")
    if not separator:
        raise ParseError(f"{field}: not a date range")
    first, last = parse_date(start, field=field), parse_date(end, field=field)
    if last < first:
        raise ParseError(f"{field}: the range ends before it starts")
    return first, last


def link_in(cell: HtmlElement, *, field: str) -> tuple[str, str]:
    """(text, href) of the one link in a cell; the href must be a path on the portal itself."""
    anchors = cell.xpath(".//a[@href]")
    if len(anchors) != 1:
        raise ParseError(f"{field}: expected one link, found {len(anchors)}")
    return text_of(anchors[0]), site_path(anchors[0].get("href"), field=field)


def site_path(href: str | None, *, field: str) -> str:
    href = (href or "").strip()
    if not href.startswith("/") or href.startswith("//"):
        raise ParseError(f"{field}: the link does not stay on the portal")
    return href


def innermost_matching(doc: Document, predicate: Callable[[str], bool]) -> list[str]:
    """Texts of the innermost elements whose whole text satisfies `predicate`."""
    matches = [el for el in doc.root.iter() if isinstance(el.tag, str) and predicate(text_of(el))]
    return [text_of(el) for el in matches
            if not any(other is not el and other in el.iterdescendants() for other in matches)]


def links_titled(doc: Document, text: str) -> list[str]:
    """Hrefs of the links whose text is `text` (case and spacing ignored)."""
    wanted = header_key(text)
    return [site_path(a.get("href"), field=f"'{text}' link") for a in doc.root.iter("a")
            if header_key(text_of(a)) == wanted]


# --- recognition ------------------------------------------------------------------------------------

class LoginPage(PortalPage):
    name = "login"
    INVALID = "Invalid username or password."
    LOCKED = "Your account has been locked."
    EXPIRED = "Your session has expired."

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Provider Login") and bool(doc.select("input[name=username]"))


LOGIN_MESSAGES = LoginMessages(
    ended=(LoginPage.EXPIRED,),
    rejected={LoginPage.LOCKED: "says the account is locked: contact the carrier",
              LoginPage.INVALID: "rejected the username or password"},
    continued=frozenset({LoginPage.EXPIRED, LoginPage.LOCKED}),  # each goes on with what to do next
)


class MfaPage(PortalPage):
    name = "security code"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Security Code Verification") and bool(doc.select("input[name=otp]"))


class CaptchaPage(PortalPage):
    name = "captcha"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Security Check") and bool(doc.select("input[name=notRobot]"))


class HomePage(PortalPage):
    name = "home"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Provider Home")


class MaintenancePage(PortalPage):
    name = "maintenance"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Scheduled Maintenance")


class SearchPage(PortalPage):
    """The member search form; after a search it carries the portal's "not found" messages."""

    name = "member search"
    NOT_FOUND = {
        header_key("No member found matching the information entered."): RejectReason.NOT_FOUND,
        header_key("The date of birth entered does not match our records for this member."): RejectReason.DOB_MISMATCH,
        header_key("The last name entered does not match our records for this member."): RejectReason.INVALID_NAME,
    }

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Member Search") and bool(doc.select("input[name=memberId]"))


class BenefitsPage(PortalPage):
    name = "eligibility & benefits"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Eligibility & Benefits")


# --- parsers ----------------------------------------------------------------------------------------

def parse_not_found(doc: Document, query: EligibilityQuery | AuthorizationQuery | ClaimQuery,
                    carrier: str) -> MemberNotFound:
    """The search page re-rendered with a message: a definite "no such member" result, or an error."""
    return member_not_found(page_message(doc), SearchPage.NOT_FOUND, query, carrier)


def parse_benefits(doc: Document, carrier: str) -> EligibilityRecord:
    labels = doc.labelled_values()

    def value(label: str) -> str:
        cell = labels.get(header_key(label))
        if cell is None:
            raise ParseError(f"benefits page lacks '{label}'")
        return text_of(cell)

    last, _, first = value("Member Name:").partition(",")
    if not first.strip() or not last.strip():
        raise ParseError("member name is not written as 'Last, First'")
    try:
        member_id = normalize_member_id(value("Member ID:"))
        subscriber_id = normalize_member_id(value("Subscriber ID:"))
    except ValueError:
        raise ParseError("member or subscriber id is not an id") from None
    member = Member(
        member_id=member_id,
        subscriber_id=subscriber_id,
        first_name=clean(first),
        last_name=clean(last),
        date_of_birth=parse_date(value("Date of Birth:"), field="date of birth"),
        relationship=maps.RELATIONSHIPS(value("Relationship to Subscriber:")),
    )
    termination = value("Termination Date:")
    coverage = Coverage(
        status=maps.COVERAGE_STATUS(value("Coverage Status:")),
        effective_date=parse_date(value("Effective Date:"), field="effective date"),
        termination_date=None if termination == maps.OPEN_ENDED_DATE else parse_date(termination, field="termination date"),
    )
    benefits, prior_auth_services = _parse_benefit_section(doc, coverage)
    return EligibilityRecord(
        carrier=carrier,
        service_date=parse_date(value("Date of Service:"), field="date of service"),
        member=member,
        payer=Payer(name=value("Payer:"), payer_id=value("Payer ID:")),
        plan=Plan(name=value("Plan Name:"), insurance_type=maps.PLAN_TYPES(value("Plan Type:")),
                  group_number=value("Group Number:"), group_name=value("Group Name:")),
        coverage=coverage,
        benefits=tuple(benefits),
        prior_auth_service_types=tuple(prior_auth_services),
    )


def _parse_benefit_section(doc: Document, coverage: Coverage) -> tuple[list[BenefitLine], list[ServiceType]]:
    if not benefits_shown(coverage, inactive_notice=doc.has_text(maps.INACTIVE_NOTICE),
                          shows_benefits=bool(doc.tables_with_headers("Benefit", "Level", "Period"))):
        return [], []
    lines = _parse_plan_table(doc.table_with_headers("Benefit", "Level", "Period", field="deductible & out-of-pocket"))
    service_lines, required = _parse_service_table(
        doc.table_with_headers("Service Type", "Prior Authorization", "Benefit Details", field="benefits by service"))
    listed = _parse_prior_auth_list(doc)
    check_prior_auth_list(listed, required)
    return lines + service_lines, listed


def _parse_plan_table(table: HtmlElement) -> list[BenefitLine]:
    headers, rows = read_table(table, name="deductible & out-of-pocket", required=("Benefit", "Level", "Period"))
    networks = columns_named(headers, ("Benefit", "Level", "Period"), maps.NETWORKS, NETWORKS,
                             table="deductible & out-of-pocket")
    lines = []
    for row in rows:
        kind = maps.PLAN_BENEFITS(row.text("Benefit"))
        level = maps.LEVELS(row.text("Level"))
        period = maps.PERIODS(row.text("Period"))
        for header, network in networks.items():
            cell = row.text(header)
            if cell == maps.NOT_APPLICABLE:
                continue
            lines.append(BenefitLine(
                service_type=ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE, kind=kind, network=network,
                coverage_level=level, time_period=period, amount=parse_money(cell, field=f"{kind.label} amount"),
            ))
    return lines


def _parse_service_table(table: HtmlElement) -> tuple[list[BenefitLine], list[ServiceType]]:
    _, rows = read_table(table, name="benefits by service", required=("Service Type", "Prior Authorization", "Benefit Details"))
    lines: list[BenefitLine] = []
    required: list[ServiceType] = []
    seen: set[ServiceType] = set()
    for row in rows:
        service = maps.SERVICE_TYPES(row.text("Service Type"))
        if service in seen:
            raise ParseError(f"service '{service.label}' appears twice")
        seen.add(service)
        prior_auth = maps.PRIOR_AUTH(row.text("Prior Authorization"))
        if prior_auth.value == "Y":
            required.append(service)
        lines += _parse_service_details(row, service, prior_auth)
    return lines, required


def _parse_service_details(row: TableRow, service: ServiceType, prior_auth) -> list[BenefitLine]:  # type: ignore[no-untyped-def]
    inner = [t for t in row["Benefit Details"].iter("table")]
    if len(inner) != 1:
        raise ParseError(f"{service.label}: expected one benefit details table, found {len(inner)}")
    headers, rows = read_table(inner[0], name=f"{service.label} details", required=("Benefit",))
    networks = columns_named(headers, ("Benefit",), maps.NETWORKS, NETWORKS, table=f"{service.label} details")
    lines: list[BenefitLine] = []
    for header, network in networks.items():
        cells = [(maps.SERVICE_ROWS(r.text("Benefit")), r.text(header)) for r in rows]
        not_covered = [text == maps.NOT_COVERED for _, text in cells]
        if any(not_covered):
            if not all(not_covered):
                raise ParseError(f"{service.label}: '{maps.NOT_COVERED}' mixed with benefit values")
            lines.append(BenefitLine(service_type=service, kind=BenefitKind.NON_COVERED, network=network,
                                     prior_auth=prior_auth))
            continue
        for (kind, period), text in cells:
            if text == maps.NOT_APPLICABLE:
                continue
            lines.append(_service_line(service, network, kind, period, text, prior_auth))
    return lines


def _service_line(service, network, kind, period, text, prior_auth) -> BenefitLine:  # type: ignore[no-untyped-def]
    field = f"{service.label} {kind.label}"
    if kind is BenefitKind.COPAY:
        return BenefitLine(service_type=service, kind=kind, network=network, amount=parse_money(text, field=field),
                           prior_auth=prior_auth)
    if kind is BenefitKind.COINSURANCE:
        return BenefitLine(service_type=service, kind=kind, network=network, percent=parse_percent(text, field=field),
                           prior_auth=prior_auth)
    return BenefitLine(service_type=service, kind=kind, network=network, time_period=period,
                       quantity=_parse_visits(text, field=field), quantity_qualifier=QuantityQualifier.VISITS,
                       prior_auth=prior_auth)


def _parse_visits(text: str, *, field: str) -> Decimal:
    number, _, unit = clean(text).partition(" ")
    if not number.isdigit() or unit.casefold() not in ("visits", "visit"):
        raise ParseError(f"{field}: not a number of visits")
    return Decimal(number)


def _parse_prior_auth_list(doc: Document) -> list[ServiceType]:
    text = doc.text_block(maps.PRIOR_AUTH_PREFIX)
    if text is None:
        raise ParseError("benefits page lacks the prior-authorization list")
    listed = clean(text)[len(maps.PRIOR_AUTH_PREFIX):].strip().rstrip(".").strip()
    if header_key(listed) == header_key(maps.PRIOR_AUTH_NONE):
        return []
    # Service names contain " - " and " / " but never a comma, so the comma separates entries.
    return [maps.SERVICE_TYPES(name) for name in listed.split(",")]

