"""Cascade Care screens (the content of the `main` frame): recognition, and the eligibility parser.

Every content page has the title `Cascade Care Provider Connect - <screen>` and a footer with the
portal's date written out (`Friday, November 27, 2026`): that date is the reference of the explicit
century rule for the pages' `MM/DD/YY` dates (`maps.YEARS_AHEAD`). The portal draws that footer last, below
every table and report, so it is also what proves a page complete: a page cut short lacks it.
Pages are recognised by their titles and read by what they say: tables by header text, labels by their
words, the footer by its date; ids are only a fallback to find a control (ASP.NET prefixes its naming
containers to them, so an id is matched by its last part). Moved columns, new wrappers, comments and other
case are harmless; a renamed header or an unknown word is an error.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.models import (
    AuthorizationQuery,
    BenefitKind,
    BenefitLine,
    ClaimQuery,
    Coverage,
    CoverageStatus,
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
from aggregator.models.codes import AuthIndicator
from aggregator.scrapers.cascade import maps
from aggregator.scrapers.framework import (
    CenturyWindow,
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
    parse_money,
    parse_percent,
    parse_short_date,
    read_table,
    text_of,
)
from aggregator.scrapers.framework.checks import benefits_shown, check_own_member_ids, check_prior_auth_list
from aggregator.scrapers.framework.login import LoginMessages

TITLE_PREFIX = "Cascade Care Provider Connect - "
NETWORKS = {NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK}
_LONG_DATE = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), [A-Za-z]+ \d{1,2}, \d{4}\b",
                        re.IGNORECASE)
_FULL_DATE = re.compile(r"^\d\d/\d\d/\d{4}$")
_CONTENT = ("table", "pre")  # what the portal's footer always follows: a page is whole when it does


def title_is(doc: Document, title: str) -> bool:
    return header_key(doc.title) == header_key(TITLE_PREFIX + title)


def control(doc: Document, name: str) -> list[HtmlElement]:
    """Elements with the id `name` (or an ASP.NET naming-container id ending `_name`/`$name`), or that name."""
    return doc.root.xpath(
        "//*[@id=$n or @name=$n or substring(@id, string-length(@id) - string-length($n)) = concat('_', $n)"
        " or substring(@id, string-length(@id) - string-length($n)) = concat('$', $n)]", n=name)


def has_control(doc: Document, name: str) -> bool:
    return bool(control(doc, name))


def one_control(doc: Document, name: str, *, field: str) -> HtmlElement:
    found = control(doc, name)
    if len(found) != 1:
        raise ParseError(f"expected exactly one {field} on the page, found {len(found)}")
    return found[0]


def page_message(doc: Document) -> str | None:
    found = [text_of(el) for el in control(doc, "lblMessage") if text_of(el)]
    if found:
        return found[0]
    # Its id renamed, the message is recognised by what it says: a sentence the adapter knows.
    known = [*NOT_FOUND_MESSAGES, *(header_key(m) for m in LOGIN_SENTENCES)]
    saying = [el for el in doc.root.iter() if isinstance(el.tag, str) and el.tag not in ("html", "head", "title")
              and any(header_key(text_of(el)).startswith(k) for k in known)]
    innermost = {text_of(el) for el in saying if not any(other is not el and other in el.iterdescendants()
                                                         for other in saying)}
    return innermost.pop() if len(innermost) == 1 else None


def money(text: str, *, field: str) -> Decimal:
    """An amount the domain keeps at zero or more (billed, paid, a copay, a balance): `(25.00)` is refused."""
    amount = parse_money(text, field=field)
    if amount < 0:
        raise ParseError(f"{field}: a negative amount where none can be")
    return amount


# --- dates ------------------------------------------------------------------------------------------

class PageDates:
    """The page's own date (its footer) and the two century rules that hang on it."""

    def __init__(self, reference: date) -> None:
        self.reference = reference
        self.births = CenturyWindow(reference, 0)
        self.others = CenturyWindow(reference, maps.YEARS_AHEAD)

    @classmethod
    def of(cls, doc: Document) -> PageDates:
        """The footer's date; refused unless the footer is drawn after all of the page's content (a page
        cut short, or with its footer lost, has no trustworthy end and no century reference)."""
        written = _footer_date(doc)
        try:
            day = datetime.strptime(written, "%A, %B %d, %Y").date()
        except ValueError:
            raise ParseError("the page's footer date is not a calendar date") from None
        if day.strftime("%A").casefold() != written.split(",")[0].casefold():
            raise ParseError("the page's footer date names the wrong weekday")
        return cls(day)

    def birth(self, text: str, field: str) -> date:
        return written_date(text, field=field, window=self.births)

    def day(self, text: str, field: str) -> date:
        return written_date(text, field=field, window=self.others)

    def labels(self, doc: Document, page: str) -> Labels:
        return Labels(doc, page, absent=maps.NONE, dates=self.day)


