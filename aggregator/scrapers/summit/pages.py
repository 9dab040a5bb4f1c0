"""Summit Health Plan screens: how each recognises itself, and the pure parsers of the pages with answers.

Recognition uses the page title and the form fields, never the URL alone (the portal re-renders the
search form at the same URL for "not found"). The benefits page is read by label words and column
headers, so moved columns, new wrappers and respelled labels are harmless; an unknown word is an error.

Completeness (a page cut short still parses, so what proves it whole is declared here): the label box
states how many benefit lines the table holds (`Benefit Lines:`), and the portal's footer is drawn after
the table (or after the inactive-coverage notice). Consistency: the member and subscriber ids agree with
the relationship; a row printed twice with different values, or rows of one service that disagree on its
prior authorization, are a contradiction. The framework adds the
rest on every parse (framework/invariants.py: coverage status against its dates, remaining <= total, ...).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NoReturn

from lxml.html import HtmlElement

from aggregator.errors import ParseError, PortalMaintenance
from aggregator.models import (
    AuthIndicator,
    BenefitKind,
    BenefitLine,
    Coverage,
    EligibilityQuery,
    EligibilityRecord,
    Member,
    MemberNotFound,
    Payer,
    Plan,
    QuantityQualifier,
    RejectReason,
    ServiceType,
)
from aggregator.scrapers.framework import (
    Document,
    Labels,
    PortalPage,
    TableRow,
    build,
    clean,
    header_key,
    member_id_of,
    member_not_found,
    parse_percent,
    read_table,
)
from aggregator.scrapers.framework.checks import benefits_shown, check_own_member_ids
from aggregator.scrapers.framework.completeness import StatesCount
from aggregator.scrapers.framework.login import LoginMessages
from aggregator.scrapers.framework.reading import one_per_key, parse_amount

from . import maps

TITLE_PREFIX = "Summit Health Plan - "
COLUMNS = ("Service", "Benefit", "Network", "Level", "Period", "Value", "Prior Authorization")


def title_is(doc: Document, title: str) -> bool:
    return header_key(doc.title) == header_key(TITLE_PREFIX + title)


def page_message(doc: Document, known: tuple[str, ...]) -> str | None:
    """Which of the `known` sentences the page says (found by its words, wherever it is drawn); two at
    once contradict each other."""
    said = [sentence for sentence in known if doc.has_text(sentence)]
    if len(said) > 1:
        raise ParseError("the page shows two different messages")
    return said[0] if said else None


# --- recognition ------------------------------------------------------------------------------------

class LoginPage(PortalPage):
    name = "sign in"
    INVALID = "The user name or password is not correct."
    LOCKED = "This account is locked."
    EXPIRED = "You were signed out after a period of inactivity."

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Sign In") and bool(doc.select("input[name=username]"))


LOGIN_MESSAGES = LoginMessages(
    ended=(LoginPage.EXPIRED,),
    rejected={LoginPage.LOCKED: "says the account is locked: contact the carrier",
              LoginPage.INVALID: "rejected the user name or password"},
    continued=frozenset({LoginPage.EXPIRED, LoginPage.LOCKED}),  # each goes on with what to do next
)


class MfaPage(PortalPage):
    name = "verification code"
    INVALID = "The verification code is not correct."

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Verification Code") and bool(doc.select("input[name=code]"))


class HomePage(PortalPage):
    name = "home"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Home")


class MaintenancePage(PortalPage):
    name = "maintenance"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Scheduled Maintenance")


class SearchPage(PortalPage):
    """The member search form; after a search it carries the portal's "not found" messages."""

    name = "member search"
    NOT_FOUND = {
        "No member matches the member ID entered.": RejectReason.NOT_FOUND,
        "The date of birth does not match the member ID entered.": RejectReason.DOB_MISMATCH,
        "The last name does not match the member ID entered.": RejectReason.INVALID_NAME,
    }

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Member Search") and bool(doc.select("input[name=memberId]"))


class BenefitsPage(PortalPage):
    name = "eligibility & benefits"
    complete = StatesCount(what="the benefits table")  # against `Benefit Lines:` in the label box

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return title_is(doc, "Eligibility & Benefits")


# --- parsers ----------------------------------------------------------------------------------------

def parse_maintenance(doc: Document) -> NoReturn:
    """The maintenance page is the portal saying "not now": retry later, never an answer."""
    raise PortalMaintenance("Summit Health Plan shows its maintenance page")


def parse_not_found(doc: Document, query: EligibilityQuery, carrier: str) -> MemberNotFound:
    """The search page re-rendered with a message: a definite "no such member", or an error."""
    said = page_message(doc, tuple(SearchPage.NOT_FOUND))
    reasons = {header_key(sentence): reason for sentence, reason in SearchPage.NOT_FOUND.items()}
    return member_not_found(said, reasons, query, carrier)


