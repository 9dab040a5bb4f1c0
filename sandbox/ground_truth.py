"""Ground truth: the normalized answer a sandbox portal shows, computed from the dataset alone.

Portals call `eligibility` and only *format* its result, and tests compare an adapter's parse of the
HTML with the same call, field by field. Nothing here ever reads HTML.

Rules (also in sandbox/README.md):
- unknown member id -> MemberNotFound(NOT_FOUND, AAA03 75); DOB differs -> DOB_MISMATCH (71); a last
  name given and different (case and spacing ignored) -> INVALID_NAME (73); checked in that order.
- otherwise a record: coverage ACTIVE when effective <= service date <= termination (or open-ended),
  else INACTIVE; termed and future-effective members are found, with their dates.
- benefit lines and the prior-auth list only when coverage is active (the portal shows no benefits
  for inactive coverage). Accumulator-based values (remaining) are as of the dataset's `as_of`.
- prior_auth on a service's lines (every kind, both networks, including Non-Covered lines) is
  REQUIRED when the plan lists the service, NOT_REQUIRED otherwise; plan-level (30) lines carry
  UNKNOWN because the portal states nothing about authorization for deductibles.
- authorizations / claims (member searches): NOT_FOUND or DOB_MISMATCH as a `RejectReason`, otherwise
  every authorization of the member, or every claim whose service dates overlap the range; a claim
  number search gives that claim or an empty list.

Every function takes the generated `Dataset` or a portal's `PortalState`; with the state it answers
from the portal's current data (after `POST /_sandbox/data` changes).
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Literal, Protocol, TypeVar

from aggregator.models import (
    AuthIndicator,
    BenefitKind,
    BenefitLine,
    Coverage,
    CoverageLevel,
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
from aggregator.models.authorization import Authorization, AuthorizationList, AuthorizationQuery, AuthorizedService
from aggregator.models.claims import Adjustment, ClaimLine, ClaimList, ClaimQuery, ClaimStatus
from aggregator.models.codes import AuthStatus, ClaimStatusCategory
from sandbox import names
from sandbox.activity import CLAIM_LOOKBACK_DAYS, MANY_CLAIMS, AuthorizationData, ClaimData
from sandbox.dataset import CarrierData, Dataset, MemberData, rng_for
from sandbox.plans import SERVICES, CostShare, money

PLAN_LEVEL = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE
R = TypeVar("R")  # a record on a detail page


class HasCurrentDataset(Protocol):
    """A running portal's `PortalState`: the dataset as changed at run time (`POST /_sandbox/data`)."""

    def current_dataset(self) -> Dataset: ...


# Every ground-truth function takes the generated `Dataset` or a portal's state; with the state it
# answers from the data that portal renders *now* (after run-time changes).
DatasetSource = Dataset | HasCurrentDataset


def _dataset(source: DatasetSource) -> Dataset:
    if isinstance(source, Dataset):
        return source
    current = getattr(source, "current_dataset", None)
    if not callable(current):
        raise TypeError(f"expected a Dataset or a PortalState, not {type(source).__name__}")
    return current()


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def eligibility(dataset: DatasetSource, carrier: str, query: EligibilityQuery) -> EligibilityRecord | MemberNotFound:
    data = _dataset(dataset).carrier(carrier)
    member = data.member(query.required_member_id)
    if member is None:
        return MemberNotFound(carrier=carrier, query=query, reject_reason=RejectReason.NOT_FOUND)
    if member.date_of_birth != query.date_of_birth:
        return MemberNotFound(carrier=carrier, query=query, reject_reason=RejectReason.DOB_MISMATCH)
    if query.last_name and _name_key(query.last_name) != _name_key(member.last_name):
        return MemberNotFound(carrier=carrier, query=query, reject_reason=RejectReason.INVALID_NAME)

    plan, group = data.plan_for(member), data.group_for(member)
    active = member.covered_on(query.service_date)
    return EligibilityRecord(
        carrier=carrier,
        service_date=query.service_date,
        member=Member(
            member_id=member.member_id, subscriber_id=member.subscriber_id, first_name=member.first_name,
            last_name=member.last_name, date_of_birth=member.date_of_birth, relationship=member.relationship,
        ),
        payer=Payer(name=data.profile.payer_name, payer_id=data.profile.payer_id),
        plan=Plan(name=plan.name, insurance_type=plan.insurance_type, group_number=group.number,
                  group_name=group.name),
        coverage=Coverage(
            status=CoverageStatus.ACTIVE if active else CoverageStatus.INACTIVE,
            effective_date=member.effective_date, termination_date=member.termination_date,
        ),
        benefits=benefit_lines(data, member) if active else (),
        prior_auth_service_types=plan.prior_auth if active else (),
        provenance=None,
    )


