"""Ridgeline Mutual's vocabulary -> X12 codes. Anything else on the page raises UnmappedValue."""

from aggregator.models import (
    AuthIndicator,
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
    AuthStatus,
    ClaimStatusCategory,
    RequestCategory,
    UnitQualifier,
)
from aggregator.scrapers.framework import VocabularyMap

_SERVICE_NAMES = {
    "Office Visit - Primary Care": ServiceType.OFFICE_VISIT,
    "Urgent Care Center": ServiceType.URGENT_CARE,
    "Emergency Room": ServiceType.EMERGENCY_SERVICES,
    "MRI / CT Scan": ServiceType.MRI_CAT_SCAN,
    "Laboratory Services": ServiceType.DIAGNOSTIC_LAB,
    "Physical Therapy": ServiceType.PHYSICAL_THERAPY,
    "Mental Health - Outpatient": ServiceType.MENTAL_HEALTH,
    "Chiropractic Care": ServiceType.CHIROPRACTIC,
}
SERVICE_TYPES = VocabularyMap("service type", _SERVICE_NAMES)

# Network columns. Only these two headers are understood; a renamed tier is never assumed to be one.
NETWORKS = VocabularyMap("network column", {
    "In-Network": NetworkIndicator.IN_NETWORK,
    "Out-of-Network": NetworkIndicator.OUT_OF_NETWORK,
})

# Rows of a service's inner table: label -> (EB01 kind, EB06 period).
SERVICE_ROWS = VocabularyMap("service benefit row", {
    "Copay": (BenefitKind.COPAY, None),
    "Coinsurance": (BenefitKind.COINSURANCE, None),
    "Visit Limit (Calendar Year)": (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR),
    "Visits Remaining": (BenefitKind.LIMITATION, TimePeriod.REMAINING),
})

PLAN_BENEFITS = VocabularyMap("plan benefit", {
    "Deductible": BenefitKind.DEDUCTIBLE,
    "Out-of-Pocket Maximum": BenefitKind.OUT_OF_POCKET,
})
LEVELS = VocabularyMap("coverage level", {"Individual": CoverageLevel.INDIVIDUAL, "Family": CoverageLevel.FAMILY})
PERIODS = VocabularyMap("time period", {"Calendar Year": TimePeriod.CALENDAR_YEAR, "Remaining": TimePeriod.REMAINING})

PRIOR_AUTH = VocabularyMap("prior authorization", {
    "Required": AuthIndicator.REQUIRED,
    "Not Required": AuthIndicator.NOT_REQUIRED,
})
PLAN_TYPES = VocabularyMap("plan type", {
    "PPO": InsuranceType.PPO, "HMO": InsuranceType.HMO, "POS": InsuranceType.POS, "EPO": InsuranceType.EPO,
    "Commercial": InsuranceType.COMMERCIAL,
})
RELATIONSHIPS = VocabularyMap("relationship", {
    "Self": Relationship.SELF, "Spouse": Relationship.SPOUSE, "Child": Relationship.CHILD,
})
COVERAGE_STATUS = VocabularyMap("coverage status", {
    "Active": CoverageStatus.ACTIVE, "Inactive": CoverageStatus.INACTIVE,
})

# Cell words that are not values.
NOT_APPLICABLE = "N/A"  # no benefit of this kind at this tier: no line
NOT_COVERED = "Not Covered"  # the service is not covered at this tier: one EB01 = I line
OPEN_ENDED_DATE = "12/31/9999"  # how the portal writes "no termination date"
PRIOR_AUTH_PREFIX = "Prior authorization required for:"
PRIOR_AUTH_NONE = "None"
INACTIVE_NOTICE = "Benefit information is not available because coverage is not active"
# The footer the portal draws below the content of every screen ("(c) 2003-2026 Ridgeline Mutual
# Insurance Company. All rights reserved."): the end marker of every page an answer is read from.
PORTAL_FOOTER = "Ridgeline Mutual Insurance Company. All rights reserved."


# --- authorizations ---------------------------------------------------------------------------------

