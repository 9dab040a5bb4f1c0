"""Ridgeline Mutual screens: how each recognises itself, and pure parsers for the ones with answers.

Recognition uses the page title and its inputs (browsers move a <form> that sits between table rows
out of the table, so its inputs are not its descendants in the DOM), never the URL alone (the portal re-renders the search
form at the same URL for "not found"). Parsers read tables by header text and labels by their words,
so moved columns and new wrappers are harmless; a renamed header or an unknown word is an error.

This module holds the login, eligibility and shared screens plus the reading helpers every screen
uses; the authorization screens are in `pages_authorizations`, the claim screens in `pages_claims`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.models import (
    AuthIndicator,
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
    TimePeriod,
)
from aggregator.scrapers.framework import (
    Document,
    Labels,
    PortalPage,
    TableRow,
    build,
    clean,
    columns_named,
    header_key,
    member_id_of,
    member_not_found,
    parse_date,
    parse_percent,
    read_table,
    text_of,
)
from aggregator.scrapers.framework.checks import benefits_shown, check_own_member_ids, check_prior_auth_list
from aggregator.scrapers.framework.html import is_footnote_marker
from aggregator.scrapers.framework.login import LoginMessages
from aggregator.scrapers.framework.reading import one_per_key, parse_amount
from aggregator.scrapers.ridgeline import maps

TITLE_PREFIX = "Ridgeline Mutual - "
NETWORKS = {NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK}  # one column each


def title_is(doc: Document, title: str) -> bool:
    return header_key(doc.title) == header_key(TITLE_PREFIX + title)


def page_message(doc: Document, known: Iterable[str] = ()) -> str | None:
    """The message a screen shows (login errors, search results).

    A `known` sentence is found by its words wherever it is drawn (an element saying exactly that), so a
    renamed message box or a notice banner above it changes nothing; two different known sentences on one
    page contradict each other. Otherwise the red message box (by its class) says what the page says.
    """
    wanted = {header_key(sentence) for sentence in known}
    said = {header_key(text) for sentence in known
            for text in innermost_matching(doc, lambda text: header_key(text) in wanted, word=_longest_word(sentence))}
    if len(said) > 1:
        raise ParseError("the page shows two different messages")
    if said:
        return next(text for text in known if header_key(text) in said)
    found = [text_of(el) for el in doc.select(".errorMsg, .loginMsg") if text_of(el)]
    return found[0] if found else None


def require_footer_after(doc: Document, anchor: HtmlElement, *, what: str) -> None:
    """Completeness of every Ridgeline answer page: the portal draws its footer below the content of
    every screen, so a page that lacks it after the last part read (`anchor`) was cut short."""
    if not doc.says_after(anchor, maps.PORTAL_FOOTER):
        raise ParseError(f"{what} is cut short: the page ends before the portal's footer")


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
    """(text, href) of the one link in a cell; the href must be a path on the portal itself. A link to a
    footnote on the same page (`<sup><a href="#n1">1</a></sup>`) is not the cell's link."""
    anchors = [a for a in cell.xpath(".//a[@href]")
               if not (a.get("href", "").strip().startswith("#") and is_footnote_marker(a.text_content()))]
    if len(anchors) != 1:
        raise ParseError(f"{field}: expected one link, found {len(anchors)}")
    return text_of(anchors[0]), site_path(anchors[0].get("href"), field=field)


def site_path(href: str | None, *, field: str) -> str:
    href = (href or "").strip()
    if not href.startswith("/") or href.startswith("//"):
        raise ParseError(f"{field}: the link does not stay on the portal")
    return href


def innermost_elements(doc: Document, predicate: Callable[[str], bool], *, word: str) -> list[HtmlElement]:
    """The innermost elements whose whole text satisfies `predicate`, in document order. Only elements
    whose text holds `word` (a word any match holds) are read."""
    matches = [el for el in doc.elements_with_word(word) if isinstance(el.tag, str) and predicate(text_of(el))]
    return [el for el in matches if not any(other is not el and other in el.iterdescendants() for other in matches)]


def innermost_matching(doc: Document, predicate: Callable[[str], bool], *, word: str) -> list[str]:
    """Texts of the innermost elements whose whole text satisfies `predicate`."""
    return [text_of(el) for el in innermost_elements(doc, predicate, word=word)]


def _longest_word(sentence: str) -> str:
    return max(header_key(sentence).split(" "), key=len)


