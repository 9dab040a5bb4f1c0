"""The eligibility answer pages of the hub, for every payer: the member summary, the payer's benefit
layout (`layouts/`), the prior-authorization list; a "no patient" result; the candidate list of a name
search.

Completeness: the summary states how many benefit lines the page holds (`Benefit Lines`), and the
prior-authorization list is drawn after the benefit tables (a page cut short lacks it, or holds fewer
lines than it states). Consistency: the summary's payer id is the payer the page says it is about; the
member and subscriber ids agree with the relationship; a line printed twice alike counts once, twice
with different values is a contradiction; the prior-authorization list names exactly the services whose
lines say so.
"""

from __future__ import annotations

import re
from datetime import date

from aggregator.errors import ParseError
from aggregator.models import (
    AuthIndicator,
    BenefitLine,
    ClaimQuery,
    Coverage,
    CoverageStatus,
    EligibilityQuery,
    EligibilityRecord,
    Member,
    MemberNotFound,
    Payer,
    Plan,
    ServiceType,
)
from aggregator.scrapers.framework import (
    Document,
    build,
    clean,
    header_key,
    member_id_of,
    member_not_found,
    parse_date,
    read_table,
    text_of,
)
from aggregator.scrapers.framework.checks import check_own_member_ids, check_prior_auth_list
from aggregator.scrapers.framework.completeness import StatesCount, require_count
from aggregator.scrapers.framework.reading import one_per_key

from . import maps
from .layouts import LAYOUTS
from .pages import (
    MEMBER_SUMMARY,
    Candidate,
    CandidateListing,
    Definitions,
    NoMatchPage,
    check_payer_id,
    innermost_saying,
    parse_prior_auth_list,
    payer_of_page,
    prior_auth_lists,
    saying_one_of,
)

COMPLETE = StatesCount(what="the benefit tables")  # against `Benefit Lines` in the member summary
CANDIDATE_HEADERS = ("Member ID", "Patient Name", "Date of Birth", "Relationship", "Coverage")
_CANDIDATE_COUNT = re.compile(r"^(\d+) patients? match", re.IGNORECASE)
# What the "no patient" result may say (`NoMatchPage.REASONS`), in the hub's words.
NO_MATCH_REASONS = (maps.NOT_FOUND, maps.DOB_MISMATCH, maps.NAME_MISMATCH)
_COVERAGE_RANGE = re.compile(r"^(?P<word>[A-Za-z]+) \((?P<start>\S+) - (?P<end>\S+)\)$")


def split_name(text: str, *, field: str) -> tuple[str, str]:
    """`Last, First` -> (last, first)."""
    last, comma, first = text.partition(",")
    if not comma or not clean(first) or not clean(last):
        raise ParseError(f"{field} is not written as 'Last, First'")
    return clean(last), clean(first)


def parse_eligibility(doc: Document) -> EligibilityRecord:
    entry = payer_of_page(doc)
    summary = Definitions(doc, MEMBER_SUMMARY, what="member summary")
    check_payer_id(entry, summary.text("Payer ID"))
    last, first = split_name(summary.text("Patient Name"), field="patient name")
    member = build(
        Member, "member",
        member_id=member_id_of(summary.text("Member ID"), field="member id"),
        subscriber_id=member_id_of(summary.text("Subscriber ID"), field="subscriber id"),
        first_name=first,
        last_name=last,
        date_of_birth=summary.day("Date of Birth"),
        relationship=maps.RELATIONSHIPS(summary.text("Relationship")),
    )
    # The subscriber's own member id is the subscriber id; a dependent has an id of its own.
    check_own_member_ids(member)
    coverage = build(
        Coverage, "coverage",
        status=maps.COVERAGE_STATUS(summary.text("Coverage Status")),
        effective_date=summary.day("Effective Date"),
        termination_date=summary.optional_day("Termination Date"),
    )
    stated = summary.count("Benefit Lines")
    benefits, prior_auth = _benefits(doc, entry.slug, coverage, stated)
    return build(
        EligibilityRecord, "eligibility record",
        carrier=entry.slug,
        service_date=summary.day("Date of Service"),
        member=member,
        payer=build(Payer, "payer", name=summary.text("Payer"), payer_id=summary.text("Payer ID")),
        plan=build(Plan, "plan", name=summary.text("Plan"), insurance_type=maps.PLAN_TYPES(summary.text("Plan Type")),
                   group_number=summary.text("Group Number"), group_name=summary.text("Group Name")),
        coverage=coverage,
        benefits=tuple(benefits),
        prior_auth_service_types=tuple(prior_auth),
    )