def benefit_lines(data: CarrierData, member: MemberData) -> tuple[BenefitLine, ...]:
    plan = data.plan_for(member)
    household = data.household(member)
    lines: list[BenefitLine] = []
    for network, deductible in plan.deductible.items():
        lines += _accumulated(BenefitKind.DEDUCTIBLE, network, deductible, member, household, "deductible_met")
        lines += _accumulated(BenefitKind.OUT_OF_POCKET, network, plan.out_of_pocket[network], member, household,
                              "out_of_pocket_met")
    for service in SERVICES:
        auth = AuthIndicator.REQUIRED if service in plan.prior_auth else AuthIndicator.NOT_REQUIRED
        for network, tier in plan.services[service].items():
            if not tier.covered:
                lines.append(BenefitLine(service_type=service, kind=BenefitKind.NON_COVERED, network=network,
                                         prior_auth=auth))
                continue
            if tier.copay is not None:
                lines.append(BenefitLine(service_type=service, kind=BenefitKind.COPAY, network=network,
                                         amount=tier.copay, prior_auth=auth))
            if tier.coinsurance is not None:
                lines.append(BenefitLine(service_type=service, kind=BenefitKind.COINSURANCE, network=network,
                                         percent=tier.coinsurance, prior_auth=auth))
            if tier.visit_limit:
                used = member.accumulators.visits_used.get((service, network), 0)
                for period, quantity in ((TimePeriod.CALENDAR_YEAR, tier.visit_limit),
                                         (TimePeriod.REMAINING, max(0, tier.visit_limit - used))):
                    lines.append(BenefitLine(
                        service_type=service, kind=BenefitKind.LIMITATION, network=network, time_period=period,
                        quantity=Decimal(quantity), quantity_qualifier=QuantityQualifier.VISITS, prior_auth=auth,
                    ))
    return tuple(lines)


def _accumulated(kind: BenefitKind, network: NetworkIndicator, totals: CostShare, member: MemberData,
                 household: Sequence[MemberData], field: str) -> list[BenefitLine]:
    """Total and remaining at IND (and FAM for family coverage) for a deductible or out-of-pocket."""
    def met(m: MemberData) -> Decimal:
        return getattr(m.accumulators, field)[network]

    family_remaining = max(money(0), totals.family - sum((met(m) for m in household), money(0)))
    individual_remaining = max(money(0), totals.individual - met(member))
    if member.family_coverage:  # embedded: an individual never has more left than the family
        individual_remaining = min(individual_remaining, family_remaining)
    values = [(CoverageLevel.INDIVIDUAL, TimePeriod.CALENDAR_YEAR, totals.individual),
              (CoverageLevel.INDIVIDUAL, TimePeriod.REMAINING, individual_remaining)]
    if member.family_coverage:
        values += [(CoverageLevel.FAMILY, TimePeriod.CALENDAR_YEAR, totals.family),
                   (CoverageLevel.FAMILY, TimePeriod.REMAINING, family_remaining)]
    return [BenefitLine(service_type=PLAN_LEVEL, kind=kind, network=network, coverage_level=level,
                        time_period=period, amount=amount) for level, period, amount in values]


# --- samples for tests and the demo ----------------------------------------------------------------

SampleKind = Literal["active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob",
                     "wrong_last_name"]
DEFAULT_SAMPLE_KINDS: tuple[SampleKind, ...] = (
    "active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob",
)


@dataclass(frozen=True)
class MemberSample:
    kind: SampleKind
    query: EligibilityQuery
    expected: EligibilityRecord | MemberNotFound
    member: MemberData | None  # None for not_found


