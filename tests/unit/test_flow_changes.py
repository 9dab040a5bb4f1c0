"""Change detection between two checks, on hand-built records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from aggregator.flows.changes import Change, authorization_changes, claim_changes, eligibility_changes
from aggregator.flows.eligibility import InconsistentAnswer
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
    CoverageLevel,
    CoverageStatus,
    EligibilityRecord,
    InsuranceType,
    Member,
    NetworkIndicator,
    Payer,
    Plan,
    Provenance,
    Relationship,
    ServiceType,
    TimePeriod,
)
from aggregator.models.codes import (
    AdjustmentGroup,
    AdjustmentReason,
    AuthDecisionReason,
    AuthStatus,
    ClaimStatusCategory,
    RequestCategory,
    UnitQualifier,
)

MEMBER_ID = "RM100200300"
DOB = date(1980, 5, 17)
IN, OUT = NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK
MRI = ServiceType.MRI_CAT_SCAN
PLAN = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE


def provenance(hour: int) -> Provenance:
    return Provenance(carrier="ridgeline", portal_account="front-desk", fetched_at=datetime(2026, 11, 30, hour, tzinfo=UTC),
                      evidence_ids=[f"ev-{hour}"])


def kinds(changes: tuple[Change, ...]) -> list[tuple[str, str]]:
    return [(c.kind, c.subject) for c in changes]


# --- eligibility --------------------------------------------------------------------------------------

def money_line(kind: BenefitKind, period: TimePeriod, amount: str, *, network: NetworkIndicator = IN,
               level: CoverageLevel = CoverageLevel.INDIVIDUAL) -> BenefitLine:
    return BenefitLine(service_type=PLAN, kind=kind, network=network, coverage_level=level, time_period=period,
                       amount=Decimal(amount))


def eligibility(*, deductible_left: str = "350", oop_left: str = "2100", mri_copay: str = "75",
                mri_prior_auth: AuthIndicator = AuthIndicator.REQUIRED, listed: tuple[ServiceType, ...] = (MRI,),
                status: CoverageStatus = CoverageStatus.ACTIVE, termination: date | None = None,
                plan_name: str = "Ridgeline Choice PPO", group_number: str = "G100",
                hour: int = 6) -> EligibilityRecord:
    benefits: tuple[BenefitLine, ...] = ()
    if status is CoverageStatus.ACTIVE:
        benefits = (
            money_line(BenefitKind.DEDUCTIBLE, TimePeriod.CALENDAR_YEAR, "1500"),
            money_line(BenefitKind.DEDUCTIBLE, TimePeriod.REMAINING, deductible_left),
            money_line(BenefitKind.DEDUCTIBLE, TimePeriod.REMAINING, "3000", network=OUT),
            money_line(BenefitKind.OUT_OF_POCKET, TimePeriod.CALENDAR_YEAR, "6000"),
            money_line(BenefitKind.OUT_OF_POCKET, TimePeriod.REMAINING, oop_left),
            BenefitLine(service_type=MRI, kind=BenefitKind.COPAY, network=IN, amount=Decimal(mri_copay),
                        prior_auth=mri_prior_auth),
            BenefitLine(service_type=MRI, kind=BenefitKind.COINSURANCE, network=OUT, percent=Decimal("0.4"),
                        prior_auth=mri_prior_auth),
        )
    return EligibilityRecord(
        carrier="ridgeline", service_date=date(2026, 12, 1),
        member=Member(member_id=MEMBER_ID, subscriber_id=MEMBER_ID, first_name="Ana", last_name="Reyes",
                      date_of_birth=DOB, relationship=Relationship.SELF),
        payer=Payer(name="Ridgeline Mutual", payer_id="RDG01"),
        plan=Plan(name=plan_name, insurance_type=InsuranceType.PPO, group_number=group_number, group_name="Acme Corp"),
        coverage=Coverage(status=status, effective_date=date(2026, 1, 1), termination_date=termination),
        benefits=benefits, prior_auth_service_types=listed if status is CoverageStatus.ACTIVE else (),
        provenance=provenance(hour),
    )


def test_first_check_reports_nothing():
    assert eligibility_changes(None, eligibility()) == ()
    assert claim_changes(None, claims(claim("C1"))) == ()
    assert authorization_changes(None, authorizations(auth("RA1"))) == ()


def test_identical_answers_differ_only_in_provenance_report_nothing():
    assert eligibility_changes(eligibility(hour=6), eligibility(hour=9)) == ()
    assert claim_changes(claims(claim("C1"), hour=6), claims(claim("C1"), hour=9)) == ()
    later = auth("RA1").model_copy(update={"last_updated": date(2026, 11, 29)})
    assert authorization_changes(authorizations(auth("RA1"), hour=6), authorizations(later, hour=9)) == ()


def test_deductible_met():
    changes = eligibility_changes(eligibility(deductible_left="350"), eligibility(deductible_left="0"))
    assert changes == (Change(kind="deductible_met", subject="deductible IND in-network", before="$350.00",
                              after="$0.00", message="The individual in-network deductible is met (was $350.00 remaining)."),)


def test_out_of_pocket_reached():
    changes = eligibility_changes(eligibility(oop_left="120.50"), eligibility(oop_left="0"))
    assert kinds(changes) == [("out_of_pocket_reached", "out-of-pocket IND in-network")]
    assert changes[0].message == "The individual in-network out-of-pocket maximum is reached (was $120.50 remaining)."


def test_remaining_going_down_but_not_to_zero_is_a_benefit_change():
    changes = eligibility_changes(eligibility(deductible_left="350"), eligibility(deductible_left="200"))
    assert kinds(changes) == [("benefit_changed", "deductible IND in-network remaining")]
    assert (changes[0].before, changes[0].after) == ("$350.00", "$200.00")


def test_coverage_termed_by_status_and_by_a_termination_date():
    termed = eligibility_changes(eligibility(), eligibility(status=CoverageStatus.INACTIVE, termination=date(2026, 11, 30)))
    assert kinds(termed) == [("coverage_termed", "coverage"), ("coverage_termed", "coverage termination date")]
    assert termed[0].message == "Coverage is not active on the date of service (2026-12-01); it was at the last check."
    assert termed[1].message == "Coverage now ends on 2026-11-30 (it had no end date)."
    # Benefit lines vanish with inactive coverage: not reported one by one.
    ending = eligibility_changes(eligibility(termination=date(2027, 6, 30)), eligibility(termination=date(2026, 12, 31)))
    assert kinds(ending) == [("coverage_termed", "coverage termination date")]
    assert (ending[0].before, ending[0].after) == ("2027-06-30", "2026-12-31")


def test_coverage_reinstated_and_dates_extended():
    back = eligibility_changes(eligibility(status=CoverageStatus.INACTIVE, termination=date(2026, 11, 30)),
                               eligibility())
    assert kinds(back) == [("coverage_dates_changed", "coverage termination date"), ("coverage_reinstated", "coverage")]
    assert back[0].message == "Coverage no longer has an end date (was 2026-11-30)."
    assert back[1].message == "Coverage is active on the date of service (2026-12-01); it was not at the last check."


def test_plan_and_group_changed():
    changes = eligibility_changes(eligibility(), eligibility(plan_name="Ridgeline Select HMO", group_number="G200"))
    assert kinds(changes) == [("group_changed", "group"), ("plan_changed", "plan")]
    assert changes[1].message == ("The plan changed from Ridgeline Choice PPO (Preferred Provider Organization) to "
                                  "Ridgeline Select HMO (Preferred Provider Organization).")


def test_benefit_value_and_prior_auth_changes():
    changes = eligibility_changes(eligibility(), eligibility(mri_copay="100", mri_prior_auth=AuthIndicator.NOT_REQUIRED,
                                                             listed=()))
    assert kinds(changes) == [
        ("benefit_changed", "MRI/CAT Scan copay in-network"),
        ("benefit_changed", "MRI/CAT Scan prior authorization in-network"),
        ("benefit_changed", "MRI/CAT Scan prior authorization out-of-network"),
        ("prior_auth_list_changed", "prior authorization list: MRI/CAT Scan"),
    ]
    assert changes[0].message == "The benefit MRI/CAT Scan copay in-network changed from $75.00 to $100.00."
    assert (changes[1].before, changes[1].after) == ("required", "not required")
    assert changes[3].message == "The carrier no longer lists MRI/CAT Scan as needing prior authorization."


def test_messages_never_carry_the_member_name_or_birth_date():
    changes = eligibility_changes(eligibility(), eligibility(status=CoverageStatus.INACTIVE, termination=date(2026, 11, 30),
                                                             plan_name="Other"))
    for change in changes:
        assert "Reyes" not in change.message and "Ana" not in change.message and "1980" not in change.message


def test_comparing_different_members_raises():
    other = eligibility().model_copy(update={"member": eligibility().member.model_copy(update={"member_id": "RM9"})})
    with pytest.raises(InconsistentAnswer):
        eligibility_changes(eligibility(), other)


# --- claims -------------------------------------------------------------------------------------------

def claim(number: str, *, category: ClaimStatusCategory = ClaimStatusCategory.PENDING_IN_PROCESS,
          status_code: str = "20", paid: str = "0", adjustments: tuple[Adjustment, ...] = (),
          service: date = date(2026, 11, 3), check: str | None = None, paid_date: date | None = None) -> ClaimStatus:
    return ClaimStatus(
        carrier="ridgeline", payer_claim_number=number, provider_account_number=f"ACCT-{number}", member_id=MEMBER_ID,
        service_from=service, service_to=service, billed=Decimal("250"), paid=Decimal(paid), status_category=category,
        status_code=status_code, received_date=date(2026, 11, 5), paid_date=paid_date, check_number=check,
        lines=(ClaimLine(line_number=1, procedure_code="99213", service_date=service, units=Decimal(1),
                         billed=Decimal("250"), allowed=Decimal("180"), paid=Decimal(paid), adjustments=adjustments),),
    )


def claims(*items: ClaimStatus, start: date = date(2026, 10, 1), end: date = date(2026, 11, 30),
           hour: int = 6) -> ClaimList:
    query = ClaimQuery(member_id=MEMBER_ID, date_of_birth=DOB, service_from=start, service_to=end)
    return ClaimList(carrier="ridgeline", query=query, claims=items, provenance=provenance(hour))


CO45 = Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason=AdjustmentReason.EXCEEDS_FEE_SCHEDULE, amount=Decimal("70"))
PR2 = Adjustment(group=AdjustmentGroup.PATIENT_RESPONSIBILITY, reason=AdjustmentReason.COINSURANCE, amount=Decimal("36"))
CO197 = Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason=AdjustmentReason.AUTHORIZATION_ABSENT,
                   amount=Decimal("250"))


def test_claim_paid():
    paid = claim("C1", category=ClaimStatusCategory.FINALIZED_PAYMENT, status_code="65", paid="144",
                 adjustments=(CO45, PR2), check="EFT7788", paid_date=date(2026, 11, 20))
    changes = claim_changes(claims(claim("C1")), claims(paid))
    assert kinds(changes) == [("claim_adjustments_changed", "C1"), ("claim_paid_amount_changed", "C1"),
                              ("claim_status_changed", "C1")]
    adjustments, amount, status = changes
    assert (amount.before, amount.after) == ("$0.00", "$144.00")
    assert amount.message == "Claim C1 paid amount changed from $0.00 to $144.00 (check/EFT EFT7788 on 2026-11-20)."
    assert status.before == "P1 Pending/In Process (status 20)"
    assert status.after == "F1 Finalized/Payment (status 65)"
    assert status.message == "Claim C1 moved from Pending/In Process to Finalized/Payment."
    assert adjustments.after == "line 1 CO-45 $70.00; line 1 PR-2 $36.00"


def test_claim_denied():
    denied = claim("C1", category=ClaimStatusCategory.FINALIZED_DENIAL, status_code="585", adjustments=(CO197,))
    changes = claim_changes(claims(claim("C1")), claims(denied))
    assert kinds(changes) == [("claim_denied", "C1")]  # the new denial adjustment is said once, in the denial
    assert changes[0].message == ("Claim C1 was denied (line 1 CO-197 Precertification/authorization/notification/"
                                  "pre-treatment absent).")


def test_new_denial_adjustment_on_a_claim_that_stays_finalized():
    before = claim("C1", category=ClaimStatusCategory.FINALIZED_PAYMENT, status_code="65", paid="144",
                   adjustments=(CO45,))
    after = before.model_copy(update={"lines": (before.lines[0].model_copy(update={"adjustments": (CO45, CO197)}),)})
    changes = claim_changes(claims(before), claims(after))
    assert kinds(changes) == [("claim_denied", "C1")]
    assert changes[0].message.startswith("Claim C1 has new denied services (line 1 CO-197")


def test_new_and_removed_claims_inside_both_searches():
    changes = claim_changes(claims(claim("C1")), claims(claim("C2", service=date(2026, 11, 10))))
    assert kinds(changes) == [("claim_new", "C2"), ("claim_removed", "C1")]
    assert changes[0].message == "New claim C2 for services 2026-11-10: Pending/In Process, billed $250.00."
    assert changes[0].before is None and changes[1].after is None


def test_claims_outside_the_overlap_of_the_two_searches_are_not_new_or_removed():
    previous = claims(claim("OLD", service=date(2026, 10, 2)), start=date(2026, 10, 1), end=date(2026, 11, 30))
    current = claims(claim("LATE", service=date(2026, 12, 2)), start=date(2026, 11, 1), end=date(2026, 12, 15))
    assert claim_changes(previous, current) == ()


def test_claim_number_search_compares_that_claim():
    query = ClaimQuery(claim_number="C1")
    previous = ClaimList(carrier="ridgeline", query=query, claims=(claim("C1"),))
    current = ClaimList(carrier="ridgeline", query=query, claims=())
    assert kinds(claim_changes(previous, current)) == [("claim_removed", "C1")]


# --- authorizations -----------------------------------------------------------------------------------

def auth(number: str, *, status: AuthStatus = AuthStatus.CERTIFIED, used: int = 0, end: date = date(2027, 1, 31),
         reason: AuthDecisionReason | None = None) -> Authorization:
    return Authorization(
        carrier="ridgeline", member_id=MEMBER_ID, auth_number=number, status=status,
        request_category=RequestCategory.HEALTH_SERVICES_REVIEW, service_type=ServiceType.PHYSICAL_THERAPY,
        services=(AuthorizedService(procedure_code="97110", unit=UnitQualifier.VISITS, approved=Decimal(12),
                                    used=Decimal(used), remaining=Decimal(12 - used)),),
        effective_date=date(2026, 11, 1), expiration_date=end, servicing_provider_name="Core PT",
        decision_reason=reason, last_updated=date(2026, 11, 1),
    )


def authorizations(*items: Authorization, hour: int = 6) -> AuthorizationList:
    return AuthorizationList(carrier="ridgeline", query=AuthorizationQuery(member_id=MEMBER_ID, date_of_birth=DOB),
                             authorizations=items, provenance=provenance(hour))


def test_authorization_changes():
    previous = authorizations(auth("RA1", status=AuthStatus.PENDED, reason=AuthDecisionReason.REQUIRES_MEDICAL_REVIEW),
                              auth("RA2"), auth("RA3"))
    current = authorizations(auth("RA1"), auth("RA2", used=4, end=date(2027, 3, 31)), auth("RA4"))
    changes = authorization_changes(previous, current)
    assert kinds(changes) == [
        ("authorization_dates_changed", "RA2"), ("authorization_new", "RA4"), ("authorization_removed", "RA3"),
        ("authorization_status_changed", "RA1"), ("authorization_units_changed", "RA2 97110"),
    ]
    by_kind = {c.kind: c for c in changes}
    assert by_kind["authorization_status_changed"].message == (
        "Authorization RA1 changed from Pended (A4, Requires Medical Review) to Certified in Total (A1).")
    assert by_kind["authorization_units_changed"].before == "12 visits approved, 0 used, 12 left"
    assert by_kind["authorization_units_changed"].after == "12 visits approved, 4 used, 8 left"
    assert by_kind["authorization_dates_changed"].after == "2026-11-01 to 2027-03-31"
    assert by_kind["authorization_new"].message == ("New authorization RA4 for Physical Therapy: Certified in Total (A1), "
                                                    "2026-11-01 to 2027-01-31.")


def test_changes_are_sorted_by_kind_then_subject():
    previous = authorizations(auth("RA2"), auth("RA1"))
    current = authorizations(auth("RA9"), auth("RA8"))
    changes = authorization_changes(previous, current)
    assert kinds(changes) == [("authorization_new", "RA8"), ("authorization_new", "RA9"),
                              ("authorization_removed", "RA1"), ("authorization_removed", "RA2")]