def written_date(text: str, *, field: str, window: CenturyWindow) -> date:
    """`MM/DD/YY` (the century by `window`), or `MM/DD/YYYY` should the portal print the whole year: the
    same date, with nothing left to choose."""
    value = clean(text)
    if _FULL_DATE.match(value):
        return parse_date(value, field=field)
    return parse_short_date(value, field=field, window=window)


def _footer_date(doc: Document) -> str:
    """The long date the footer writes, found by what it says (not by the element's id)."""
    body = doc.root.find("body")
    holders = [el for el in (body if body is not None else doc.root).iter()
               if isinstance(el.tag, str) and el.tag not in ("script", "style")
               and len(_LONG_DATE.findall(text_of(el))) == 1]
    innermost = [el for el in holders if not any(other is not el and other in el.iterdescendants() for other in holders)]
    if not innermost:
        raise ParseError("the page lacks its date (the footer the two-digit years are read against)")
    footer = innermost[-1]  # the footer is drawn last; a notice above may name a day too
    for content in doc.root.iter(*_CONTENT):
        if not _follows(footer, content):
            raise ParseError("the page is cut short: its footer is not drawn after its content")
    return _LONG_DATE.findall(text_of(footer))[0]


def _follows(element: HtmlElement, anchor: HtmlElement) -> bool:
    """Whether `element` comes after all of `anchor` in document order."""
    return any(e is element for e in anchor.xpath("following::*"))


# --- recognition ------------------------------------------------------------------------------------

def screen(name_: str, title: str, control_name: str | None = None) -> type[PortalPage]:
    """A page recognised by its title (and, where two pages share a title, a control it always has)."""

    class Page(PortalPage):
        name = name_

        @classmethod
        def is_current(cls, doc: Document, url: str) -> bool:
            return title_is(doc, title) and (control_name is None or has_control(doc, control_name))

    Page.__name__ = Page.__qualname__ = "".join(w.capitalize() for w in name_.split()) + "Page"
    return Page


LoginPage = screen("login", "Provider Log In", "txtUserName")
SecurityQuestionPage = screen("security question", "Security Verification", "lblQuestion")
CaptchaPage = screen("captcha", "Security Check", "chkHuman")
AnnouncementPage = screen("announcement", "Important Announcement", "btnAcknowledge")
PasswordNoticePage = screen("password notice", "Password Expiration Notice", "btnRemindLater")
PasswordExpiredPage = screen("password expired", "Password Expired")
HomePage = screen("home", "Provider Home")
MaintenancePage = screen("maintenance", "System Maintenance")
EligibilitySearchPage = screen("eligibility search", "Eligibility Inquiry", "txtMemberId")
EligibilityResultPage = screen("eligibility detail", "Member Eligibility Detail")

def _label_says(doc: Document, name: str) -> bool:
    return any(text_of(el) for el in control(doc, name))


def _portal_page(doc: Document) -> bool:
    """A page of the portal (its title starts with the portal's name), whatever its screen's title."""
    return header_key(doc.title).startswith(header_key(TITLE_PREFIX.removesuffix(" - ")))