def parse_benefits(doc: Document, carrier: str) -> EligibilityRecord:
    labels = Labels(doc, "benefits page", absent=maps.NO_VALUE)
    member = build(
        Member, "member",
        member_id=member_id_of(labels.text("Member ID:"), field="member id"),
        subscriber_id=member_id_of(labels.text("Subscriber ID:"), field="subscriber id"),
        first_name=labels.text("First Name:"),
        last_name=labels.text("Last Name:"),
        date_of_birth=labels.day("Date of Birth:"),
        relationship=maps.RELATIONSHIPS(labels.text("Relationship:")),
    )
    # The subscriber's own member id is the subscriber id; a dependent has an id of its own.
    check_own_member_ids(member)
    coverage = build(
        Coverage, "coverage",
        status=maps.COVERAGE_STATUS(labels.text("Coverage Status:")),
        effective_date=labels.day("Effective Date:"),
        termination_date=labels.optional_day("Termination Date:"),
    )
    stated = _count(labels.text("Benefit Lines:"))
    benefits = _parse_benefits_table(doc, coverage, stated)
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
        # The portal marks each service that needs prior authorization; the list is what the rows say.
        prior_auth_service_types=tuple({line.service_type for line in benefits
                                        if line.prior_auth is AuthIndicator.REQUIRED}),
    )


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ParseError("the number of benefit lines is not a number")
    return int(text)


def _parse_benefits_table(doc: Document, coverage: Coverage, stated: int) -> list[BenefitLine]:
    """The benefit lines (none for inactive coverage, where a notice stands instead of the table)."""
    tables = doc.tables_with_headers(*COLUMNS)
    if not benefits_shown(coverage, inactive_notice=doc.has_text(maps.INACTIVE_NOTICE), shows_benefits=bool(tables)):
        _require_footer_after(doc, doc.root.find(".//table"), what="the inactive-coverage page")
        BenefitsPage.complete.check(stated, 0)
        return []
    table = doc.table_with_headers(*COLUMNS, field="benefits")
    _require_footer_after(doc, table, what="the benefits table")
    _, rows = read_table(table, name="benefits", required=COLUMNS)
    BenefitsPage.complete.check(stated, len(rows))
    # A row printed twice alike states one fact twice; two rows for one benefit that differ contradict.
    lines = one_per_key((_line(row) for row in rows), BenefitLine.sort_key, what="benefits")
    _check_prior_auth(lines)
    return lines


def _check_prior_auth(lines: list[BenefitLine]) -> None:
    """The portal states prior authorization per service, alike on every row of it, and never for the
    plan-level rows (deductible, out-of-pocket): rows that disagree are a contradiction, not an answer."""
    said: dict[ServiceType, set[AuthIndicator]] = {}
    for line in lines:
        said.setdefault(line.service_type, set()).add(line.prior_auth)
    for service, indicators in said.items():
        plan_level = service is ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE
        if len(indicators) > 1 or (AuthIndicator.UNKNOWN in indicators) != plan_level:
            raise ParseError("the benefit rows of a service disagree on whether it needs prior authorization")


def _require_footer_after(doc: Document, anchor: HtmlElement | None, *, what: str) -> None:
    if anchor is None or not doc.says_after(anchor, maps.FOOTER):
        raise ParseError(f"{what} is cut short: the page ends before the portal's footer")


def _line(row: TableRow) -> BenefitLine:
    kind = maps.BENEFITS(row.text("Benefit"))
    value = row.text("Value")
    level, period = row.text("Level"), row.text("Period")
    fields: dict[str, object] = {
        "service_type": maps.SERVICE_TYPES(row.text("Service")),
        "kind": kind,
        "network": maps.NETWORKS(row.text("Network")),
        "coverage_level": None if level == maps.NO_VALUE else maps.LEVELS(level),
        "time_period": None if period == maps.NO_VALUE else maps.PERIODS(period),
        "prior_auth": maps.PRIOR_AUTH(row.text("Prior Authorization")),
    }
    what = f"{kind.label} line"
    if kind is BenefitKind.NON_COVERED:
        if value != maps.NO_VALUE:
            raise ParseError("a non-covered service shows a value")
    elif kind is BenefitKind.COINSURANCE:
        fields["percent"] = parse_percent(value, field=what)
    elif kind is BenefitKind.LIMITATION:
        fields["quantity"], fields["quantity_qualifier"] = _visits(value, field=what), QuantityQualifier.VISITS
    else:
        fields["amount"] = parse_amount(value, field=what)
    return build(BenefitLine, what, **fields)


def _visits(text: str, *, field: str) -> Decimal:
    number, _, unit = clean(text).partition(" ")
    if not (number.isascii() and number.isdigit()) or header_key(unit) not in ("visits", "visit"):
        raise ParseError(f"{field}: not a number of visits")
    return Decimal(number)