def saying(doc: Document, sentence: str) -> HtmlElement | None:
    """The (last) innermost element that says `sentence` and nothing else, or None."""
    wanted = header_key(sentence)
    found = innermost_elements(doc, lambda text: header_key(text) == wanted, word=_longest_word(sentence))
    return found[-1] if found else None


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
    return member_not_found(page_message(doc, SearchPage.NOT_FOUND), SearchPage.NOT_FOUND, query, carrier)


def parse_benefits(doc: Document, carrier: str) -> EligibilityRecord:
    labels = page_labels(doc, "benefits page")
    last, _, first = labels.text("Member Name:").partition(",")
    if not first.strip() or not last.strip():
        raise ParseError("member name is not written as 'Last, First'")
    member = build(
        Member, "member",
        member_id=member_id_of(labels.text("Member ID:"), field="member id"),
        subscriber_id=member_id_of(labels.text("Subscriber ID:"), field="subscriber id"),
        first_name=clean(first),
        last_name=clean(last),
        date_of_birth=labels.day("Date of Birth:"),
        relationship=maps.RELATIONSHIPS(labels.text("Relationship to Subscriber:")),
    )
    # The subscriber's own member id is the subscriber id; a dependent has an id of its own.
    check_own_member_ids(member)
    termination = labels.text("Termination Date:")
    coverage = build(
        Coverage, "coverage",
        status=maps.COVERAGE_STATUS(labels.text("Coverage Status:")),
        effective_date=labels.day("Effective Date:"),
        termination_date=None if termination == maps.OPEN_ENDED_DATE else parse_date(termination, field="termination date"),
    )
    benefits, prior_auth_services = _parse_benefit_section(doc, coverage)
    return build(
        EligibilityRecord, "eligibility record",
        carrier=carrier,
        service_date=labels.day("Date of Service:"),
        member=member,
        payer=build(Payer, "payer", name=labels.text("Payer:"), payer_id=labels.text("Payer ID:")),
        plan=build(Plan, "plan", name=labels.text("Plan Name:"), insurance_type=maps.PLAN_TYPES(labels.text("Plan Type:")),
                   group_number=labels.text("Group Number:"), group_name=labels.text("Group Name:")),
        coverage=coverage,
        benefits=tuple(benefits),
        prior_auth_service_types=tuple(prior_auth_services),
    )


def _parse_benefit_section(doc: Document, coverage: Coverage) -> tuple[list[BenefitLine], list[ServiceType]]:
    """The benefit tables and the prior-authorization list below them (none for inactive coverage).

    Complete means: the plan table, the services table and the prior-authorization sentence are all
    drawn, and the portal's footer follows them. A benefit printed twice alike counts once; printed
    twice with different values it is a contradiction (`one_per_key`).
    """
    if not benefits_shown(coverage, inactive_notice=doc.has_text(maps.INACTIVE_NOTICE),
                          shows_benefits=bool(doc.tables_with_headers("Benefit", "Level", "Period"))):
        return [], []
    plan_table = doc.table_with_headers("Benefit", "Level", "Period", field="deductible & out-of-pocket")
    services_table = doc.table_with_headers("Service Type", "Prior Authorization", "Benefit Details",
                                            field="benefits by service")
    require_footer_after(doc, services_table, what="the benefits by service table")
    lines = _parse_plan_table(plan_table)
    service_lines, required = _parse_service_table(services_table)
    listed = _parse_prior_auth_list(doc)
    check_prior_auth_list(listed, required)
    benefits = one_per_key(lines + service_lines, BenefitLine.sort_key, what="benefits")
    _check_totals_with_remaining(benefits)
    return benefits, listed


def _check_totals_with_remaining(benefits: list[BenefitLine]) -> None:
    """The portal shows every accumulator (deductible, out-of-pocket maximum, visit limit) as a pair: the
    calendar-year amount and what remains of it, at the same tier and level. One without the other is a
    row missing from the page (a cut or a dropped row), not an answer."""
    periods: dict[tuple[object, ...], set[TimePeriod | None]] = {}
    for line in benefits:
        if line.kind in (BenefitKind.DEDUCTIBLE, BenefitKind.OUT_OF_POCKET, BenefitKind.LIMITATION):
            key = (line.service_type, line.kind, line.network, line.coverage_level)
            periods.setdefault(key, set()).add(line.time_period)
    if any(shown != {TimePeriod.CALENDAR_YEAR, TimePeriod.REMAINING} for shown in periods.values()):
        raise ParseError("benefits: an accumulator is shown without its calendar-year amount or its remaining")


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
            lines.append(build(
                BenefitLine, f"{kind.label} line",
                service_type=ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE, kind=kind, network=network,
                coverage_level=level, time_period=period, amount=parse_amount(cell, field=f"{kind.label} amount"),
            ))
    return one_per_key(lines, BenefitLine.sort_key, what="deductible & out-of-pocket")


