"""Cascade Care screens (the content of the `main` frame): recognition, and the eligibility parser.

Every content page has the title `Cascade Care Provider Connect - <screen>` and a footer with the
portal's date written out (`Friday, November 27, 2026`): that date is the reference of the explicit
century rule for the pages' `MM/DD/YY` dates (`maps.YEARS_AHEAD`). Tables are read by header text and
labels by their words, so moved columns, new wrappers and other case are harmless; a renamed header or
an unknown word is an error.
"""

from __future__ import annotations

import re
from datetime import date, datetime

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
)
from aggregator.models.codes import AuthIndicator
from aggregator.scrapers.cascade import maps
from aggregator.scrapers.framework import (
    CenturyWindow,
    Document,
    Labels,
    PortalPage,
    build,
    clean,
    columns_named,
    header_key,
    member_id_of,
    member_not_found,
    parse_money,
    parse_percent,
    parse_short_date,
    read_table,
    text_of,
)
from aggregator.scrapers.framework.checks import benefits_shown, check_prior_auth_list
from aggregator.scrapers.framework.login import LoginMessages

TITLE_PREFIX = "Cascade Care Provider Connect - "
NETWORKS = {NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK}
_LONG_DATE = re.compile(r"^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), [A-Z][a-z]+ \d{1,2}, \d{4}$")


def title_is(doc: Document, title: str) -> bool:
    return header_key(doc.title) == header_key(TITLE_PREFIX + title)


def page_message(doc: Document) -> str | None:
    found = [text_of(el) for el in doc.select("#lblMessage") if text_of(el)]
    return found[0] if found else None


# --- dates ------------------------------------------------------------------------------------------

class PageDates:
    """The page's own date (its footer) and the two century rules that hang on it."""

    def __init__(self, reference: date) -> None:
        self.reference = reference
        self.births = CenturyWindow(reference, 0)
        self.others = CenturyWindow(reference, maps.YEARS_AHEAD)

    @classmethod
    def of(cls, doc: Document) -> PageDates:
        footer = [text_of(el) for el in doc.select("#lblToday")]
        if len(footer) != 1 or not _LONG_DATE.match(footer[0]):
            raise ParseError("the page lacks its date (the footer the two-digit years are read against)")
        return cls(datetime.strptime(footer[0], "%A, %B %d, %Y").date())

    def birth(self, text: str, field: str) -> date:
        return parse_short_date(text, field=field, window=self.births)

    def day(self, text: str, field: str) -> date:
        return parse_short_date(text, field=field, window=self.others)

    def labels(self, doc: Document, page: str) -> Labels:
        return Labels(doc, page, absent=maps.NONE, dates=self.day)


# --- recognition ------------------------------------------------------------------------------------

def screen(name_: str, title: str, selector: str | None = None) -> type[PortalPage]:
    class Page(PortalPage):
        name = name_

        @classmethod
        def is_current(cls, doc: Document, url: str) -> bool:
            return title_is(doc, title) and (selector is None or bool(doc.select(selector)))

    Page.__name__ = Page.__qualname__ = "".join(w.capitalize() for w in name_.split()) + "Page"
    return Page


LoginPage = screen("login", "Provider Log In", "#txtUserName")
SecurityQuestionPage = screen("security question", "Security Verification", "#lblQuestion")
CaptchaPage = screen("captcha", "Security Check", "#chkHuman")
AnnouncementPage = screen("announcement", "Important Announcement", "#btnAcknowledge")
PasswordNoticePage = screen("password notice", "Password Expiration Notice", "#btnRemindLater")
PasswordExpiredPage = screen("password expired", "Password Expired")
HomePage = screen("home", "Provider Home")
MaintenancePage = screen("maintenance", "System Maintenance")
EligibilitySearchPage = screen("eligibility search", "Eligibility Inquiry", "#txtMemberId")
EligibilityResultPage = screen("eligibility detail", "Member Eligibility Detail")

