"""BluePeak Health's screen words -> X12 codes. Anything else on a screen raises UnmappedValue.

The words are the ones the app draws (see sandbox/bluepeak/vocabulary.py `DISPLAY` for the sandbox's
copy); compared case- and space-insensitively, so the v2 capitals read the same.
"""

from aggregator.models import (
    AuthIndicator,
    BenefitKind,
    CoverageLevel,
    CoverageStatus,
    InsuranceType,
    NetworkIndicator,
    RejectReason,
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
from aggregator.scrapers.framework.login import LoginMessages

DATE_FORMAT = "%b %d, %Y"  # "Nov 27, 2026"
NO_VALUE = "\u2014"  # an em dash: no value of this kind
NOT_COVERED = "Not covered"  # the service is not covered at this tier: one EB01 = I line
INACTIVE_NOTICE = "Coverage is not active on the date of service"
PRIOR_AUTH_TITLE = "Prior authorization required for"
PRIOR_AUTH_BADGE = "Prior authorization"  # a service's title line: "Prior authorization Required"
PRIOR_AUTH_NONE = "No services on this plan need prior authorization."
NO_AUTHORIZATIONS = "No authorizations on file for this member."
NO_CLAIMS = "No claims match your search."
KNOWN_TERMS_VERSIONS = frozenset({"2026.3"})  # terms the practice has reviewed; a newer one needs a person

SERVICES = VocabularyMap("service", {
    "Primary care visit": ServiceType.OFFICE_VISIT,
    "Urgent care": ServiceType.URGENT_CARE,
    "Emergency room": ServiceType.EMERGENCY_SERVICES,
    "Advanced imaging (MRI/CT)": ServiceType.MRI_CAT_SCAN,
    "Lab work": ServiceType.DIAGNOSTIC_LAB,
    "Physical therapy": ServiceType.PHYSICAL_THERAPY,
    "Outpatient mental health": ServiceType.MENTAL_HEALTH,
    "Chiropractic": ServiceType.CHIROPRACTIC,
})
AUTH_SERVICES = VocabularyMap("authorization service", {
    **{word: SERVICES(word) for word in SERVICES.known()},
    "Inpatient admission": ServiceType.HOSPITAL_INPATIENT,
    "Specialist consult": ServiceType.CONSULTATION,
})
# Only these two headers name networks; a renamed tier is never assumed to be one of them.
NETWORKS = VocabularyMap("network column", {
    "In network": NetworkIndicator.IN_NETWORK,
    "Out of network": NetworkIndicator.OUT_OF_NETWORK,
})
BENEFIT_ROWS = VocabularyMap("benefit row", {
    "Copay": (BenefitKind.COPAY, None),
    "Coinsurance": (BenefitKind.COINSURANCE, None),
    "Visits per year": (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR),
    "Visits left": (BenefitKind.LIMITATION, TimePeriod.REMAINING),
})
ACCUMULATORS = VocabularyMap("accumulator", {"Deductible": BenefitKind.DEDUCTIBLE,
                                             "Out-of-pocket max": BenefitKind.OUT_OF_POCKET})
LEVELS = VocabularyMap("coverage level", {"Individual": CoverageLevel.INDIVIDUAL, "Family": CoverageLevel.FAMILY})
PERIODS = VocabularyMap("period", {"Annual": TimePeriod.CALENDAR_YEAR, "Remaining": TimePeriod.REMAINING})
PRIOR_AUTH = VocabularyMap("prior authorization", {"Required": AuthIndicator.REQUIRED,
                                                   "Not required": AuthIndicator.NOT_REQUIRED})
PLAN_TYPES = VocabularyMap("plan type", {"PPO": InsuranceType.PPO, "HMO": InsuranceType.HMO, "EPO": InsuranceType.EPO,
                                         "POS": InsuranceType.POS, "High-deductible": InsuranceType.COMMERCIAL})
RELATIONSHIPS = VocabularyMap("relationship", {"Subscriber": Relationship.SELF, "Spouse": Relationship.SPOUSE,
                                               "Child": Relationship.CHILD})
COVERAGE_STATUS = VocabularyMap("coverage status", {"Active": CoverageStatus.ACTIVE,
                                                    "Not active": CoverageStatus.INACTIVE})
SEARCH_REFUSALS = VocabularyMap("search message", {
    "We couldn't find a member with that ID.": RejectReason.NOT_FOUND,
    "The date of birth doesn't match this member.": RejectReason.DOB_MISMATCH,
    "The last name doesn't match this member.": RejectReason.INVALID_NAME,
})
LOGIN_MESSAGES = LoginMessages(
    ended=("Your session timed out. Please sign in again.",
           "You were signed out because your account signed in somewhere else."),
    # the sign-in screen's messages that mean the account itself was refused
    rejected={"That username and password don't match our records.": "rejected the username or password",
              "Your account is locked. Call Provider Services to unlock it.":
                  "says the account is locked: contact the carrier"},
)

# --- authorizations ---------------------------------------------------------------------------------
AUTH_STATUS = VocabularyMap("authorization status", {
    "Approved": AuthStatus.CERTIFIED, "Partially approved": AuthStatus.PARTIAL, "Denied": AuthStatus.NOT_CERTIFIED,
    "In review": AuthStatus.PENDED, "Modified": AuthStatus.MODIFIED, "Cancelled": AuthStatus.CANCELLED,
    "Call BluePeak": AuthStatus.CONTACT_PAYER,
})
REQUEST_TYPES = VocabularyMap("request type", {
    "Inpatient stay": RequestCategory.ADMISSION_REVIEW, "Outpatient service": RequestCategory.HEALTH_SERVICES_REVIEW,
    "Specialist referral": RequestCategory.SPECIALTY_CARE_REVIEW,
})
DECISION_REASONS = VocabularyMap("decision reason", {
    "Does not meet medical necessity criteria": AuthDecisionReason.NOT_MEDICALLY_NECESSARY,
    "No authorization needed for this service": AuthDecisionReason.CERTIFICATION_NOT_REQUIRED,
    "Over the plan limit": AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS,
    "Not a covered benefit": AuthDecisionReason.NON_COVERED_SERVICE,
    "Clinical information not received": AuthDecisionReason.INFORMATION_NOT_RECEIVED,
    "Sent for clinical review": AuthDecisionReason.REQUIRES_MEDICAL_REVIEW,
})
UNITS = VocabularyMap("unit", {"visits": UnitQualifier.VISITS, "units": UnitQualifier.UNITS, "days": UnitQualifier.DAYS})

# --- claims -----------------------------------------------------------------------------------------
CLAIM_STATUS = VocabularyMap("claim status", {
    "Received": ClaimStatusCategory.RECEIVED, "Accepted": ClaimStatusCategory.ACCEPTED,
    "Returned": ClaimStatusCategory.RETURNED_UNPROCESSABLE, "Pending": ClaimStatusCategory.PENDING,
    "In process": ClaimStatusCategory.PENDING_IN_PROCESS, "Under review": ClaimStatusCategory.PENDING_PAYER_REVIEW,
    "Waiting on provider": ClaimStatusCategory.PENDING_PROVIDER_INFO,
    "Waiting on member": ClaimStatusCategory.PENDING_PATIENT_INFO, "Paid": ClaimStatusCategory.FINALIZED_PAYMENT,
    "Denied": ClaimStatusCategory.FINALIZED_DENIAL, "Adjusted": ClaimStatusCategory.FINALIZED_REVISED,
    "Processed, no payment": ClaimStatusCategory.FINALIZED_NO_PAYMENT,
    "More info needed": ClaimStatusCategory.REQUEST_GENERAL, "Records needed": ClaimStatusCategory.REQUEST_DOCUMENTATION,
})
# The status codes (STC01-2, code source 508) the portal shows beside each status word: a word and a code
# that do not belong together (a "Paid" claim coded as denied) are a page that contradicts itself.
STATUS_CODES_OF: dict[ClaimStatusCategory, frozenset[str]] = {
    ClaimStatusCategory.RECEIVED: frozenset({"19"}), ClaimStatusCategory.ACCEPTED: frozenset({"20"}),
    ClaimStatusCategory.RETURNED_UNPROCESSABLE: frozenset({"21"}), ClaimStatusCategory.PENDING: frozenset({"45"}),
    ClaimStatusCategory.PENDING_IN_PROCESS: frozenset({"20"}), ClaimStatusCategory.PENDING_PAYER_REVIEW: frozenset({"41"}),
    ClaimStatusCategory.PENDING_PROVIDER_INFO: frozenset({"21"}), ClaimStatusCategory.PENDING_PATIENT_INFO: frozenset({"21"}),
    ClaimStatusCategory.FINALIZED_PAYMENT: frozenset({"1", "65"}), ClaimStatusCategory.FINALIZED_DENIAL: frozenset({"585"}),
    ClaimStatusCategory.FINALIZED_REVISED: frozenset({"1"}), ClaimStatusCategory.FINALIZED_NO_PAYMENT: frozenset({"104"}),
    ClaimStatusCategory.REQUEST_GENERAL: frozenset({"0"}), ClaimStatusCategory.REQUEST_DOCUMENTATION: frozenset({"21"}),
}
