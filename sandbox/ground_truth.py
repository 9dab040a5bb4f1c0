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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

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
from sandbox import names
from sandbox.dataset import CarrierData, Dataset, MemberData, rng_for
from sandbox.plans import SERVICES, CostShare, money

PLAN_LEVEL = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def eligibility(dataset: Dataset, carrier: str, query: EligibilityQuery) -> EligibilityRecord | MemberNotFound:
    data = dataset.carrier(carrier)
    member = data.member(query.member_id)
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


def sample_members(dataset: Dataset, carrier: str, n: int, kinds: Sequence[SampleKind] = DEFAULT_SAMPLE_KINDS,
                   service_date: date | None = None) -> list[MemberSample]:
    """`n` lookups cycling through `kinds` in order, members drawn without repeats while they last.

    Deterministic for a dataset and arguments. Every third lookup of a found member also gives the
    last name, so the optional field is exercised.
    """
    if not kinds:
        raise ValueError("kinds must not be empty")
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