LOGIN_INVALID = "Invalid user name or password."
LOGIN_LOCKED = "Your account has been locked."
LOGIN_EXPIRED = "Your session has timed out."
LOGIN_MESSAGES = LoginMessages(
    ended=(LOGIN_EXPIRED,),
    rejected={LOGIN_LOCKED: "says the account is locked: contact the carrier",
              LOGIN_INVALID: "rejected the user name or password"},
    continued=frozenset({LOGIN_EXPIRED, LOGIN_LOCKED}),  # each goes on with what to do next
)
NOT_FOUND_MESSAGES = {
    header_key("Member not on file."): RejectReason.NOT_FOUND,
    header_key("Birth date does not match member on file."): RejectReason.DOB_MISMATCH,
    header_key("Last name does not match member on file."): RejectReason.INVALID_NAME,
}


def security_question(doc: Document) -> str:
    return text_of(doc.one("#lblQuestion", field="security question"))


# --- parsers ----------------------------------------------------------------------------------------

def parse_not_found(doc: Document, query: EligibilityQuery | AuthorizationQuery | ClaimQuery,
                    carrier: str) -> MemberNotFound:
    """The search page re-rendered with a message: a definite "no such member" result, or an error."""
    return member_not_found(page_message(doc), NOT_FOUND_MESSAGES, query, carrier)


def parse_eligibility(doc: Document, carrier: str) -> EligibilityRecord:
    dates = PageDates.of(doc)
    labels = dates.labels(doc, "eligibility detail")
    last, _, first = labels.text("Member Name:").partition(",")
    if not first.strip() or not last.strip():
        raise ParseError("member name is not written as 'LAST, FIRST'")
    member = build(
        Member, "member",
        member_id=member_id_of(labels.text("Member #:"), field="member id"),
        subscriber_id=member_id_of(labels.text("Subscriber #:"), field="subscriber id"),
        first_name=clean(first), last_name=clean(last),
        date_of_birth=dates.birth(labels.text("Birth Date:"), "birth date"),
        relationship=maps.RELATIONSHIPS(labels.text("Relationship:")),
    )
    end = labels.text("Coverage End:")
    coverage = build(
        Coverage, "coverage",
        status=maps.ELIGIBILITY(labels.text("Eligibility:")),
        effective_date=labels.day("Coverage Begin:"),
        termination_date=None if header_key(end) == header_key(maps.OPEN_ENDED) else dates.day(end, "coverage end"),
    )
    benefits, precert = _benefit_section(doc, coverage)
    return build(
        EligibilityRecord, "eligibility",
        carrier=carrier,
        service_date=labels.day("Inquiry Date:"),
        member=member,
        payer=Payer(name=labels.text("Payer:"), payer_id=labels.text("Payer ID:")),
        plan=build(Plan, "plan", name=labels.text("Product:"), insurance_type=maps.PRODUCT_TYPES(labels.text("Product Type:")),
                   group_number=labels.text("Group #:"), group_name=labels.text("Group Name:")),
        coverage=coverage,
        benefits=tuple(benefits),
        prior_auth_service_types=tuple(precert),
    )


def _benefit_section(doc: Document, coverage: Coverage) -> tuple[list[BenefitLine], list[ServiceType]]:
    if not benefits_shown(coverage, inactive_notice=doc.has_text(maps.INACTIVE_NOTICE),
                          shows_benefits=bool(doc.tables_with_headers("Accumulator", "Tier", "Period Type"))):
        return [], []
    lines = _accumulators(doc.table_with_headers("Accumulator", "Tier", "Period Type", field="accumulators"))
    services, required = _services(doc.table_with_headers("Service Category", "Benefit", "Precert", field="benefits"))
    listed = _precert_list(doc)
    check_prior_auth_list(listed, required)
    return lines + services, listed


