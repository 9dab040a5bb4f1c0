"""Cascade Care's words -> canonical codes. Every map raises `UnmappedValue` on a word it does not know."""

from __future__ import annotations

from aggregator.models import (
    BenefitKind,
    CoverageLevel,
    CoverageStatus,
    InsuranceType,
    NetworkIndicator,
    Relationship,
    ServiceType,
    TimePeriod,
)
from aggregator.models.codes import (
    AuthDecisionReason,
    AuthIndicator,
    AuthStatus,
    ClaimStatusCategory,
    RequestCategory,
    UnitQualifier,
)
from aggregator.scrapers.framework import VocabularyMap

NONE = "--"
OPEN_ENDED = "OPEN"
NOT_COVERED = "NOT COVERED"
INACTIVE_NOTICE = "Member is not eligible on the inquiry date."
PRECERT_PREFIX = "Precertification required for:"
PRECERT_NONE = "No services"
NO_AUTHORIZATIONS = "No authorizations found for this member."
NO_CLAIMS = "NO CLAIMS FOUND FOR THE CRITERIA ENTERED"
NO_ADJUSTMENTS = "NO ADJUSTMENTS ON THIS CLAIM"
EOB_CLOSING = "Questions? Call Cascade Care Provider Services"  # the EOB's last line, below every table

RELATIONSHIPS = VocabularyMap("relationship", {"Subscriber": Relationship.SELF, "Spouse": Relationship.SPOUSE,
                                               "Dependent Child": Relationship.CHILD})
ELIGIBILITY = VocabularyMap("eligibility", {"Eligible": CoverageStatus.ACTIVE, "Not Eligible": CoverageStatus.INACTIVE})
PRODUCT_TYPES = VocabularyMap("product type", {"PPO": InsuranceType.PPO, "HMO": InsuranceType.HMO, "POS": InsuranceType.POS,
                                               "EPO": InsuranceType.EPO, "HDHP": InsuranceType.COMMERCIAL})
NETWORKS = VocabularyMap("network", {"Participating": NetworkIndicator.IN_NETWORK,
                                     "Non-Participating": NetworkIndicator.OUT_OF_NETWORK})
ACCUMULATORS = VocabularyMap("accumulator", {"Deductible": BenefitKind.DEDUCTIBLE,
                                             "Out of Pocket Max": BenefitKind.OUT_OF_POCKET})
LEVELS = VocabularyMap("accumulator tier", {"Single": CoverageLevel.INDIVIDUAL, "Family": CoverageLevel.FAMILY})
PERIODS = VocabularyMap("period type", {"Plan Year Total": TimePeriod.CALENDAR_YEAR,
                                        "Balance Remaining": TimePeriod.REMAINING})
SERVICES = VocabularyMap("service category", {
    "PCP Office Visit": ServiceType.OFFICE_VISIT, "Urgent Care": ServiceType.URGENT_CARE,
    "Emergency Dept": ServiceType.EMERGENCY_SERVICES, "Advanced Imaging (MRI/CT)": ServiceType.MRI_CAT_SCAN,
    "Lab": ServiceType.DIAGNOSTIC_LAB, "Physical Therapy": ServiceType.PHYSICAL_THERAPY,
    "Behavioral Health OP": ServiceType.MENTAL_HEALTH, "Chiropractic": ServiceType.CHIROPRACTIC,
})
# Benefit row words -> (kind, period of a visit limit)
BENEFITS = VocabularyMap("benefit", {
    "Copayment": (BenefitKind.COPAY, None), "Coinsurance": (BenefitKind.COINSURANCE, None),
    "Annual Visit Max": (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR),
    "Visits Left": (BenefitKind.LIMITATION, TimePeriod.REMAINING),
})
PRECERT = VocabularyMap("precertification", {"Yes": AuthIndicator.REQUIRED, "No": AuthIndicator.NOT_REQUIRED})

AUTH_STATUS = VocabularyMap("authorization decision", {
    "APPROVED": AuthStatus.CERTIFIED, "PARTIAL APPROVAL": AuthStatus.PARTIAL, "DENIED": AuthStatus.NOT_CERTIFIED,
    "IN REVIEW": AuthStatus.PENDED, "APPROVED W/ CHANGES": AuthStatus.MODIFIED, "VOIDED": AuthStatus.CANCELLED,
    "CALL CASCADE": AuthStatus.CONTACT_PAYER,
})
REQUEST_TYPES = VocabularyMap("request type", {"INPATIENT": RequestCategory.ADMISSION_REVIEW,
                                               "OUTPATIENT": RequestCategory.HEALTH_SERVICES_REVIEW,
                                               "REFERRAL": RequestCategory.SPECIALTY_CARE_REVIEW})
