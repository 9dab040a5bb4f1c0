from datetime import timedelta
from decimal import Decimal

import pytest

from aggregator.models import (
    AuthIndicator,
    BenefitKind,
    CoverageLevel,
    CoverageStatus,
    EligibilityQuery,
    EligibilityRecord,
    MemberNotFound,
    NetworkIndicator,
    RejectReason,
    ServiceType,
    TimePeriod,
)
from sandbox.ground_truth import DEFAULT_SAMPLE_KINDS, eligibility, sample_members
from sandbox.plans import SERVICES

IN, OUT = NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK


def _member(dataset, kind, **where):
    data = dataset.carrier("ridgeline")
    for member in data.members.values():
        if member.coverage_kind(dataset.as_of) == kind and all(getattr(member, k) == v for k, v in where.items()):
            return member
    raise AssertionError(f"no {kind} member with {where}")


def _ask(dataset, member_id, dob, day=None, last_name=None):
    query = EligibilityQuery(member_id=member_id, date_of_birth=dob, service_date=day or dataset.as_of,
                             last_name=last_name)
    return eligibility(dataset, "ridgeline", query)


def test_reject_reasons_in_order(dataset):
    member = _member(dataset, "active")
    unknown = _ask(dataset, dataset.carrier("ridgeline").not_found_ids[0], member.date_of_birth)
    assert isinstance(unknown, MemberNotFound) and unknown.reject_reason is RejectReason.NOT_FOUND
    wrong_dob = _ask(dataset, member.member_id, member.date_of_birth + timedelta(days=1), last_name="Nobody")
    assert wrong_dob.reject_reason is RejectReason.DOB_MISMATCH  # DOB is checked before the name
    wrong_name = _ask(dataset, member.member_id, member.date_of_birth, last_name=member.last_name + "x")
    assert wrong_name.reject_reason is RejectReason.INVALID_NAME
    assert wrong_name.carrier == "ridgeline" and wrong_name.provenance is None
    same_name = _ask(dataset, member.member_id, member.date_of_birth, last_name=f"  {member.last_name.upper()} ")
    assert isinstance(same_name, EligibilityRecord)


def test_active_record(dataset):
    member = _member(dataset, "active", family_coverage=True)
    data = dataset.carrier("ridgeline")
    record = _ask(dataset, member.member_id.lower(), member.date_of_birth)
    plan, group = data.plan_for(member), data.group_for(member)
    assert record.provenance is None and record.carrier == "ridgeline"
    assert record.member.member_id == member.member_id and record.member.subscriber_id == member.subscriber_id
    assert (record.payer.name, record.payer.payer_id) == ("Ridgeline Mutual Insurance Company", "RDGM1")
    assert (record.plan.name, record.plan.group_number, record.plan.group_name) == (plan.name, group.number, group.name)
    assert record.coverage.status is CoverageStatus.ACTIVE
    assert record.prior_auth_service_types == tuple(sorted(plan.prior_auth, key=lambda s: s.value))
    assert {b.service_type for b in record.benefits} == {ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE, *SERVICES}
    levels = {b.coverage_level for b in record.benefits if b.service_type is ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE}
    assert levels == {CoverageLevel.INDIVIDUAL, CoverageLevel.FAMILY}


def test_individual_coverage_has_no_family_lines(dataset):
    member = _member(dataset, "active", family_coverage=False)
    record = _ask(dataset, member.member_id, member.date_of_birth)
    assert {b.coverage_level for b in record.benefits if b.coverage_level} == {CoverageLevel.INDIVIDUAL}


@pytest.mark.parametrize("kind", ["termed", "future"])
def test_inactive_members_are_found_without_benefits(dataset, kind):
    member = _member(dataset, kind)
    record = _ask(dataset, member.member_id, member.date_of_birth)
    assert record.coverage.status is CoverageStatus.INACTIVE
    assert (record.coverage.effective_date, record.coverage.termination_date) == (member.effective_date, member.termination_date)
    assert record.benefits == () and record.prior_auth_service_types == ()


