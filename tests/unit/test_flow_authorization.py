"""answer_authorization on hand-built records: required? covered? what is missing?"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aggregator.flows.authorization import AuthorizationAnswer, answer_authorization
from aggregator.flows.eligibility import InconsistentAnswer
from aggregator.models import (
    AuthIndicator,
    Authorization,
    AuthorizationList,
    AuthorizationQuery,
    AuthorizedService,
    BenefitKind,
    BenefitLine,
    Coverage,
    CoverageStatus,
    EligibilityRecord,
    InsuranceType,
    Member,
    NetworkIndicator,
    Payer,
    Plan,
    Relationship,
    ServiceType,
)
from aggregator.models.codes import AuthDecisionReason, AuthStatus, RequestCategory, UnitQualifier

VISIT = date(2026, 12, 1)
MEMBER_ID = "RM100200300"
DOB = date(1980, 5, 17)
MRI = ServiceType.MRI_CAT_SCAN
PT = ServiceType.PHYSICAL_THERAPY
Y, N, U = AuthIndicator.REQUIRED, AuthIndicator.NOT_REQUIRED, AuthIndicator.UNKNOWN


# --- builders -----------------------------------------------------------------------------------------

def copay(service: ServiceType, prior_auth: AuthIndicator, network: NetworkIndicator = NetworkIndicator.IN_NETWORK,
          amount: str = "40") -> BenefitLine:
    return BenefitLine(service_type=service, kind=BenefitKind.COPAY, network=network, amount=Decimal(amount),
                       prior_auth=prior_auth)


def eligibility(*benefits: BenefitLine, listed: tuple[ServiceType, ...] = (), status: CoverageStatus = CoverageStatus.ACTIVE,
                termination: date | None = None, service_date: date = VISIT, member_id: str = MEMBER_ID) -> EligibilityRecord:
    return EligibilityRecord(
        carrier="ridgeline", service_date=service_date,
        member=Member(member_id=member_id, subscriber_id=member_id, first_name="Ana", last_name="Reyes",
                      date_of_birth=DOB, relationship=Relationship.SELF),
        payer=Payer(name="Ridgeline Mutual", payer_id="RDG01"),
        plan=Plan(name="Ridgeline Choice PPO", insurance_type=InsuranceType.PPO, group_number="G100",
                  group_name="Acme Corp"),
        coverage=Coverage(status=status, effective_date=date(2026, 1, 1), termination_date=termination),
        benefits=benefits, prior_auth_service_types=listed,
    )


def service(code: str, approved: int, used: int = 0) -> AuthorizedService:
    return AuthorizedService(procedure_code=code, unit=UnitQualifier.UNITS, approved=Decimal(approved),
                             used=Decimal(used), remaining=Decimal(approved - used))


def auth(number: str, *services: AuthorizedService, service_type: ServiceType = MRI,
         status: AuthStatus = AuthStatus.CERTIFIED, start: date | None = date(2026, 11, 1),
         end: date | None = date(2027, 1, 31), reason: AuthDecisionReason | None = None,
         member_id: str = MEMBER_ID) -> Authorization:
    return Authorization(
        carrier="ridgeline", member_id=member_id, auth_number=number, status=status,
        request_category=RequestCategory.HEALTH_SERVICES_REVIEW, service_type=service_type,
        services=services or (service("70551", 1),), effective_date=start, expiration_date=end,
        servicing_provider_name="Valley Imaging", decision_reason=reason, last_updated=date(2026, 11, 1),
    )


def auths(*items: Authorization, member_id: str = MEMBER_ID) -> AuthorizationList:
    return AuthorizationList(carrier="ridgeline", query=AuthorizationQuery(member_id=member_id, date_of_birth=DOB),
                             authorizations=items)


MRI_REQUIRED = eligibility(copay(MRI, Y), copay(MRI, Y, NetworkIndicator.OUT_OF_NETWORK), listed=(MRI,))


def ask(record: EligibilityRecord, on_file: AuthorizationList, **kwargs: object) -> AuthorizationAnswer:
    kwargs.setdefault("service_date", VISIT)
    return answer_authorization(record, on_file, **kwargs)  # type: ignore[arg-type]


# --- the cases ----------------------------------------------------------------------------------------

def test_required_and_covered():
    answer = ask(MRI_REQUIRED, auths(auth("RA100")), service_type=MRI, procedure_code="70551")
    assert answer.required is Y
    assert answer.required_because == ("benefits for MRI/CAT Scan (in network) say prior authorization is required, "
                                       "and the carrier lists MRI/CAT Scan")
    assert answer.status == "covered"
    assert answer.covering_auth_number == "RA100"
    assert answer.missing == ()
    assert answer.expiring_within_days is None  # 61 days after the visit: outside the warning window


def test_covered_without_procedure_by_service_type_and_expiring_soon():
    answer = ask(MRI_REQUIRED, auths(auth("RA100", end=date(2026, 12, 5))), service_type=MRI)
    assert (answer.status, answer.covering_auth_number, answer.expiring_within_days) == ("covered", "RA100", 4)
    assert ask(MRI_REQUIRED, auths(auth("RA100", end=VISIT)), service_type=MRI).expiring_within_days == 0


def test_several_covering_the_one_in_force_longest_wins_over_a_worse_one():
    on_file = auths(auth("RA100", end=date(2026, 12, 10)), auth("RA200"),
                    auth("RA300", status=AuthStatus.NOT_CERTIFIED, start=None, end=None))
    answer = ask(MRI_REQUIRED, on_file, service_type=MRI, procedure_code="70551")
    assert (answer.status, answer.covering_auth_number, answer.missing) == ("covered", "RA200", ())


def test_required_and_missing():
    answer = ask(MRI_REQUIRED, auths(), service_type=MRI)
    assert (answer.required, answer.status, answer.covering_auth_number) == (Y, "missing", None)
    assert answer.missing == ("no authorization on file for MRI/CAT Scan: request one before the visit",)


def test_required_but_expired_before_the_visit():
    answer = ask(MRI_REQUIRED, auths(auth("RA123", start=date(2026, 9, 1), end=date(2026, 11, 20))),
                 service_type=MRI, procedure_code="70551")
    assert answer.status == "expired"
    assert answer.missing == ("authorization RA123 expired on 2026-11-20, before the visit: "
                              "request an extension or a new authorization",)


def test_units_exhausted():
    record = eligibility(copay(PT, Y), listed=(PT,))
    on_file = auths(auth("RA123", service("97110", 12, 12), service("97140", 6, 2), service_type=PT))
    answer = ask(record, on_file, service_type=PT, procedure_code="97110")
    assert answer.status == "exhausted"
    assert answer.missing == ("authorization RA123 has no units left for 97110: request more units or a new "
                              "authorization",)
    # The other procedure on the same authorization still has units: covered.
    other = ask(record, on_file, service_type=PT, procedure_code="97140")
    assert (other.status, other.covering_auth_number) == ("covered", "RA123")


def test_partial_certification_that_approved_none_of_the_procedure_is_a_denial():
    record = eligibility(copay(PT, Y), listed=(PT,))
    on_file = auths(auth("RA123", service("97110", 12), service("97530", 0), service_type=PT,
                         status=AuthStatus.PARTIAL))
    answer = ask(record, on_file, service_type=PT, procedure_code="97530")
    assert answer.status == "denied"
    assert answer.missing[0].startswith("authorization RA123 approved no units for 97530 (Certified - Partial)")


def test_procedure_not_on_the_authorization_of_that_service_type():
    record = eligibility(copay(PT, Y), listed=(PT,))
    answer = ask(record, auths(auth("RA123", service("97110", 12), service_type=PT)), service_type=PT,
                 procedure_code="97530")
    assert answer.status == "missing"
    assert answer.missing == ("authorization RA123 for Physical Therapy does not include procedure 97530",
                              "no usable authorization for procedure 97530 (Physical Therapy): request one before "
                              "the visit")


def test_not_required():
    record = eligibility(copay(ServiceType.OFFICE_VISIT, N), copay(ServiceType.OFFICE_VISIT, N,
                                                                   NetworkIndicator.OUT_OF_NETWORK))
    answer = ask(record, auths(), service_type=ServiceType.OFFICE_VISIT)
    assert (answer.required, answer.status, answer.missing) == (N, "not_required", ())
    assert answer.required_because == ("benefits for Professional (Physician) Visit - Office (in network) say prior "
                                       "authorization is not required")


def test_pended():
    on_file = auths(auth("RA123", status=AuthStatus.PENDED, start=None, end=None,
                         reason=AuthDecisionReason.REQUIRES_MEDICAL_REVIEW))
    answer = ask(MRI_REQUIRED, on_file, service_type=MRI, procedure_code="70551")
    assert answer.status == "pending"
    assert answer.missing == ("authorization RA123 is pended (Requires Medical Review): wait for the carrier's "
                              "decision before the visit",)


def test_denied():
    on_file = auths(auth("RA123", status=AuthStatus.NOT_CERTIFIED, start=None, end=None,
                         reason=AuthDecisionReason.NOT_MEDICALLY_NECESSARY))
    answer = ask(MRI_REQUIRED, on_file, service_type=MRI)
    assert answer.status == "denied"
    assert answer.missing == ("authorization RA123 was denied (Not Medically Necessary): appeal or request a new "
                              "authorization",)


def test_future_effective_authorization():
    answer = ask(MRI_REQUIRED, auths(auth("RA123", start=date(2026, 12, 5), end=date(2027, 2, 28))),
                 service_type=MRI, procedure_code="70551")
    assert answer.status == "not_yet_effective"
    assert answer.missing == ("authorization RA123 starts on 2026-12-05, after the visit: ask the carrier to "
                              "change its dates or move the visit",)


def test_most_useful_status_wins_and_every_finding_is_listed():
    on_file = auths(
        auth("RA1", status=AuthStatus.NOT_CERTIFIED, start=None, end=None),
        auth("RA2", start=date(2026, 1, 1), end=date(2026, 3, 31)),
        auth("RA3", service("70551", 1, 1)),
        auth("RA4", status=AuthStatus.PENDED, start=None, end=None),
    )
    answer = ask(MRI_REQUIRED, on_file, service_type=MRI, procedure_code="70551")
    assert answer.status == "pending"
    assert [m.split(" ")[1] for m in answer.missing] == ["RA4", "RA2", "RA3", "RA1"]  # pending, expired, exhausted, denied


def test_cancelled_authorization_counts_as_missing():
    on_file = auths(auth("RA123", status=AuthStatus.CANCELLED))
    answer = ask(MRI_REQUIRED, on_file, service_type=MRI)
    assert answer.status == "missing"
    assert answer.missing == ("authorization RA123 was cancelled",
                              "no usable authorization for MRI/CAT Scan: request one before the visit")


@pytest.mark.parametrize(("benefit", "listed", "because"), [
    (N, True, "the carrier lists MRI/CAT Scan as needing prior authorization, but the benefits for MRI/CAT Scan "
              "(in network) say it is not required: treated as required"),
    (Y, False, "benefits for MRI/CAT Scan (in network) say prior authorization is required, but the carrier's "
               "prior-authorization list does not name MRI/CAT Scan: treated as required"),
    (U, True, "carrier lists MRI/CAT Scan"),
])
def test_carrier_list_and_benefits_disagree_or_only_one_says_so(benefit, listed, because):
    record = eligibility(copay(MRI, benefit), listed=(MRI,) if listed else ())
    answer = ask(record, auths(), service_type=MRI)
    assert (answer.required, answer.required_because, answer.status) == (Y, because, "missing")


def test_benefit_lines_that_disagree_among_themselves_mean_required():
    record = eligibility(copay(MRI, Y), BenefitLine(service_type=MRI, kind=BenefitKind.COINSURANCE,
                                                    network=NetworkIndicator.IN_NETWORK, percent=Decimal("0.2"),
                                                    prior_auth=N))
    answer = ask(record, auths(), service_type=MRI)
    assert answer.required is Y
    assert "disagree" in answer.required_because


def test_network_tier_decides_which_lines_count():
    record = eligibility(copay(MRI, N), copay(MRI, Y, NetworkIndicator.OUT_OF_NETWORK))
    assert ask(record, auths(), service_type=MRI).required is N
    out = ask(record, auths(), service_type=MRI, network=NetworkIndicator.OUT_OF_NETWORK)
    assert (out.required, out.network) == (Y, NetworkIndicator.OUT_OF_NETWORK)
    assert "(out of network)" in out.required_because


def test_unknown_when_the_benefits_do_not_say():
    answer = ask(eligibility(copay(MRI, U)), auths(), service_type=MRI)
    assert (answer.required, answer.status) == (U, "unknown")
    assert answer.missing == ("the carrier does not say whether MRI/CAT Scan needs prior authorization (in network): "
                              "ask the carrier", "no authorization on file for MRI/CAT Scan")
    silent = ask(eligibility(), auths(), service_type=MRI)
    assert silent.required is U
    assert silent.required_because == "the benefits do not mention MRI/CAT Scan (in network) and the carrier does not list it"


def test_not_covered_service_is_said():
    record = eligibility(BenefitLine(service_type=MRI, kind=BenefitKind.NON_COVERED,
                                     network=NetworkIndicator.OUT_OF_NETWORK, prior_auth=N), copay(MRI, N))
    answer = ask(record, auths(), service_type=MRI, network=NetworkIndicator.OUT_OF_NETWORK)
    assert answer.status == "not_required"
    assert answer.missing == ("the benefits say MRI/CAT Scan is not covered (out of network)",)


@pytest.mark.parametrize("coverage", [
    {"status": CoverageStatus.INACTIVE, "termination": date(2026, 10, 31)},
    {"status": CoverageStatus.ACTIVE, "termination": date(2026, 11, 30)},  # contradicts itself: not trusted
])
def test_coverage_inactive(coverage):
    record = eligibility(listed=(MRI,), **coverage)
    answer = ask(record, auths(auth("RA100")), service_type=MRI, procedure_code="70551")
    assert (answer.required, answer.status, answer.covering_auth_number) == (U, "unknown", None)
    assert answer.required_because.startswith("coverage")
    assert answer.missing == ("coverage is not active on 2026-12-01: verify the member's insurance before asking "
                              "about authorization",)


def test_procedure_only_uses_the_service_type_of_the_authorizations():
    record = eligibility(copay(PT, Y), listed=(PT,))
    on_file = auths(auth("RA123", service("97110", 12, 3), service_type=PT))
    answer = ask(record, on_file, procedure_code=" 97110 ")
    assert (answer.procedure_code, answer.service_type, answer.required, answer.status) == ("97110", PT, Y, "covered")
    assert answer.required_because.startswith("procedure 97110 is on authorizations for Physical Therapy; benefits for "
                                              "Physical Therapy (in network) say prior authorization is required")


def test_procedure_only_on_no_authorization_is_unknown():
    record = eligibility(copay(PT, Y), listed=(PT,))
    answer = ask(record, auths(auth("RA123", service("97110", 12), service_type=PT)), procedure_code="70551")
    assert (answer.service_type, answer.required, answer.status) == (None, U, "unknown")
    assert answer.missing == ("give the service type for procedure 70551 to check whether it needs prior authorization",
                              "no authorization on file for procedure 70551")


def test_nothing_asked_is_unknown():
    answer = ask(MRI_REQUIRED, auths())
    assert (answer.required, answer.status, answer.missing) == (U, "unknown",
                                                                ("say which service type or procedure the visit is for",))


@pytest.mark.parametrize(("record", "on_file", "message"), [
    (eligibility(service_date=date(2026, 11, 30)), auths(), "different date of service"),
    (eligibility(member_id="RM999"), auths(), "different members"),
    (eligibility(), auths(auth("RA1", member_id="RM999")), "different member"),
])
def test_inconsistent_inputs_raise(record, on_file, message):
    with pytest.raises(InconsistentAnswer, match=message):
        ask(record, on_file, service_type=MRI)


def test_answer_is_a_frozen_record_that_serializes_to_codes():
    answer = ask(MRI_REQUIRED, auths(auth("RA100")), service_type=MRI)
    dumped = answer.model_dump(mode="json")
    assert dumped["required"] == "Y" and dumped["service_type"] == "62" and dumped["network"] == "Y"
    assert AuthorizationAnswer.model_validate_json(answer.model_dump_json()) == answer
    with pytest.raises(ValueError):
        answer.status = "missing"  # type: ignore[misc]