def _benefits(doc: Document, payer: str, coverage: Coverage, stated: int) -> tuple[list[BenefitLine], list[ServiceType]]:
    layout = LAYOUTS[payer]
    inactive = doc.has_text(maps.INACTIVE_NOTICE)
    if coverage.status is not CoverageStatus.ACTIVE or inactive:
        # Inactive coverage: the note stands instead of the tables, and the summary says there is nothing.
        if coverage.status is CoverageStatus.ACTIVE or not inactive:
            raise ParseError("the page's coverage status disagrees with what it shows of the benefits")
        if layout.tables(doc) or prior_auth_lists(doc):
            raise ParseError("inactive coverage shown with benefits")
        COMPLETE.check(stated, 0)
        return [], []
    listed, end = parse_prior_auth_list(doc)
    read = layout.read(doc)
    tables = layout.tables(doc)
    if not tables or end not in tables[-1].xpath("following::*"):
        raise ParseError("the benefit tables are cut short: the prior-authorization list is not drawn after them")
    lines = one_per_key(read, BenefitLine.sort_key, what="benefits")
    COMPLETE.check(stated, len(lines))
    required = sorted({line.service_type for line in lines if line.prior_auth is AuthIndicator.REQUIRED},
                      key=lambda s: s.value)
    check_prior_auth_list(listed, required)
    _check_prior_auth_per_service(lines)
    return lines, listed


def _check_prior_auth_per_service(lines: list[BenefitLine]) -> None:
    """Prior authorization is a fact of the service: its lines agree, and the plan-level lines state none."""
    said: dict[object, set[AuthIndicator]] = {}
    for line in lines:
        said.setdefault(line.service_type, set()).add(line.prior_auth)
    for service, indicators in said.items():
        plan_level = service is ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE
        if len(indicators) > 1 or (AuthIndicator.UNKNOWN in indicators) != plan_level:
            raise ParseError("the benefit lines of a service disagree on whether it needs prior authorization")


def parse_no_match(doc: Document, query: EligibilityQuery | ClaimQuery) -> MemberNotFound:
    """The hub's "no patient" result: a definite answer, with the reason the hub gives (one of its known
    sentences, found by its words; none, or two, is no answer)."""
    entry = payer_of_page(doc)
    found = saying_one_of(doc, NO_MATCH_REASONS)
    if len(found) != 1:
        raise ParseError("the no-match page does not say (once) why")
    return member_not_found(found[0][0], NoMatchPage.REASONS, query, entry.slug)


def parse_candidates(doc: Document) -> CandidateListing:
    """A name search with several matches. Complete when the rows are as many as `N patients match`."""
    entry = payer_of_page(doc)
    counts = [m for el in innermost_saying(doc, lambda text: bool(_CANDIDATE_COUNT.match(text)), word="match")
              if (m := _CANDIDATE_COUNT.match(text_of(el)))]
    if not counts:
        if saying_one_of(doc, (maps.CANDIDATES_GONE,)):
            raise ParseError("the hub no longer has the candidate list")
        raise ParseError("the candidate list does not state how many patients match")
    if len(counts) > 1:
        raise ParseError("the candidate list states how many patients match twice")
    table = doc.table_with_headers(*CANDIDATE_HEADERS, field="candidates")
    _, rows = read_table(table, name="candidates", required=CANDIDATE_HEADERS)
    require_count(int(counts[0].group(1)), len(rows), what="the candidate list")
    candidates = []
    for row in rows:
        last, first = split_name(row.text("Patient Name"), field="candidate name")
        coverage = row.text("Coverage")
        start, end = _coverage_range(coverage)
        candidates.append(build(
            Candidate, "candidate",
            member_id=member_id_of(row.text("Member ID"), field="candidate member id"),
            last_name=last, first_name=first,
            date_of_birth=parse_date(row.text("Date of Birth"), field="candidate date of birth"),
            relationship=maps.RELATIONSHIPS(row.text("Relationship")),
            coverage=coverage, coverage_from=start, coverage_to=end,
        ))
    if len({c.member_id for c in candidates}) != len(candidates):
        raise ParseError("a candidate is listed twice")
    return build(CandidateListing, "candidate list", carrier=entry.slug, rows=tuple(candidates))


def _coverage_range(text: str) -> tuple[date | None, date | None]:
    """`Active` (no dates) or `Termed (MM/DD/YYYY - MM/DD/YYYY)` / `Future (MM/DD/YYYY - —)`."""
    if header_key(text) == "active":
        return None, None
    match = _COVERAGE_RANGE.match(clean(text))
    if not match or header_key(match.group("word")) not in ("termed", "future"):
        raise ParseError("a candidate's coverage is not written as the hub writes it")
    start = parse_date(match.group("start"), field="candidate coverage start")
    end = None if match.group("end") == maps.NO_VALUE else parse_date(match.group("end"), field="candidate coverage end")
    if end is not None and end < start:
        raise ParseError("a candidate's coverage ends before it starts")
    return start, end


def current_candidate(listing: CandidateListing, service_date: date) -> Candidate | None:
    """The one candidate whose coverage may be current on the date of service, or None when that is not
    exactly one. A candidate is ruled out only by dates the page prints that exclude the date of service
    ("Active" prints none: it may be current); several that may be current is never a guess."""
    possible = [c for c in listing.rows
                if (c.coverage_from is None or c.coverage_from <= service_date)
                and (c.coverage_to is None or service_date <= c.coverage_to)
                and not (c.coverage_from is None and c.coverage_to is None and header_key(c.coverage) != "active")]
    return possible[0] if len(possible) == 1 else None