def test_coverage_boundaries_are_inclusive(dataset):
    member = _member(dataset, "termed")
    def status(day): return _ask(dataset, member.member_id, member.date_of_birth, day).coverage.status  # noqa: E704
    assert status(member.effective_date - timedelta(days=1)) is CoverageStatus.INACTIVE
    assert status(member.effective_date) is CoverageStatus.ACTIVE
    assert status(member.termination_date) is CoverageStatus.ACTIVE
    assert status(member.termination_date + timedelta(days=1)) is CoverageStatus.INACTIVE


def test_benefit_rules_hold_for_every_active_member(dataset):
    data = dataset.carrier("ridgeline")
    for member in data.members.values():
        if member.coverage_kind(dataset.as_of) != "active":
            continue
        record = _ask(dataset, member.member_id, member.date_of_birth)
        plan = data.plan_for(member)
        lines = {b.sort_key(): b for b in record.benefits}
        for b in record.benefits:
            if b.service_type is ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE:
                assert b.prior_auth is AuthIndicator.UNKNOWN
                if b.time_period is TimePeriod.REMAINING:
                    total = lines[b.sort_key()[:-1] + (TimePeriod.CALENDAR_YEAR.value,)]
                    assert Decimal(0) <= b.amount <= total.amount
            else:
                required = b.service_type in plan.prior_auth
                assert b.prior_auth is (AuthIndicator.REQUIRED if required else AuthIndicator.NOT_REQUIRED)
            if b.kind is BenefitKind.LIMITATION and b.time_period is TimePeriod.REMAINING:
                total = lines[b.sort_key()[:-1] + (TimePeriod.CALENDAR_YEAR.value,)]
                assert 0 <= b.quantity <= total.quantity
        networks = {b.network for b in record.benefits if b.service_type is ServiceType.EMERGENCY_SERVICES}
        assert networks == {IN, OUT}, "emergencies are covered at both tiers on every plan"
        non_covered = {(b.service_type, b.network) for b in record.benefits if b.kind is BenefitKind.NON_COVERED}
        if plan.has_out_of_network:
            assert not non_covered
        else:
            assert non_covered == {(s, OUT) for s in SERVICES if s is not ServiceType.EMERGENCY_SERVICES}


def test_accumulators_differ_between_members(dataset):
    remaining = set()
    for sample in sample_members(dataset, "ridgeline", 30, kinds=("active_subscriber",)):
        remaining.add(tuple(b.amount or b.quantity for b in sample.expected.benefits if b.time_period is TimePeriod.REMAINING))
    assert len(remaining) > 20


def test_sample_members_mix_and_determinism(dataset):
    samples = sample_members(dataset, "ridgeline", 24)
    assert samples == sample_members(dataset, "ridgeline", 24)
    assert [s.kind for s in samples[:6]] == list(DEFAULT_SAMPLE_KINDS)
    for sample in samples:
        expected = sample.expected
        assert expected == eligibility(dataset, "ridgeline", sample.query)
        if sample.kind in ("active_subscriber", "dependent"):
            assert expected.coverage.status is CoverageStatus.ACTIVE
            assert sample.member.is_subscriber == (sample.kind == "active_subscriber")
        elif sample.kind in ("termed", "future"):
            assert expected.coverage.status is CoverageStatus.INACTIVE
        elif sample.kind == "not_found":
            assert expected.reject_reason is RejectReason.NOT_FOUND
        elif sample.kind == "wrong_dob":
            assert expected.reject_reason is RejectReason.DOB_MISMATCH
    assert len({s.query.member_id for s in samples}) == len(samples), "no repeats while members last"
    assert any(s.query.last_name for s in samples) and any(not s.query.last_name for s in samples)
    names = sample_members(dataset, "ridgeline", 3, kinds=("wrong_last_name",))
    assert all(s.expected.reject_reason is RejectReason.INVALID_NAME for s in names)