def _parse_service_table(table: HtmlElement) -> tuple[list[BenefitLine], list[ServiceType]]:
    _, rows = read_table(table, name="benefits by service", required=("Service Type", "Prior Authorization", "Benefit Details"))
    sections: list[tuple[ServiceType, AuthIndicator, tuple[BenefitLine, ...]]] = []
    for row in rows:
        service = maps.SERVICE_TYPES(row.text("Service Type"))
        prior_auth = maps.PRIOR_AUTH(row.text("Prior Authorization"))
        sections.append((service, prior_auth, tuple(_parse_service_details(row, service, prior_auth))))
    # A service shown twice alike is one service; shown twice with different words or values, an error.
    sections = one_per_key(sections, lambda section: section[0], what="benefits by service")
    lines = [line for _, _, section_lines in sections for line in section_lines]
    required = [service for service, prior_auth, _ in sections if prior_auth is AuthIndicator.REQUIRED]
    return lines, required


def _parse_service_details(row: TableRow, service: ServiceType, prior_auth: AuthIndicator) -> list[BenefitLine]:
    inner = [t for t in row["Benefit Details"].iter("table")]
    if len(inner) != 1:
        raise ParseError(f"{service.label}: expected one benefit details table, found {len(inner)}")
    headers, rows = read_table(inner[0], name=f"{service.label} details", required=("Benefit",))
    networks = columns_named(headers, ("Benefit",), maps.NETWORKS, NETWORKS, table=f"{service.label} details")
    lines: list[BenefitLine] = []
    for header, network in networks.items():
        cells = [(maps.SERVICE_ROWS(r.text("Benefit")), r.text(header)) for r in rows]
        cells = one_per_key(cells, lambda cell: cell[0], what=f"{service.label} details")
        not_covered = [header_key(text) == header_key(maps.NOT_COVERED) for _, text in cells]
        if any(not_covered):
            if not all(not_covered):
                raise ParseError(f"{service.label}: '{maps.NOT_COVERED}' mixed with benefit values")
            lines.append(build(BenefitLine, f"{service.label} line", service_type=service,
                               kind=BenefitKind.NON_COVERED, network=network, prior_auth=prior_auth))
            continue
        for (kind, period), text in cells:
            if text == maps.NOT_APPLICABLE:
                continue
            lines.append(_service_line(service, network, kind, period, text, prior_auth))
    return lines


def _service_line(service: ServiceType, network: NetworkIndicator, kind: BenefitKind, period: TimePeriod | None,
                  text: str, prior_auth: AuthIndicator) -> BenefitLine:
    field = f"{service.label} {kind.label}"
    what = f"{field} line"
    if kind is BenefitKind.COPAY:
        return build(BenefitLine, what, service_type=service, kind=kind, network=network,
                     amount=parse_amount(text, field=field), prior_auth=prior_auth)
    if kind is BenefitKind.COINSURANCE:
        return build(BenefitLine, what, service_type=service, kind=kind, network=network,
                     percent=parse_percent(text, field=field), prior_auth=prior_auth)
    return build(BenefitLine, what, service_type=service, kind=kind, network=network, time_period=period,
                 quantity=_parse_visits(text, field=field), quantity_qualifier=QuantityQualifier.VISITS,
                 prior_auth=prior_auth)


def _parse_visits(text: str, *, field: str) -> Decimal:
    number, _, unit = clean(text).partition(" ")
    if not (number.isascii() and number.isdigit()) or header_key(unit) not in ("visits", "visit"):
        raise ParseError(f"{field}: not a number of visits")
    return Decimal(number)


def _parse_prior_auth_list(doc: Document) -> list[ServiceType]:
    """`Prior authorization required for: MRI / CT Scan, Physical Therapy.` -> the services named."""
    text = doc.text_block(maps.PRIOR_AUTH_PREFIX)
    if text is None:
        raise ParseError("benefits page lacks the prior-authorization list")
    lead, _, listed = text.partition(":")
    if header_key(lead) != header_key(maps.PRIOR_AUTH_PREFIX):
        raise ParseError("the prior-authorization list is not written as 'required for: services'")
    listed = listed.strip().rstrip(".").strip()
    if header_key(listed) == header_key(maps.PRIOR_AUTH_NONE):
        return []
    # Service names contain " - " and " / " but never a comma, so the comma separates entries.
    return [maps.SERVICE_TYPES(name) for name in listed.split(",")]