def sample_members(source: DatasetSource, carrier: str, n: int, kinds: Sequence[SampleKind] = DEFAULT_SAMPLE_KINDS,
                   service_date: date | None = None) -> list[MemberSample]:
    """`n` lookups cycling through `kinds` in order, members drawn without repeats while they last.

    Deterministic for a dataset and arguments. Every third lookup of a found member also gives the
    last name, so the optional field is exercised.
    """
    if not kinds:
        raise ValueError("kinds must not be empty")
    dataset = _dataset(source)
    data = dataset.carrier(carrier)
    day = service_date or dataset.as_of
    rng = rng_for(dataset.seed, carrier, "samples", day.isoformat())
    everyone = list(data.members.values())
    active = [m for m in everyone if m.coverage_kind(day) == "active"]
    pools: dict[str, list[MemberData]] = {
        "active_subscriber": [m for m in active if m.is_subscriber],
        "dependent": [m for m in active if not m.is_subscriber],
        "termed": [m for m in everyone if m.coverage_kind(day) == "termed"],
        "future": [m for m in everyone if m.coverage_kind(day) == "future"],
        "wrong_dob": list(active),
        "wrong_last_name": list(active),
    }
    for pool in pools.values():
        rng.shuffle(pool)
    taken: dict[str, int] = {}
    samples: list[MemberSample] = []
    for index in range(n):
        kind = kinds[index % len(kinds)]
        position = taken.get(kind, 0)
        taken[kind] = position + 1
        if kind == "not_found":
            member_id = data.not_found_ids[position % len(data.not_found_ids)]
            dob = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))
            query = EligibilityQuery(member_id=member_id, date_of_birth=dob, service_date=day)
            samples.append(MemberSample(kind, query, eligibility(dataset, carrier, query), None))
            continue
        pool = pools[kind]
        if not pool:
            raise ValueError(f"carrier '{carrier}' has no member of kind '{kind}' on {day}")
        member = pool[position % len(pool)]
        dob, last_name = member.date_of_birth, member.last_name if index % 3 == 0 else None
        if kind == "wrong_dob":
            dob = dob + timedelta(days=rng.choice((-400, -31, -1, 1, 31, 365)))
        elif kind == "wrong_last_name":
            last_name = rng.choice([n for n in names.LAST if _name_key(n) != _name_key(member.last_name)])
        query = EligibilityQuery(member_id=member.member_id, date_of_birth=dob, service_date=day,
                                 last_name=last_name)
        samples.append(MemberSample(kind, query, eligibility(dataset, carrier, query), member))
    return samples


# --- authorizations and claims -----------------------------------------------------------------------
#
# Every function below takes a `Dataset` or anything with a `current_dataset()` method (a running
# portal's `PortalState`): a portal changed at run time (`POST /_sandbox/data`) renders from its
# state's current dataset, so passing the state gives the truth the portal shows *now*.

def authorization_record(carrier: str, data: AuthorizationData) -> Authorization:
    return Authorization(
        carrier=carrier, member_id=data.member_id, auth_number=data.auth_number, status=data.status,
        request_category=data.request_category, service_type=data.service_type,
        services=tuple(AuthorizedService(procedure_code=s.procedure_code, unit=s.unit, approved=Decimal(s.approved),
                                         used=Decimal(s.used), remaining=Decimal(s.remaining))
                       for s in data.services),
        effective_date=data.effective_date, expiration_date=data.expiration_date,
        servicing_provider_name=data.provider_name, servicing_provider_npi=data.provider_npi,
        decision_reason=data.decision_reason, last_updated=data.last_updated,
    )


def claim_record(carrier: str, data: ClaimData) -> ClaimStatus:
    return ClaimStatus(
        carrier=carrier, payer_claim_number=data.claim_number, provider_account_number=data.account_number,
        member_id=data.member_id, service_from=data.service_from, service_to=data.service_to, billed=data.billed,
        allowed=data.allowed, paid=data.paid, patient_responsibility=data.patient_responsibility,
        status_category=data.status_category, status_code=data.status_code, received_date=data.received_date,
        adjudicated_date=data.adjudicated_date, paid_date=data.paid_date, check_number=data.check_number,
        lines=tuple(ClaimLine(line_number=line.line_number, procedure_code=line.procedure_code,
                              service_date=line.service_date, units=Decimal(line.units), billed=line.billed,
                              allowed=line.allowed, paid=line.paid,
                              adjustments=tuple(Adjustment(group=a.group, reason=a.reason, amount=a.amount)
                                                for a in line.adjustments))
                    for line in data.lines),
    )


def _member_check(data: CarrierData, member_id: str, date_of_birth: date) -> MemberData | RejectReason:
    member = data.member(member_id)
    if member is None:
        return RejectReason.NOT_FOUND
    if member.date_of_birth != date_of_birth:
        return RejectReason.DOB_MISMATCH
    return member


def authorizations(source: DatasetSource, carrier: str, member_id: str,
                   date_of_birth: date) -> AuthorizationList | RejectReason:
    """Every authorization on file for the member (any status, any date), or why the search failed:
    NOT_FOUND (unknown member id) or DOB_MISMATCH. An empty list is an answer too."""
    data = _dataset(source).carrier(carrier)
    member = _member_check(data, member_id, date_of_birth)
    if isinstance(member, RejectReason):
        return member
    return AuthorizationList(
        carrier=carrier, query=AuthorizationQuery(member_id=member_id, date_of_birth=date_of_birth),
        authorizations=tuple(authorization_record(carrier, a) for a in data.authorizations_for(member.member_id)),
        provenance=None,
    )