AUTH_STATUS = VocabularyMap("authorization status", {
    "Approved": AuthStatus.CERTIFIED,
    "Partially Approved": AuthStatus.PARTIAL,
    "Denied": AuthStatus.NOT_CERTIFIED,
    "Pending Review": AuthStatus.PENDED,
    "Modified": AuthStatus.MODIFIED,
    "Cancelled": AuthStatus.CANCELLED,
    "Contact Health Plan": AuthStatus.CONTACT_PAYER,
})
REQUEST_TYPES = VocabularyMap("request type", {
    "Inpatient Admission": RequestCategory.ADMISSION_REVIEW,
    "Outpatient Services": RequestCategory.HEALTH_SERVICES_REVIEW,
    "Specialist Referral": RequestCategory.SPECIALTY_CARE_REVIEW,
})
# The benefits page's service names, plus the two only authorizations use.
AUTH_SERVICE_TYPES = VocabularyMap("authorization service type", {
    **_SERVICE_NAMES,
    "Inpatient Hospital Stay": ServiceType.HOSPITAL_INPATIENT,
    "Specialist Consultation": ServiceType.CONSULTATION,
})
DECISION_REASONS = VocabularyMap("decision reason", {
    "Not medically necessary": AuthDecisionReason.NOT_MEDICALLY_NECESSARY,
    "Authorization not required for this service": AuthDecisionReason.CERTIFICATION_NOT_REQUIRED,
    "Exceeds plan maximum": AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS,
    "Service not covered under member's plan": AuthDecisionReason.NON_COVERED_SERVICE,
    "Requested clinical information not received": AuthDecisionReason.INFORMATION_NOT_RECEIVED,
    "Referred for medical review": AuthDecisionReason.REQUIRES_MEDICAL_REVIEW,
})
UNITS = VocabularyMap("unit", {
    "Visits": UnitQualifier.VISITS,
    "Units": UnitQualifier.UNITS,
    "Days": UnitQualifier.DAYS,
})
NO_AUTHORIZATIONS = "No authorizations on file for this member."
EXHAUSTED_NOTE = "Exhausted"  # v2 services table "Notes": every approved unit used

# --- claims -----------------------------------------------------------------------------------------

CLAIM_STATUS = VocabularyMap("claim status", {
    "Received": ClaimStatusCategory.RECEIVED,
    "Accepted": ClaimStatusCategory.ACCEPTED,
    "Returned - Unable to Process": ClaimStatusCategory.RETURNED_UNPROCESSABLE,
    "Pending": ClaimStatusCategory.PENDING,
    "In Process": ClaimStatusCategory.PENDING_IN_PROCESS,
    "Pending - Under Review": ClaimStatusCategory.PENDING_PAYER_REVIEW,
    "Pending - Additional Information Requested": ClaimStatusCategory.PENDING_PROVIDER_INFO,
    "Pending - Awaiting Member Information": ClaimStatusCategory.PENDING_PATIENT_INFO,
    "Paid": ClaimStatusCategory.FINALIZED_PAYMENT,
    "Denied": ClaimStatusCategory.FINALIZED_DENIAL,
    "Adjusted": ClaimStatusCategory.FINALIZED_REVISED,
    "Processed - No Payment": ClaimStatusCategory.FINALIZED_NO_PAYMENT,
    "Information Requested": ClaimStatusCategory.REQUEST_GENERAL,
    "Documentation Requested": ClaimStatusCategory.REQUEST_DOCUMENTATION,
})
ADJUSTMENT_SEPARATOR = ";"  # between the X12-coded adjustments of one cell ("CO-45 $120.00; PR-1 $50.00")

# STC01-2 codes (source 508) whose meaning fixes whether the claim is adjudicated, checked against the
# status word's category: 1 "see remittance advice", 65 "paid", 104 "processed according to plan
# provisions", 585 "denied charge" speak of a decision; 19 "receipt acknowledged", 20 "accepted for
# processing" of a claim not yet decided. Other codes are stored as printed.
ADJUDICATED_STATUS_CODES = frozenset({"1", "65", "104", "585"})
UNADJUDICATED_STATUS_CODES = frozenset({"19", "20"})

NO_CLAIMS = "No claims found for the criteria entered."
PAGE_NEXT = "Next >"
PAGE_PREV = "< Prev"
CLAIMS_PER_PAGE = 10  # every results page but the last lists exactly this many claims
MAX_RESULT_PAGES = 50  # more than this is a loop or a runaway search, never a real answer