class ChangePasswordPage(PortalPage):
    """Change Password (`a#lnkChangePassword` in the menu): the form, again with `lblPasswordError` when the
    portal refused the new password."""

    name = "change password"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return (_portal_page(doc) and has_control(doc, "txtNewPassword")
                and has_control(doc, "btnChangePassword") and not _label_says(doc, "lblPasswordChanged"))


class PasswordChangedPage(PortalPage):
    """"Your password has been changed." (`lblPasswordChanged`)."""

    name = "password changed"

    @classmethod
    def is_current(cls, doc: Document, url: str) -> bool:
        return _portal_page(doc) and _label_says(doc, "lblPasswordChanged")


def password_refusals(doc: Document) -> list[str]:
    """Why the portal refused a new password (`lblPasswordError`: one message per problem, on lines of their
    own). They name rules, never the passwords typed."""
    said: list[str] = []
    for el in control(doc, "lblPasswordError"):
        lines = [clean(part) for part in el.itertext()]
        said += [line for line in lines if line]
    return list(dict.fromkeys(said))


LOGIN_INVALID = "Invalid user name or password."
LOGIN_LOCKED = "Your account has been locked."
LOGIN_EXPIRED = "Your session has timed out."
LOGIN_SENTENCES = (LOGIN_INVALID, LOGIN_LOCKED, LOGIN_EXPIRED)
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
    return text_of(one_control(doc, "lblQuestion", field="security question"))


# --- parsers ----------------------------------------------------------------------------------------

def parse_not_found(doc: Document, query: EligibilityQuery | AuthorizationQuery | ClaimQuery,
                    carrier: str) -> MemberNotFound:
    """The search page re-rendered with a message: a definite "no such member" result, or an error."""
    PageDates.of(doc)  # the page is whole: its footer is drawn after the form
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
    service_date = labels.day("Inquiry Date:")
    _check_member_and_coverage(member, coverage, service_date)
    benefits, precert = _benefit_section(doc, coverage)
    return build(
        EligibilityRecord, "eligibility",
        carrier=carrier,
        service_date=service_date,
        member=member,
        payer=Payer(name=labels.text("Payer:"), payer_id=labels.text("Payer ID:")),
        plan=build(Plan, "plan", name=labels.text("Product:"), insurance_type=maps.PRODUCT_TYPES(labels.text("Product Type:")),
                   group_number=labels.text("Group #:"), group_name=labels.text("Group Name:")),
        coverage=coverage,
        benefits=tuple(benefits),
        prior_auth_service_types=tuple(precert),
    )


def answer_for(record: EligibilityRecord, query: EligibilityQuery) -> EligibilityRecord:
    """The detail page answers the inquiry made: its member, birth date and inquiry date are the ones
    sent (the portal found the member by them). The page prints the birth year with two digits; when
    only the century differs from the birth date sent, the sent one is the member's (someone over 100)."""
    member = record.member
    if (member.member_id, record.service_date) != (query.member_id, query.service_date):
        raise ParseError("the eligibility page answers another member or inquiry date than the one asked")
    born = birth_as_asked(member.date_of_birth, query.date_of_birth)
    if born != query.date_of_birth:
        raise ParseError("the eligibility page shows another birth date than the one asked")
    return record.model_copy(update={"member": member.model_copy(update={"date_of_birth": born})})


def birth_as_asked(born: date, asked: date) -> date:
    """A birth date read with a two-digit year, in the century of the one the search sent when it is the
    same day of the same year of its century (the portal found the member by it); else as read."""
    if (born.month, born.day, born.year % 100) == (asked.month, asked.day, asked.year % 100):
        return asked
    return born