def authorization(source: DatasetSource, carrier: str, auth_number: str) -> Authorization | None:
    """One authorization by number (what its detail page shows), or None."""
    found = _dataset(source).carrier(carrier).authorizations.get(auth_number)
    return authorization_record(carrier, found) if found else None


def claims(source: DatasetSource, carrier: str, query: ClaimQuery) -> ClaimList | RejectReason:
    """By claim number: that claim, or an empty list when the number is unknown. By member + DOB + dates:
    NOT_FOUND / DOB_MISMATCH, or every claim of the member whose service dates overlap the range
    (service_from <= query.service_to and service_to >= query.service_from). Claims are listed in claim
    number order (the model sorts); the portal pages them by service date, newest first."""
    data = _dataset(source).carrier(carrier)
    if query.claim_number:
        found = data.claims.get(query.claim_number)
        return ClaimList(carrier=carrier, query=query, claims=(claim_record(carrier, found),) if found else (),
                         provenance=None)
    assert query.member_id and query.date_of_birth and query.service_from and query.service_to
    member = _member_check(data, query.member_id, query.date_of_birth)
    if isinstance(member, RejectReason):
        return member
    matching = [c for c in data.claims_for(member.member_id)
                if c.service_from <= query.service_to and c.service_to >= query.service_from]
    return ClaimList(carrier=carrier, query=query, claims=tuple(claim_record(carrier, c) for c in matching),
                     provenance=None)


def claim(source: DatasetSource, carrier: str, claim_number: str) -> ClaimStatus | None:
    """One claim by number (what its detail page shows), or None."""
    found = _dataset(source).carrier(carrier).claims.get(claim_number)
    return claim_record(carrier, found) if found else None


# --- samples for authorization and claim tests ------------------------------------------------------

def member_claims_query(source: DatasetSource, carrier: str, member_id: str, service_from: date | None = None,
                        service_to: date | None = None) -> ClaimQuery:
    """A member + DOB + dates query; the default range (as_of - CLAIM_LOOKBACK_DAYS .. as_of) holds
    every claim the generator makes."""
    dataset = _dataset(source)
    member = dataset.carrier(carrier).member(member_id)
    if member is None:
        raise KeyError(f"no member {member_id} at {carrier}")
    return ClaimQuery(member_id=member_id, date_of_birth=member.date_of_birth,
                      service_from=service_from or dataset.as_of - timedelta(days=CLAIM_LOOKBACK_DAYS),
                      service_to=service_to or dataset.as_of)


def members_with_many_claims(source: DatasetSource, carrier: str, minimum: int = MANY_CLAIMS) -> list[MemberData]:
    """Members with at least `minimum` claims (default 25: a result list of 3+ pages), most claims first."""
    data = _dataset(source).carrier(carrier)
    counts = Counter(c.member_id for c in data.claims.values())
    return [data.members[i] for i, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= minimum]


def claims_by_category(source: DatasetSource, carrier: str) -> dict[ClaimStatusCategory, list[ClaimData]]:
    """The carrier's claims grouped by status category (generation order inside each group)."""
    grouped: dict[ClaimStatusCategory, list[ClaimData]] = {}
    for found in _dataset(source).carrier(carrier).claims.values():
        grouped.setdefault(found.status_category, []).append(found)
    return grouped


def open_claims(source: DatasetSource, carrier: str) -> list[ClaimData]:
    """Claims a run-time change may pay or deny (received, accepted, pending, information requested)."""
    return [c for c in _dataset(source).carrier(carrier).claims.values() if c.is_open]


def authorizations_by_status(source: DatasetSource, carrier: str) -> dict[AuthStatus, list[AuthorizationData]]:
    grouped: dict[AuthStatus, list[AuthorizationData]] = {}
    for found in _dataset(source).carrier(carrier).authorizations.values():
        grouped.setdefault(found.status, []).append(found)
    return grouped


def members_with_authorizations(source: DatasetSource, carrier: str, minimum: int = 1) -> list[MemberData]:
    """Members with at least `minimum` authorizations, in generation order."""
    data = _dataset(source).carrier(carrier)
    counts = Counter(a.member_id for a in data.authorizations.values())
    return [m for m in data.members.values() if counts.get(m.member_id, 0) >= minimum]


def members_without_authorizations(source: DatasetSource, carrier: str) -> list[MemberData]:
    data = _dataset(source).carrier(carrier)
    holders = {a.member_id for a in data.authorizations.values()}
    return [m for m in data.members.values() if m.member_id not in holders]


