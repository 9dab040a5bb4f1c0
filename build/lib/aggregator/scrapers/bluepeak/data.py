"""What BluePeak's API sent, in the record's terms: the API's codes and, per screen section, how each
value the record took from the screen agrees with the JSON the page was drawn from.

The screen is the record (the screenshot shows it); the JSON kept with the capture is the witness.
The framework (`framework.spa.Agreement`) pairs rows by key and compares both ways: a row on one side
only or a value that differs is a `ParseError`. The API's codes are mapped here independently of the
screen's words (maps.py), so a screen and a JSON that disagree can never read as one value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aggregator.models import (
    AuthIndicator,
    BenefitKind,
    CoverageLevel,
    CoverageStatus,
    InsuranceType,
    NetworkIndicator,
    QuantityQualifier,
    Relationship,
    ServiceType,
    TimePeriod,
    normalize_member_id,
)
from aggregator.models.codes import (
    AuthDecisionReason,
    AuthStatus,
    ClaimStatusCategory,
    RequestCategory,
    UnitQualifier,
)
from aggregator.scrapers.framework import VocabularyMap
from aggregator.scrapers.framework.maps import ADJUSTMENT_GROUPS, ADJUSTMENT_REASONS
from aggregator.scrapers.framework.spa import (
    Agreement,
    Nested,
    Shown,
    coded,
    iso_day,
    money,
    number,
    optional,
    text,
)

# --- the API's codes -------------------------------------------------------------------------------
SERVICES = VocabularyMap("service code", {
    "PCP_VISIT": ServiceType.OFFICE_VISIT, "URGENT_CARE": ServiceType.URGENT_CARE,
    "ER": ServiceType.EMERGENCY_SERVICES, "IMAGING": ServiceType.MRI_CAT_SCAN, "LAB": ServiceType.DIAGNOSTIC_LAB,
    "PT": ServiceType.PHYSICAL_THERAPY, "BEHAVIORAL_OP": ServiceType.MENTAL_HEALTH,
    "CHIRO": ServiceType.CHIROPRACTIC, "INPATIENT": ServiceType.HOSPITAL_INPATIENT,
    "SPECIALIST": ServiceType.CONSULTATION,
})
RELATIONSHIPS = VocabularyMap("relationship code", {"SUBSCRIBER": Relationship.SELF, "SPOUSE": Relationship.SPOUSE,
                                                    "CHILD": Relationship.CHILD})
PLAN_TYPES = VocabularyMap("plan type code", {"PPO": InsuranceType.PPO, "HMO": InsuranceType.HMO,
                                              "EPO": InsuranceType.EPO, "POS": InsuranceType.POS,
                                              "HDHP": InsuranceType.COMMERCIAL})
COVERAGE = VocabularyMap("coverage code", {"ACTIVE": CoverageStatus.ACTIVE, "INACTIVE": CoverageStatus.INACTIVE})
# Only these two network codes; another tier code (a v2 plan's "T1") is never read as one of them.
NETWORKS = VocabularyMap("network code", {"IN": NetworkIndicator.IN_NETWORK, "OUT": NetworkIndicator.OUT_OF_NETWORK})
ACCUMULATORS = VocabularyMap("accumulator code", {"DEDUCTIBLE": BenefitKind.DEDUCTIBLE,
                                                  "OOP_MAX": BenefitKind.OUT_OF_POCKET})
LEVELS = VocabularyMap("level code", {"INDIVIDUAL": CoverageLevel.INDIVIDUAL, "FAMILY": CoverageLevel.FAMILY})
PERIODS = VocabularyMap("period code", {"ANNUAL": TimePeriod.CALENDAR_YEAR, "REMAINING": TimePeriod.REMAINING})
NOT_COVERED = "NOT_COVERED"
BENEFITS = VocabularyMap("benefit code", {
    "COPAY": (BenefitKind.COPAY, None), "COINSURANCE": (BenefitKind.COINSURANCE, None),
    "VISIT_LIMIT": (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR),
    "VISITS_REMAINING": (BenefitKind.LIMITATION, TimePeriod.REMAINING),
    NOT_COVERED: (BenefitKind.NON_COVERED, None),
})
AUTH_STATUS = VocabularyMap("authorization status code", {
    "APPROVED": AuthStatus.CERTIFIED, "PARTIAL": AuthStatus.PARTIAL, "DENIED": AuthStatus.NOT_CERTIFIED,
    "IN_REVIEW": AuthStatus.PENDED, "MODIFIED": AuthStatus.MODIFIED, "CANCELLED": AuthStatus.CANCELLED,
    "CALL_US": AuthStatus.CONTACT_PAYER,
})
REQUEST_TYPES = VocabularyMap("request type code", {"INPATIENT": RequestCategory.ADMISSION_REVIEW,
                                                    "OUTPATIENT": RequestCategory.HEALTH_SERVICES_REVIEW,
                                                    "REFERRAL": RequestCategory.SPECIALTY_CARE_REVIEW})
DECISION_REASONS = VocabularyMap("decision reason code", {
    "MED_NEC": AuthDecisionReason.NOT_MEDICALLY_NECESSARY, "NOT_NEEDED": AuthDecisionReason.CERTIFICATION_NOT_REQUIRED,
    "PLAN_MAX": AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS, "NOT_COVERED": AuthDecisionReason.NON_COVERED_SERVICE,
    "INFO_MISSING": AuthDecisionReason.INFORMATION_NOT_RECEIVED,
    "CLINICAL_REVIEW": AuthDecisionReason.REQUIRES_MEDICAL_REVIEW,
})
UNITS = VocabularyMap("unit code", {"VISIT": UnitQualifier.VISITS, "UNIT": UnitQualifier.UNITS, "DAY": UnitQualifier.DAYS})
CLAIM_STATUS = VocabularyMap("claim status code", {
    "RECEIVED": ClaimStatusCategory.RECEIVED, "ACCEPTED": ClaimStatusCategory.ACCEPTED,
    "RETURNED": ClaimStatusCategory.RETURNED_UNPROCESSABLE, "PENDING": ClaimStatusCategory.PENDING,
    "IN_PROCESS": ClaimStatusCategory.PENDING_IN_PROCESS, "UNDER_REVIEW": ClaimStatusCategory.PENDING_PAYER_REVIEW,
    "NEED_PROVIDER_INFO": ClaimStatusCategory.PENDING_PROVIDER_INFO,
    "NEED_MEMBER_INFO": ClaimStatusCategory.PENDING_PATIENT_INFO, "PAID": ClaimStatusCategory.FINALIZED_PAYMENT,
    "DENIED": ClaimStatusCategory.FINALIZED_DENIAL, "ADJUSTED": ClaimStatusCategory.FINALIZED_REVISED,
    "NO_PAYMENT": ClaimStatusCategory.FINALIZED_NO_PAYMENT, "INFO_REQUESTED": ClaimStatusCategory.REQUEST_GENERAL,
    "RECORDS_REQUESTED": ClaimStatusCategory.REQUEST_DOCUMENTATION,
})


def member_id(value: Any) -> str:
    return normalize_member_id(text(value))


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not a yes/no")
    return value


# --- member search -----------------------------------------------------------------------------------

CANDIDATES = Agreement("member candidates", key=("member_id",), values=(
    Shown("member_id", "memberId", member_id),
    Shown("first_name", "firstName", text),
    Shown("last_name", "lastName", text),
    Shown("date_of_birth", "dateOfBirth", iso_day),
    Shown("relationship", "relationship", coded(RELATIONSHIPS)),
))


# --- eligibility -----------------------------------------------------------------------------------

def benefit_rows(body: Any) -> list[dict[str, Any]]:
    """The plan's accumulators and every service's benefits as one list of rows, as the record holds
    them (one line per benefit; a service's prior-authorization flag on each of its lines)."""
    rows: list[dict[str, Any]] = [{**entry, "service": None} for entry in body["accumulators"]]
    for service in body["services"]:
        for entry in service["benefits"]:
            rows.append({**entry, "service": service["code"], "priorAuthRequired": service["priorAuthRequired"]})
    return rows


def _service(row: dict[str, Any]) -> ServiceType:
    return ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE if row["service"] is None else SERVICES(row["service"])


def _kind_period(row: dict[str, Any]) -> tuple[BenefitKind, TimePeriod | None]:
    if row["service"] is None:
        return ACCUMULATORS(row["type"]), PERIODS(row["period"])
    return BENEFITS(row["type"])


def _level(row: dict[str, Any]) -> CoverageLevel | None:
    return LEVELS(row["level"]) if row["service"] is None else None


def _amount(row: dict[str, Any]) -> Decimal | None:
    if row["service"] is None:
        return money(row["amount"])
    return money(row["value"]) if _kind_period(row)[0] is BenefitKind.COPAY else None


def _percent(row: dict[str, Any]) -> Decimal | None:
    if row["service"] is None or _kind_period(row)[0] is not BenefitKind.COINSURANCE:
        return None
    if "basis" in row:
        # Whose share the number is, said some new way: the record's share cannot be told from it.
        raise ValueError("a coinsurance basis the adapter does not know")
    share = number(row["value"]) / 100
    return share.normalize() if share else Decimal("0")


def _quantity(row: dict[str, Any]) -> Decimal | None:
    return number(row["value"]) if row["service"] is not None and _kind_period(row)[0] is BenefitKind.LIMITATION else None


def _qualifier(row: dict[str, Any]) -> QuantityQualifier | None:
    return QuantityQualifier.VISITS if _quantity(row) is not None else None


def _prior_auth(row: dict[str, Any]) -> AuthIndicator:
    if row["service"] is None:
        return AuthIndicator.UNKNOWN
    return AuthIndicator.REQUIRED if flag(row["priorAuthRequired"]) else AuthIndicator.NOT_REQUIRED


BENEFIT_LINES = Agreement("benefits", key=("service_type", "kind", "network", "coverage_level", "time_period"), values=(
    Shown("service_type", "", _service),
    Shown("kind", "", lambda row: _kind_period(row)[0]),
    Shown("network", "network", coded(NETWORKS)),
    Shown("coverage_level", "", _level),
    Shown("time_period", "", lambda row: _kind_period(row)[1]),
    Shown("amount", "", _amount),
    Shown("percent", "", _percent),
    Shown("quantity", "", _quantity),
    Shown("quantity_qualifier", "", _qualifier),
    Shown("prior_auth", "", _prior_auth),
))


def _prior_auth_list(codes: Any) -> tuple[ServiceType, ...]:
    if not isinstance(codes, list):
        raise TypeError("not a list")
    return tuple(sorted({SERVICES(text(code)) for code in codes}, key=lambda s: s.value))


ELIGIBILITY = Agreement("eligibility", values=(
    Shown("service_date", "dateOfService", iso_day),
    Shown("member.member_id", "member.memberId", member_id),
    Shown("member.subscriber_id", "member.subscriberId", member_id),
    Shown("member.first_name", "member.firstName", text),
    Shown("member.last_name", "member.lastName", text),
    Shown("member.date_of_birth", "member.dateOfBirth", iso_day),
    Shown("member.relationship", "member.relationship", coded(RELATIONSHIPS)),
    Shown("payer.name", "coverage.payerName", text),
    Shown("payer.payer_id", "coverage.payerId", text),
    Shown("plan.name", "coverage.planName", text),
    Shown("plan.insurance_type", "coverage.planType", coded(PLAN_TYPES)),
    Shown("plan.group_number", "coverage.groupNumber", text),
    Shown("plan.group_name", "coverage.groupName", text),
    Shown("coverage.status", "coverage.status", coded(COVERAGE)),
    Shown("coverage.effective_date", "coverage.effectiveDate", iso_day),
    Shown("coverage.termination_date", "coverage.terminationDate", optional(iso_day)),
    Shown("prior_auth_service_types", "priorAuthServices", _prior_auth_list),
))


def eligibility_agrees(record: Any, body: Any) -> None:
    """The record (member, plan, coverage and every benefit line) agrees with the response it was drawn from."""
    ELIGIBILITY.one(record, body)
    try:
        rows = benefit_rows(body)
    except (LookupError, TypeError):
        rows = None  # reported by the agreement, naming the section
    BENEFIT_LINES.rows(record.benefits, rows)


# --- authorizations ----------------------------------------------------------------------------------

AUTHORIZATIONS = Agreement("authorizations", key=("auth_number",), values=(
    Shown("auth_number", "authNumber", text),
    Shown("member_id", "memberId", member_id),
    Shown("status", "status", coded(AUTH_STATUS)),
    Shown("request_category", "requestType", coded(REQUEST_TYPES)),
    Shown("service_type", "service", coded(SERVICES)),
    Shown("effective_date", "effectiveDate", optional(iso_day)),
    Shown("expiration_date", "expirationDate", optional(iso_day)),
    Shown("servicing_provider_name", "provider.name", text),
    Shown("servicing_provider_npi", "provider.npi", optional(text)),
    Shown("decision_reason", "decisionReason", optional(coded(DECISION_REASONS))),
    Shown("last_updated", "lastUpdated", iso_day),
), nested=(Nested("services", "lines", Agreement("authorized procedures", key=("procedure_code", "unit"), values=(
    Shown("procedure_code", "procedureCode", text),
    Shown("unit", "unit", coded(UNITS)),
    Shown("approved", "approved", number),
    Shown("used", "used", number),
    Shown("remaining", "remaining", number),
))),))


# --- claims ----------------------------------------------------------------------------------------------

ADJUSTMENTS = Agreement("claim adjustments", values=(
    Shown("group", "group", coded(ADJUSTMENT_GROUPS)),
    Shown("reason", "reason", coded(ADJUSTMENT_REASONS)),
    Shown("amount", "amount", money),
))
CLAIM_LINES = Agreement("claim service lines", key=("line_number",), values=(
    Shown("line_number", "line", lambda value: int(number(value))),
    Shown("procedure_code", "procedureCode", text),
    Shown("service_date", "serviceDate", iso_day),
    Shown("units", "units", number),
    Shown("billed", "billed", money),
    Shown("allowed", "allowed", money),
    Shown("paid", "paid", money),
), nested=(Nested("adjustments", "adjustments", ADJUSTMENTS),))
CLAIMS = Agreement("claims", key=("payer_claim_number",), values=(
    Shown("payer_claim_number", "claimNumber", text),
    Shown("provider_account_number", "patientAccount", text),
    Shown("member_id", "memberId", member_id),
    Shown("service_from", "serviceFrom", iso_day),
    Shown("service_to", "serviceTo", iso_day),
    Shown("status_category", "status", coded(CLAIM_STATUS)),
    Shown("status_code", "statusCode", text),
    Shown("received_date", "receivedDate", iso_day),
    Shown("adjudicated_date", "processedDate", optional(iso_day)),
    Shown("paid_date", "paidDate", optional(iso_day)),
    Shown("check_number", "paymentNumber", optional(text)),
    Shown("billed", "totals.billed", money),
    Shown("allowed", "totals.allowed", optional(money)),
    Shown("paid", "totals.paid", money),
    Shown("patient_responsibility", "totals.memberOwes", optional(money)),
), nested=(Nested("lines", "lines", CLAIM_LINES),))