def _check_member_and_coverage(member: Member, coverage: Coverage, inquiry: date) -> None:
    """What the page states twice: the subscriber, and only the subscriber, has the subscriber number as
    member number (Cascade numbers each dependent); "Eligible" is the coverage dates holding the inquiry
    date, "Not Eligible" their not holding it."""
    check_own_member_ids(member)
    covered = coverage.effective_date <= inquiry and (coverage.termination_date is None
                                                      or inquiry <= coverage.termination_date)
    if covered != (coverage.status is CoverageStatus.ACTIVE):
        raise ParseError("the eligibility word disagrees with the coverage dates and the inquiry date")


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
    keys = [tuple(header_key(row.text(h)) for h in fixed) for row in rows]
    if len(set(keys)) != len(keys):
        raise ParseError("an accumulator row appears twice")
    _check_in_pairs([(row.text("Accumulator"), row.text("Tier"), maps.PERIODS(row.text("Period Type"))) for row in rows],
                    what="an accumulator")
    _check_not_above_total(rows, networks)
    for row in rows:
        kind = maps.ACCUMULATORS(row.text("Accumulator"))
        for header, network in networks.items():
            cell = row.text(header)
            if header_key(cell) == header_key(maps.NONE):
                continue
            lines.append(build(BenefitLine, "accumulator", service_type=ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE,
                               kind=kind, network=network, coverage_level=maps.LEVELS(row.text("Tier")),
                               time_period=maps.PERIODS(row.text("Period Type")),
                               amount=money(cell, field=f"{kind.label} amount")))
    return lines


def _check_in_pairs(keyed: list[tuple[object, ...]], *, what: str) -> None:
    """The portal prints a plan-year total and its balance remaining as a pair of rows (accumulators,
    visit limits): one without the other is a table that lost a row, not a smaller answer.
    `keyed`: (what the row is about..., its period)."""
    periods: dict[tuple[str, ...], set[object]] = {}
    for *key, period in keyed:
        periods.setdefault(tuple(header_key(str(k)) for k in key), set()).add(period)
    if any(found != {TimePeriod.CALENDAR_YEAR, TimePeriod.REMAINING} for found in periods.values()):
        raise ParseError(f"{what} is shown without its plan-year total or its balance remaining")


def _check_not_above_total(rows: list[TableRow], networks: dict[str, NetworkIndicator]) -> None:
    """An accumulator's balance remaining is never above its plan-year total (same kind, tier, network)."""
    amounts: dict[tuple[str, str, str, TimePeriod], Decimal] = {}
    for row in rows:
        period = maps.PERIODS(row.text("Period Type"))
        for header in networks:
            cell = row.text(header)
            if header_key(cell) != header_key(maps.NONE):
                key = (header_key(row.text("Accumulator")), header_key(row.text("Tier")), header, period)
                amounts[key] = money(cell, field="accumulator amount")
    for (kind, tier, header, period), amount in amounts.items():
        total = amounts.get((kind, tier, header, TimePeriod.CALENDAR_YEAR))
        if period is TimePeriod.REMAINING and total is not None and amount > total:
            raise ParseError("an accumulator's balance remaining is above its plan-year total")


def _services(table: HtmlElement) -> tuple[list[BenefitLine], list[ServiceType]]:
    fixed = ("Service Category", "Benefit", "Precert")
    headers, rows = read_table(table, name="benefits", required=fixed)
    networks = columns_named(headers, fixed, maps.NETWORKS, NETWORKS, table="benefits")
    by_service: dict[ServiceType, list[TableRow]] = {}
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
        _check_in_pairs([(kind, period) for kind, period in kinds if kind is BenefitKind.LIMITATION],
                        what=f"{service.label} visit limit")
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


def _service_line(service: ServiceType, network: NetworkIndicator, kind: BenefitKind, period: TimePeriod | None, text: str,
                  prior_auth: AuthIndicator) -> BenefitLine:
    field = f"{service.label} {kind.label}"
    if kind is BenefitKind.COPAY:
        return build(BenefitLine, field, service_type=service, kind=kind, network=network,
                     amount=money(text, field=field), prior_auth=prior_auth)
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