AUTH_SERVICES = VocabularyMap("authorization service", {
    "ADV IMAGING": ServiceType.MRI_CAT_SCAN, "PHYS THERAPY": ServiceType.PHYSICAL_THERAPY,
    "CHIRO": ServiceType.CHIROPRACTIC, "BEHAV HEALTH": ServiceType.MENTAL_HEALTH,
    "INPATIENT STAY": ServiceType.HOSPITAL_INPATIENT, "SPECIALIST CONSULT": ServiceType.CONSULTATION,
})
DECISION_REASONS = VocabularyMap("decision reason", {
    "Medical necessity not met": AuthDecisionReason.NOT_MEDICALLY_NECESSARY,
    "No authorization needed": AuthDecisionReason.CERTIFICATION_NOT_REQUIRED,
    "Over plan limit": AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS,
    "Not a covered benefit": AuthDecisionReason.NON_COVERED_SERVICE,
    "Clinicals not received": AuthDecisionReason.INFORMATION_NOT_RECEIVED,
    "Sent to medical director": AuthDecisionReason.REQUIRES_MEDICAL_REVIEW,
})
UNITS = VocabularyMap("unit type", {"VISITS": UnitQualifier.VISITS, "UNITS": UnitQualifier.UNITS, "DAYS": UnitQualifier.DAYS})

CLAIM_STATUS = VocabularyMap("claim status", {
    "RECEIVED": ClaimStatusCategory.RECEIVED, "ACCEPTED": ClaimStatusCategory.ACCEPTED,
    "REJECTED - RESUBMIT": ClaimStatusCategory.RETURNED_UNPROCESSABLE, "PENDING": ClaimStatusCategory.PENDING,
    "PROCESSING": ClaimStatusCategory.PENDING_IN_PROCESS, "UNDER REVIEW": ClaimStatusCategory.PENDING_PAYER_REVIEW,
    "PEND - PROVIDER INFO": ClaimStatusCategory.PENDING_PROVIDER_INFO,
    "PEND - MEMBER INFO": ClaimStatusCategory.PENDING_PATIENT_INFO,
    "PAID": ClaimStatusCategory.FINALIZED_PAYMENT, "DENIED": ClaimStatusCategory.FINALIZED_DENIAL,
    "ADJUSTED": ClaimStatusCategory.FINALIZED_REVISED, "APPLIED TO DEDUCTIBLE": ClaimStatusCategory.FINALIZED_NO_PAYMENT,
    "INFO REQUESTED": ClaimStatusCategory.REQUEST_GENERAL, "RECORDS REQUESTED": ClaimStatusCategory.REQUEST_DOCUMENTATION,
})
# The claim status codes (X12 code source 508) the portal prints beside each status word. Word and code are
# the same fact stated twice: a code not listed for the word is a contradiction, never a choice of one.
STATUS_CODES: dict[ClaimStatusCategory, frozenset[str]] = {
    ClaimStatusCategory.RECEIVED: frozenset({"19"}), ClaimStatusCategory.ACCEPTED: frozenset({"20"}),
    ClaimStatusCategory.RETURNED_UNPROCESSABLE: frozenset({"21"}), ClaimStatusCategory.PENDING: frozenset({"45"}),
    ClaimStatusCategory.PENDING_IN_PROCESS: frozenset({"20"}), ClaimStatusCategory.PENDING_PAYER_REVIEW: frozenset({"41"}),
    ClaimStatusCategory.PENDING_PROVIDER_INFO: frozenset({"21"}), ClaimStatusCategory.PENDING_PATIENT_INFO: frozenset({"21"}),
    ClaimStatusCategory.FINALIZED_PAYMENT: frozenset({"65", "1"}), ClaimStatusCategory.FINALIZED_DENIAL: frozenset({"585"}),
    ClaimStatusCategory.FINALIZED_REVISED: frozenset({"1"}), ClaimStatusCategory.FINALIZED_NO_PAYMENT: frozenset({"104"}),
    ClaimStatusCategory.REQUEST_GENERAL: frozenset({"0"}), ClaimStatusCategory.REQUEST_DOCUMENTATION: frozenset({"21"}),
}

# Two-digit years: dates of birth are never after the page's date; other dates reach at most this far ahead.
YEARS_AHEAD = 20