# --- recorded pages: what one captured page of a lookup shows -----------------------------------------
#
# A recorded-page case (tests/recorded_pages, see docs/recorded-pages.md) keeps one page of a lookup.
# `recorded_page` is that page's content from the dataset alone: the record of a detail page, the
# `MemberNotFound` of a refused search, or a list / results page as the page model its parser returns,
# filled from the ground-truth records in the order and slices each portal documents (sandbox/README.md).
# The page models belong to the adapters; they are imported here only to be *filled*, never to parse.
#
# `page` says which page: "answer" (the lookup's whole answer: eligibility, or a single-page app's result
# screen), "auth-list", "auth:<number>", "claim:<number>", and the page kinds of one carrier's portal,
# whose truth lives in that carrier's folder: `sandbox/<slug>/page_truth.py` with `PAGE_KINDS`,
# `PAGES_WHEN_REFUSED` (its pages a refused search still shows) and `page_truth(found, page)` (e.g.
# Ridgeline's "claim-results:<n>", Cascade's "claim-report" and "eob-offer:<number>").

RECORDED_PAGE_KINDS = ("answer", "auth-list", "auth:", "claim:")  # plus each carrier's PAGE_KINDS


def recorded_page(source: DatasetSource, carrier: str, flow: str, query: object, page: str) -> object:
    """The ground truth of one recorded page; ValueError when the page cannot exist for this query
    (e.g. a detail page of a record the search does not return)."""
    if flow == "eligibility":
        if page != "answer":
            raise ValueError(f"an eligibility lookup has one answer page, not '{page}'")
        assert isinstance(query, EligibilityQuery)
        return eligibility(source, carrier, query)
    if flow == "authorization":
        assert isinstance(query, AuthorizationQuery)
        found: AuthorizationList | ClaimList | RejectReason = authorizations(
            source, carrier, query.member_id, query.date_of_birth)
    elif flow == "claim_status":
        assert isinstance(query, ClaimQuery)
        found = claims(source, carrier, query)
    else:
        raise ValueError(f"unknown flow '{flow}'")
    pages = _carrier_pages(carrier)
    if isinstance(found, RejectReason):
        if page not in ("answer", "auth-list", *getattr(pages, "PAGES_WHEN_REFUSED", ())):
            raise ValueError(f"the search is refused ({found.label}): there is no '{page}' page")
        return MemberNotFound(carrier=carrier, query=query, reject_reason=found)
    if page == "answer":
        return found
    if isinstance(found, AuthorizationList):
        if page == "auth-list":
            return auth_listing(found)
        return record_on_page(found.authorizations, page, "auth:", lambda a: a.auth_number)
    if pages is not None and page.startswith(pages.PAGE_KINDS):
        return pages.page_truth(found, page)
    return record_on_page(found.claims, page, "claim:", lambda c: c.payer_claim_number)


def _carrier_pages(carrier: str) -> ModuleType | None:
    """The carrier's own page kinds (`sandbox/<carrier>/page_truth.py`), or None when it has none."""
    name = f"sandbox.{carrier}.page_truth"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        # No such module, or no folder at all (a payer only a hub serves); anything else: the module exists
        # but something it imports does not.
        if error.name not in (name, f"sandbox.{carrier}"):
            raise
        return None


def record_on_page(records: Sequence[R], page: str, prefix: str, number_of: Callable[[R], str | None]) -> R:
    """The one record a detail page `<prefix><number>` shows; ValueError when the answer has none."""
    wanted = page.removeprefix(prefix)
    found = [r for r in records if page.startswith(prefix) and number_of(r) == wanted]
    if len(found) != 1:
        raise ValueError(f"the ground-truth answer has no '{page}' page")
    return found[0]


def auth_listing(found: AuthorizationList) -> object:
    """An authorization list page: the most recently updated first (ties: higher number first)."""
    from aggregator.scrapers.framework.listings import AuthListing, AuthListRow

    ordered = sorted(found.authorizations, key=lambda a: (a.last_updated, a.auth_number), reverse=True)
    return AuthListing(member_id=found.query.member_id, date_of_birth=found.query.date_of_birth, rows=tuple(
        AuthListRow(auth_number=a.auth_number, service_type=a.service_type, status=a.status,
                    effective_date=a.effective_date, expiration_date=a.expiration_date) for a in ordered))


def claim_row(c: ClaimStatus) -> object:
    """One row of a claim list or results page."""
    from aggregator.scrapers.framework.listings import ClaimListRow

    return ClaimListRow(claim_number=c.payer_claim_number, provider_account_number=c.provider_account_number,
                        service_from=c.service_from, service_to=c.service_to, billed=c.billed, paid=c.paid,
                        status_category=c.status_category)
