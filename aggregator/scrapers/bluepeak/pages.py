"""Pure parsers of BluePeak's rendered screens (captured after every accordion was opened).

The record comes from what the screen shows: definition lists read by label words, tables by header
text, accordions by their ARIA toggles, never by ids or classes. The JSON the page loaded is kept in the
evidence HTML; every row and value the record took from the screen is compared with it (data.py, the
framework's `Agreement`), so no row is silently dropped and no value the screen alone says is kept. A
screen that is not fully drawn, a list whose stated count disagrees with its rows, a value no map knows,
or a disagreement between two statements is an error. Totals, statuses and dates of the records are
checked by the framework's invariants on every parse.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml.html import HtmlElement

from aggregator.errors import ParseError
from aggregator.models import (
    Adjustment,
    AuthIndicator,
    Authorization,
    AuthorizationList,
    AuthorizationQuery,
    AuthorizedService,
    BenefitKind,
    BenefitLine,
    ClaimLine,
    ClaimList,
    ClaimQuery,
    ClaimStatus,
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
from aggregator.scrapers.bluepeak import data, maps
from aggregator.scrapers.bluepeak.screens import alerts, headings
from aggregator.scrapers.framework import (
    Document,
    build,
    clean,
    header_key,
    member_id_of,
    parse_money,
    parse_percent,
    parse_quantity,
    read_table,
    text_of,
)
from aggregator.scrapers.framework.checks import benefits_shown, check_prior_auth_list
from aggregator.scrapers.framework.completeness import require_count
from aggregator.scrapers.framework.listings import claim_number_key
from aggregator.scrapers.framework.reading import parse_adjustment
from aggregator.scrapers.framework.spa import (
    Accordion,
    Definitions,
    accordions,
    api_snapshot,
    mapped_columns,
    next_element,
    opened_panel,
)

NETWORKS = {NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK}
INFORMATIONAL = ("Notes", "Remarks")  # v2 columns that carry no value the record needs
_VISITS = re.compile(r"^(\d+) visits?$", re.IGNORECASE)
# What the app draws between the parts of an item's title line ("Chiropractic · Approved") and between two
# dates ("Jul 4, 2025 – Jul 6, 2025"); other dots and dashes a release might draw read the same.
_DOTS = re.compile("[\u00b7\u2022\u22c5]")
_DASHES = re.compile("\\s[-\u2010-\u2015]\\s")
_COUNT = re.compile(r"^(\d+) (authorization|claim)(\(s\)|s)?$")


def day(text: str, field: str) -> date:
    try:
        return datetime.strptime(clean(text), maps.DATE_FORMAT).date()
    except ValueError:
        raise ParseError(f"{field}: not a date in the portal's format") from None


def shows(doc: Document, sentence: str) -> bool:
    """An element of the screen says `sentence` (the app's word list in its config script does not count)."""
    return doc.text_block(sentence) is not None


def labels(scope: HtmlElement, page: str) -> Definitions:
    return Definitions(scope, page, absent=maps.NO_VALUE, dates=day)


# --- member search ----------------------------------------------------------------------------------

def refusal(doc: Document, query: EligibilityQuery | AuthorizationQuery | ClaimQuery, carrier: str) -> MemberNotFound | None:
    """The search's "no such member" message as a result, checked against the API answer it drew.
    Other alerts (a banner about the portal) carry no answer and are left alone."""
    reasons = {maps.SEARCH_REFUSALS(m) for m in alerts(doc) if m in maps.SEARCH_REFUSALS}
    if not reasons:
        return None
    if len(reasons) > 1:
        raise ParseError("the page shows two different search messages")
    reason = reasons.pop()
    snapshot = api_snapshot(doc, "/api/members/search")
    code = (snapshot.body or {}).get("error", {}).get("code") if isinstance(snapshot.body, dict) else None
    expected = {RejectReason.NOT_FOUND: "MEMBER_NOT_FOUND", RejectReason.DOB_MISMATCH: "DOB_MISMATCH",
                RejectReason.INVALID_NAME: "NAME_MISMATCH"}[reason]
    if snapshot.status != 404 or code != expected:
        raise ParseError("the search message disagrees with the portal's answer")
    return MemberNotFound(carrier=carrier, query=query, reject_reason=reason)


CANDIDATE_HEADERS = ("Member ID", "Date of birth", "Relationship")


def is_candidate_list(doc: Document) -> bool:
    """The "Choose a member" list is drawn (recognised by its table's headers, not its id)."""
    return bool(doc.tables_with_headers(*CANDIDATE_HEADERS))


def candidate_ids(doc: Document) -> list[str]:
    """Member ids of the "Choose a member" list, in page order (each row's button carries its id), after
    the whole list agrees with the search response (a member missing from the screen is never "not found")."""
    table = doc.table_with_headers(*CANDIDATE_HEADERS, field="member candidates")
    _, rows = read_table(table, name="member candidates", required=("Member ID", "First name", "Last name",
                                                                     "Date of birth", "Relationship"))
    shown: list[dict[str, object]] = []
    ids: list[str] = []
    for row in rows:
        member_id = member_id_of(row.text("Member ID"), field="candidate member id")
        buttons = row["Action"].xpath(".//button[@data-member-id]")
        if len(buttons) != 1 or buttons[0].get("data-member-id") != member_id:
            raise ParseError("a candidate's button names another member than its row")
        shown.append({"member_id": member_id, "first_name": row.text("First name"), "last_name": row.text("Last name"),
                      "date_of_birth": day(row.text("Date of birth"), "candidate date of birth"),
                      "relationship": maps.RELATIONSHIPS(row.text("Relationship"))})
        ids.append(member_id)
    data.CANDIDATES.rows(shown, _sent(doc, "/api/members/search", "candidates", "member search"))
    return ids


def pick_candidate(doc: Document, member_id: str) -> str | None:
    """The candidate whose member id is exactly the one asked for; None when no row has it. Two rows
    with that id cannot be told apart: an error, never a choice."""
    matches = [c for c in candidate_ids(doc) if c == member_id]
    if len(matches) > 1:
        raise ParseError("two candidates carry the same member id")
    return matches[0] if matches else None


# --- eligibility ------------------------------------------------------------------------------------

def parse_eligibility(doc: Document, carrier: str) -> EligibilityRecord:
    page = labels(doc.root, "eligibility result")
    member = build(Member, "member", member_id=member_id_of(page.text("Member ID"), field="member id"),
                   subscriber_id=member_id_of(page.text("Subscriber ID"), field="subscriber id"),
                   first_name=page.text("First name"), last_name=page.text("Last name"),
                   date_of_birth=page.day("Date of birth"), relationship=maps.RELATIONSHIPS(page.text("Relationship")))
    coverage = build(Coverage, "coverage", status=maps.COVERAGE_STATUS(page.text("Coverage status")),
                     effective_date=page.day("Effective date"), termination_date=page.optional_day("End date"))
    benefits, listed = _benefits(doc, coverage)
    record = build(EligibilityRecord, "eligibility record", carrier=carrier, service_date=page.day("Date of service"),
                   member=member, payer=build(Payer, "payer", name=page.text("Payer"), payer_id=page.text("Payer ID")),
                   plan=build(Plan, "plan", name=page.text("Plan"), insurance_type=maps.PLAN_TYPES(page.text("Plan type")),
                              group_number=page.text("Group number"), group_name=page.text("Group name")),
                   coverage=coverage, benefits=tuple(benefits), prior_auth_service_types=tuple(listed))
    data.eligibility_agrees(record, api_snapshot(doc, "/eligibility").body)
    return record


def _benefits(doc: Document, coverage: Coverage) -> tuple[list[BenefitLine], list[ServiceType]]:
    sections = accordions(doc.root, doc)
    grids = doc.tables_with_headers("Accumulator", "Level", "Period")
    if not benefits_shown(coverage, inactive_notice=shows(doc, maps.INACTIVE_NOTICE),
                          shows_benefits=bool(grids or sections)):
        return [], []
    lines = _accumulators(doc.table_with_headers("Accumulator", "Level", "Period", field="deductible & out-of-pocket"))
    required = []
    seen: set[ServiceType] = set()
    for section in sections:
        service = maps.SERVICES(section.title)
        if service in seen:
            raise ParseError(f"service '{service.label}' appears twice")
        seen.add(service)
        panel = opened_panel(section, name=service.label)
        prior_auth = maps.PRIOR_AUTH(labels(panel, service.label).text("Prior authorization"))
        if _summary_prior_auth(section.summary, service) is not prior_auth:
            raise ParseError(f"{service.label}: the badge beside its title disagrees with its prior authorization")
        if prior_auth.value == "Y":
            required.append(service)
        lines += _service_lines(panel, service, prior_auth)
    listed = _prior_auth_list(doc)
    check_prior_auth_list(listed, required)
    return lines, listed


def _accumulators(table: HtmlElement) -> list[BenefitLine]:
    fixed = ("Accumulator", "Level", "Period")
    headers, rows = read_table(table, name="deductible & out-of-pocket", required=fixed)
    networks = mapped_columns(headers, fixed, maps.NETWORKS, NETWORKS, table="deductible & out-of-pocket",
                              informational=INFORMATIONAL)
    lines = []
    for row in rows:
        kind, level, period = maps.ACCUMULATORS(row.text("Accumulator")), maps.LEVELS(row.text("Level")), maps.PERIODS(row.text("Period"))
        for header, network in networks.items():
            cell = row.text(header)
            if cell == maps.NO_VALUE:
                continue
            lines.append(build(BenefitLine, f"{kind.label} line", service_type=ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE,
                               kind=kind, network=network, coverage_level=level, time_period=period,
                               amount=parse_money(cell, field=f"{kind.label} amount")))
    return lines


def _service_lines(panel: HtmlElement, service: ServiceType, prior_auth: AuthIndicator) -> list[BenefitLine]:
    tables = list(panel.iter("table"))
    if len(tables) != 1:
        raise ParseError(f"{service.label}: expected one benefits table, found {len(tables)}")
    headers, rows = read_table(tables[0], name=f"{service.label} benefits", required=("Benefit",))
    networks = mapped_columns(headers, ("Benefit",), maps.NETWORKS, NETWORKS, table=f"{service.label} benefits",
                              informational=INFORMATIONAL)
    lines: list[BenefitLine] = []
    for header, network in networks.items():
        cells = [(maps.BENEFIT_ROWS(r.text("Benefit")), r.text(header)) for r in rows]
        not_covered = [header_key(text) == header_key(maps.NOT_COVERED) for _, text in cells]
        if any(not_covered):
            if not all(not_covered):
                raise ParseError(f"{service.label}: '{maps.NOT_COVERED}' mixed with benefit values")
            lines.append(build(BenefitLine, f"{service.label} not covered", service_type=service,
                               kind=BenefitKind.NON_COVERED, network=network, prior_auth=prior_auth))
            continue
        for (kind, period), text in cells:
            if text == maps.NO_VALUE:
                continue
            field = f"{service.label} {kind.label}"
            value: dict[str, object]
            if kind is BenefitKind.COPAY:
                value = {"amount": parse_money(text, field=field)}
            elif kind is BenefitKind.COINSURANCE:
                value = {"percent": parse_percent(text, field=field)}
            else:
                match = _VISITS.match(clean(text))
                if not match:
                    raise ParseError(f"{field}: not a number of visits")
                value = {"quantity": Decimal(match.group(1)), "quantity_qualifier": QuantityQualifier.VISITS,
                         "time_period": period}
            lines.append(build(BenefitLine, field, service_type=service, kind=kind, network=network,
                               prior_auth=prior_auth, **value))
    return lines


def _summary_prior_auth(summary: str, service: ServiceType) -> AuthIndicator:
    """What a service's title line says about prior authorization: the app draws a badge only when it
    is required, so no badge says "not required"."""
    if not summary:
        return AuthIndicator.NOT_REQUIRED
    said = header_key(summary)
    prefix = header_key(maps.PRIOR_AUTH_BADGE)
    if not said.startswith(prefix):
        raise ParseError(f"{service.label}: its title line says something the adapter does not know")
    return maps.PRIOR_AUTH(said[len(prefix):])


def _unwrapped(element: HtmlElement | None) -> HtmlElement | None:
    """`element`, or what it wraps when it is only a wrapper (a layout <div> around one element)."""
    while (element is not None and element.tag in ("div", "section") and not clean(element.text)
           and len([c for c in element if isinstance(c.tag, str)]) == 1):
        element = next(c for c in element if isinstance(c.tag, str))
    return element


def _prior_auth_list(doc: Document) -> list[ServiceType]:
    titles = [h for h in headings(doc) if header_key(text_of(h)) == header_key(maps.PRIOR_AUTH_TITLE)]
    if len(titles) != 1:
        raise ParseError("the page lacks the prior-authorization list")
    body = _unwrapped(next_element(titles[0]))
    if body is None:
        raise ParseError("the prior-authorization list is empty")
    if body.tag == "ul":
        return [maps.SERVICES(text_of(item)) for item in body.iter("li")]
    if header_key(text_of(body)) == header_key(maps.PRIOR_AUTH_NONE):
        return []
    raise ParseError("the prior-authorization list is neither a list nor 'none'")


# --- authorizations ---------------------------------------------------------------------------------

def _items(doc: Document, what: str, *, none: str) -> list[Accordion]:
    """The accordions of a list screen, complete: as many as the count it prints ("3 claim(s)"), or
    none when it says `none` (and then no count). Each is compared with the API's items afterwards."""
    sections = accordions(doc.root, doc)
    says_none = shows(doc, none)
    counts = [int(m.group(1)) for m in (_COUNT.match(header_key(text_of(h))) for h in headings(doc)) if m]
    if len(counts) > 1:
        raise ParseError(f"the {what} list states its count twice")
    if says_none:
        if sections or counts:
            raise ParseError(f"the page says there are no {what}s and shows a {what} list")
        return []
    if not sections and not counts:
        raise ParseError(f"the page shows neither {what}s nor '{none}'")
    require_count(counts[0] if counts else None, len(sections), what=f"the {what} list")
    return sections


def _sent(doc: Document, path_part: str, list_key: str, what: str) -> Any:
    """The list of items the API sent for the screen (its stated count, when it sends one, agreeing)."""
    body = api_snapshot(doc, path_part).body
    items = body.get(list_key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ParseError(f"the {what} response kept with the page is not the one the screen was drawn from")
    if "count" in body and body["count"] != len(items):
        raise ParseError(f"the {what} response states a count that disagrees with its items")
    return items


def parse_authorizations(doc: Document, query: AuthorizationQuery, carrier: str) -> AuthorizationList:
    member = labels(doc.root, "authorization member")
    if (member_id_of(member.text("Member ID"), field="member id"), member.day("Date of birth")) != (
            query.member_id, query.date_of_birth):
        raise ParseError("the authorizations shown are for a different member than the one searched")
    sections = _items(doc, "authorization", none=maps.NO_AUTHORIZATIONS)
    found = [_authorization(opened_panel(s, name="authorization"), s.title, carrier) for s in sections]
    for section, authorization in zip(sections, found, strict=True):
        service, status = _summary_parts(section.summary, "authorization", 2)
        if (maps.AUTH_SERVICES(service), maps.AUTH_STATUS(status)) != (authorization.service_type, authorization.status):
            raise ParseError("an authorization's title line disagrees with its panel")
    data.AUTHORIZATIONS.rows(found, _sent(doc, "/authorizations", "authorizations", "authorization"))
    return build(AuthorizationList, "authorization list", carrier=carrier, query=query, authorizations=tuple(found))


def _summary_parts(summary: str, what: str, count: int) -> list[str]:
    """The parts of an item's title line ("Chiropractic · Approved"), as many as the app draws."""
    parts = [clean(part) for part in _DOTS.split(summary)]
    if len(parts) != count or not all(parts):
        raise ParseError(f"a {what}'s title line is not in the form the portal draws")
    return parts


def _panel(panel: HtmlElement, title: str, *, what: str, number_label: str) -> tuple[Definitions, str, HtmlElement]:
    """An opened item's labels, its number (the one its heading shows) and its one table."""
    page = labels(panel, what)
    number = page.text(number_label)
    if number != title:
        raise ParseError(f"a {what}'s panel names another number than its heading")
    tables = list(panel.iter("table"))
    if len(tables) != 1:
        raise ParseError(f"a {what} lacks its table")
    return page, number, tables[0]


def _authorization(panel: HtmlElement, title: str, carrier: str) -> Authorization:
    page, number, table = _panel(panel, title, what="authorization", number_label="Authorization number")
    reason = page.optional("Decision reason")
    _, rows = read_table(table, name="authorized services", required=("Procedure", "Unit", "Approved", "Used", "Remaining"))
    services = tuple(build(AuthorizedService, "authorized service", procedure_code=row.text("Procedure"),
                           unit=maps.UNITS(row.text("Unit")), approved=parse_quantity(row.text("Approved"), field="approved"),
                           used=parse_quantity(row.text("Used"), field="used"),
                           remaining=parse_quantity(row.text("Remaining"), field="remaining")) for row in rows)
    return build(Authorization, "authorization", carrier=carrier,
                 member_id=member_id_of(page.text("Member ID"), field="member id"), auth_number=number,
                 status=maps.AUTH_STATUS(page.text("Status")), request_category=maps.REQUEST_TYPES(page.text("Request type")),
                 service_type=maps.AUTH_SERVICES(page.text("Service")), services=services,
                 effective_date=page.optional_day("Effective date"), expiration_date=page.optional_day("Expiration date"),
                 servicing_provider_name=page.text("Servicing provider"), servicing_provider_npi=page.optional("Provider NPI"),
                 decision_reason=maps.DECISION_REASONS(reason) if reason else None, last_updated=page.day("Last updated"))


# --- claims -----------------------------------------------------------------------------------------

def parse_claims(doc: Document, query: ClaimQuery, carrier: str) -> ClaimList:
    criteria = labels(doc.root, "claim search")
    if query.claim_number:
        shown: tuple[object, ...] = (claim_number_key(criteria.text("Claim number")),)
        wanted: tuple[object, ...] = (claim_number_key(query.claim_number),)
    else:
        shown = (member_id_of(criteria.text("Member ID"), field="member id"), criteria.day("Service from"),
                 criteria.day("Service to"))
        wanted = (query.member_id, query.service_from, query.service_to)
    if shown != wanted:
        raise ParseError("the claims shown are for a different search than the one made")
    sections = _items(doc, "claim", none=maps.NO_CLAIMS)
    claims = [_claim(opened_panel(s, name="claim"), s.title, carrier) for s in sections]
    for section, claim in zip(sections, claims, strict=True):
        dates, status = _summary_parts(section.summary, "claim", 2)
        first, _, last = _DASHES.sub("\n", dates).partition("\n")
        if (day(first, "claim summary date"), day(last, "claim summary date"), maps.CLAIM_STATUS(status)) != (
                claim.service_from, claim.service_to, claim.status_category):
            raise ParseError("a claim's title line disagrees with its panel")
    data.CLAIMS.rows(claims, _sent(doc, "/claims", "claims", "claim"))
    return build(ClaimList, "claim list", carrier=carrier, query=query, claims=tuple(claims))


def _claim(panel: HtmlElement, title: str, carrier: str) -> ClaimStatus:
    page, number, table = _panel(panel, title, what="claim", number_label="Claim number")
    _, rows = read_table(table, name="service lines", required=(
        "Line", "Procedure", "Date", "Units", "Billed", "Allowed", "Paid", "Adjustments"))
    lines = tuple(build(ClaimLine, "service line", line_number=int(parse_quantity(row.text("Line"), field="line")),
                        procedure_code=row.text("Procedure"), service_date=day(row.text("Date"), "line date"),
                        units=parse_quantity(row.text("Units"), field="units"),
                        billed=parse_money(row.text("Billed"), field="line billed"),
                        allowed=parse_money(row.text("Allowed"), field="line allowed"),
                        paid=parse_money(row.text("Paid"), field="line paid"),
                        adjustments=_adjustments(row["Adjustments"])) for row in rows)
    # Totals against lines and adjustments, and status against dates and payment, are the framework's
    # invariants (run on every parsed record); the word against the code is this portal's vocabulary.
    status, code = maps.CLAIM_STATUS(page.text("Status")), page.text("Status code")
    if code not in maps.STATUS_CODES_OF.get(status, frozenset()):
        raise ParseError("a claim's status word contradicts its status code")
    return build(ClaimStatus, "claim", carrier=carrier, payer_claim_number=number,
                 provider_account_number=page.text("Patient account"),
                 member_id=member_id_of(page.text("Member ID"), field="member id"),
                 service_from=page.day("Service from"), service_to=page.day("Service to"), billed=page.money("Billed"),
                 allowed=page.optional_money("Allowed"), paid=page.money("Paid"),
                 patient_responsibility=page.optional_money("Member owes"), status_category=status, status_code=code,
                 received_date=page.day("Received"), adjudicated_date=page.optional_day("Processed"),
                 paid_date=page.optional_day("Paid on"), check_number=page.optional("Payment number"), lines=lines)


def _adjustments(cell: HtmlElement) -> tuple[Adjustment, ...]:
    items = [text_of(li) for li in cell.iter("li")]
    if not items:
        if text_of(cell) != maps.NO_VALUE:
            raise ParseError("an adjustments cell is neither a list nor empty")
        return ()
    return tuple(parse_adjustment(item, field="adjustment") for item in items)