def _accumulators(table: HtmlElement) -> list[BenefitLine]:
    fixed = ("Accumulator", "Tier", "Period Type")
    headers, rows = read_table(table, name="accumulators", required=fixed)
    networks = columns_named(headers, fixed, maps.NETWORKS, NETWORKS, table="accumulators")
    lines = []
    for row in rows:
        kind = maps.ACCUMULATORS(row.text("Accumulator"))
        for header, network in networks.items():
            cell = row.text(header)
            if header_key(cell) == header_key(maps.NONE):
                continue
            lines.append(build(BenefitLine, "accumulator", service_type=ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE,
                               kind=kind, network=network, coverage_level=maps.LEVELS(row.text("Tier")),
                               time_period=maps.PERIODS(row.text("Period Type")),
                               amount=parse_money(cell, field=f"{kind.label} amount")))
    return lines


def _services(table: HtmlElement) -> tuple[list[BenefitLine], list[ServiceType]]:
    fixed = ("Service Category", "Benefit", "Precert")
    headers, rows = read_table(table, name="benefits", required=fixed)
    networks = columns_named(headers, fixed, maps.NETWORKS, NETWORKS, table="benefits")
    by_service: dict[ServiceType, list] = {}  # type: ignore[type-arg]
    for row in rows:
        by_service.setdefault(maps.SERVICES(row.text("Service Category")), []).append(row)
    lines: list[BenefitLine] = []
    required: list[ServiceType] = []
    for service, service_rows in by_service.items():
        precert = {maps.PRECERT(r.text("Precert")) for r in service_rows}
        if len(precert) != 1:
            raise ParseError(f"{service.label}: precertification differs between its rows")
        prior_auth = precert.pop()
        if prior_auth is AuthIndicator.REQUIRED:
            required.append(service)
        kinds = [maps.BENEFITS(r.text("Benefit")) for r in service_rows]
        if len(set(kinds)) != len(kinds):
            raise ParseError(f"{service.label}: a benefit row appears twice")
        for header, network in networks.items():
            cells = [r.text(header) for r in service_rows]
            not_covered = [header_key(c) == header_key(maps.NOT_COVERED) for c in cells]
            if any(not_covered):
                if not all(not_covered):
                    raise ParseError(f"{service.label}: '{maps.NOT_COVERED}' mixed with benefit values")
                lines.append(BenefitLine(service_type=service, kind=BenefitKind.NON_COVERED, network=network,
                                         prior_auth=prior_auth))
                continue
            for (kind, period), cell in zip(kinds, cells, strict=True):
                if header_key(cell) == header_key(maps.NONE):
                    continue
                lines.append(_service_line(service, network, kind, period, cell, prior_auth))
    return lines, required


def _service_line(service, network, kind, period, text, prior_auth) -> BenefitLine:  # type: ignore[no-untyped-def]
    field = f"{service.label} {kind.label}"
    if kind is BenefitKind.COPAY:
        return build(BenefitLine, field, service_type=service, kind=kind, network=network,
                     amount=parse_money(text, field=field), prior_auth=prior_auth)
    if kind is BenefitKind.COINSURANCE:
        return build(BenefitLine, field, service_type=service, kind=kind, network=network,
                     percent=parse_percent(text, field=field), prior_auth=prior_auth)
    if not text.isdigit():
        raise ParseError(f"{field}: not a number of visits")
    return build(BenefitLine, field, service_type=service, kind=kind, network=network, time_period=period,
                 quantity=int(text), quantity_qualifier=QuantityQualifier.VISITS, prior_auth=prior_auth)


def _precert_list(doc: Document) -> list[ServiceType]:
    text = doc.text_block(maps.PRECERT_PREFIX)
    if text is None:
        raise ParseError("the eligibility page lacks its precertification list")
    listed = clean(text)[len(maps.PRECERT_PREFIX):].strip().rstrip(".").strip()
    if header_key(listed) == header_key(maps.PRECERT_NONE):
        return []
    # Service names hold parentheses and slashes but never a comma: the comma separates entries.
    return [maps.SERVICES(name) for name in listed.split(",")]
