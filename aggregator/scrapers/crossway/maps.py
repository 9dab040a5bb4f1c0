"""The Crossway hub's words -> canonical codes, shared by every payer layout. A word no map knows raises
`UnmappedValue` (needs attention): the adapter never guesses.

The hub prints one vocabulary for every payer (its own rendering of a 271/277), so the per-payer layout
modules (`layouts/`) differ in where a value sits, not in what its words mean.
"""

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
from aggregator.models.codes import ClaimStatusCategory
from aggregator.scrapers.framework import VocabularyMap

NO_VALUE = "—"  # what the hub prints for "no value" (an em dash)
TITLE_PREFIX = "Crossway - "
IDP_TITLE_PREFIX = "Crossway ID - "

SERVICE_TYPES = VocabularyMap("service type", {
    "Office Visit": ServiceType.OFFICE_VISIT,
    "Urgent Care": ServiceType.URGENT_CARE,
    "Emergency Services": ServiceType.EMERGENCY_SERVICES,
    "MRI/CAT Scan": ServiceType.MRI_CAT_SCAN,
    "Diagnostic Lab": ServiceType.DIAGNOSTIC_LAB,
    "Physical Therapy": ServiceType.PHYSICAL_THERAPY,
    "Mental Health": ServiceType.MENTAL_HEALTH,
    "Chiropractic": ServiceType.CHIROPRACTIC,
    "Health Benefit Plan Coverage": ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE,
})
BENEFITS = VocabularyMap("benefit", {
    "Deductible": BenefitKind.DEDUCTIBLE,
    "Out of Pocket (Stop Loss)": BenefitKind.OUT_OF_POCKET,
    "Co-Payment": BenefitKind.COPAY,
    "Co-Insurance": BenefitKind.COINSURANCE,
    "Limitations": BenefitKind.LIMITATION,
    "Non-Covered": BenefitKind.NON_COVERED,
})
NETWORKS = VocabularyMap("network", {
    "In Network": NetworkIndicator.IN_NETWORK,
    "Out of Network": NetworkIndicator.OUT_OF_NETWORK,
})
LEVELS = VocabularyMap("coverage level", {"Individual": CoverageLevel.INDIVIDUAL, "Family": CoverageLevel.FAMILY})
PERIODS = VocabularyMap("time period", {"Calendar Year": TimePeriod.CALENDAR_YEAR, "Remaining": TimePeriod.REMAINING})
# Per benefit line (the standard and sections layouts); the plan-level lines print "—" (not stated).
PRIOR_AUTH = VocabularyMap("prior authorization", {
    "Yes": AuthIndicator.REQUIRED,
    "No": AuthIndicator.NOT_REQUIRED,
    NO_VALUE: AuthIndicator.UNKNOWN,
})
COVERAGE_STATUS = VocabularyMap("coverage status", {
    "Active Coverage": CoverageStatus.ACTIVE,
    "Inactive": CoverageStatus.INACTIVE,
})
RELATIONSHIPS = VocabularyMap("relationship", {
    "Self": Relationship.SELF, "Spouse": Relationship.SPOUSE, "Child": Relationship.CHILD,
    "Other": Relationship.OTHER,
})
PLAN_TYPES = VocabularyMap("plan type", {
    "PPO": InsuranceType.PPO, "HMO": InsuranceType.HMO, "POS": InsuranceType.POS, "EPO": InsuranceType.EPO,
    "Commercial": InsuranceType.COMMERCIAL,
})
# The claim status words are the X12 507 category labels, printed as the standard names them.
CLAIM_STATUS = VocabularyMap("claim status", {category.label: category for category in ClaimStatusCategory})
ADJUSTMENT_SEPARATOR = ";"  # between the X12-coded adjustments of one cell ("CO-45 $120.00; PR-1 $50.00")

VISITS = "visits"  # "20 visits" (also "1 visits": the hub does not make it singular)
PRIOR_AUTH_PREFIX = "Prior authorization required for:"
PRIOR_AUTH_NONE = "None"
INACTIVE_NOTICE = "Coverage is not active on the date of service. Benefits are not available."
NO_CLAIMS = "No claims were found for this patient in the dates entered."

# What the "no patient" result says, per reason (the reject reason is what staff see).
NOT_FOUND = "No patient was found with the information entered."
DOB_MISMATCH = "The date of birth does not match the payer's records for this member ID."
NAME_MISMATCH = "The last name does not match the payer's records for this member ID."
CANDIDATES_GONE = "These search results are no longer available. Please search again."

# --- pivot layout (Prairie Mutual) ---------------------------------------------------------------
# Rows of a service's table: label -> (kind, period). "Coverage" is the one row of a service covered on
# no network; "Not Covered" fills a network's column where the service is not covered there.
PIVOT_ROWS = VocabularyMap("service benefit row", {
    "Co-Payment": (BenefitKind.COPAY, None),
    "Co-Insurance": (BenefitKind.COINSURANCE, None),
    "Visit Limit (Calendar Year)": (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR),
    "Visits Remaining": (BenefitKind.LIMITATION, TimePeriod.REMAINING),
})
PIVOT_NOT_COVERED_ROW = "Coverage"
NOT_COVERED = "Not Covered"
PIVOT_PRIOR_AUTH_LABEL = "Prior authorization"
PIVOT_PRIOR_AUTH = VocabularyMap("service prior authorization", {
    "Required": AuthIndicator.REQUIRED,
    "Not required": AuthIndicator.NOT_REQUIRED,
})
# Where a co-insurance cell states the plan's share rather than the patient's ("Plan pays 80%"): the same
# label with the opposite meaning. Never read as a patient share, never converted: refused.
PLAN_SHARE_PREFIX = "Plan pays"

# --- sign-in (Crossway ID) and the hub's messages -----------------------------------------------
MSG_INVALID_LOGIN = "The username or password you entered is incorrect."
MSG_LOCKED = "Your Crossway ID is locked after too many failed attempts. Contact your administrator."
MSG_CODE_INVALID = "That code is not valid. Enter the current code from your authenticator app."
MSG_CODE_REUSED = "That code was already used. Wait for your authenticator app to show a new code."
MSG_SESSION_GONE = "Your sign-in session has ended. Return to the application and sign in again."
MSG_CODE_WRONG = "That code is not correct."  # a code sent by text or e-mail (may go on: attempts left)
MSG_CODE_EXPIRED = "That code has expired. Sign in again to get a new code."
MSG_PUSH_DENIED = "The sign-in request was denied."
MSG_PUSH_EXPIRED = "The sign-in request expired. Sign in again."
CODE_LIFETIME_SECONDS = 300  # Crossway ID: "codes expire after 5 minutes" (and push requests too)
DEVICE_COOKIE = "CWIDDEVICE"  # "Remember this device for 30 days"
MSG_NOT_VERIFIED = "Sign-in could not be verified. Please sign in again."
MSG_ACCESS_DENIED = "Sign-in was cancelled: Crossway needs your permission to continue."
MSG_NAME_SEARCH_UNSUPPORTED = "This payer does not support searching by patient name. Enter the member ID."
MSG_TOO_FAST = "You are searching too quickly. Please wait a moment and try again."  # the hub's own pace gate
# The banner every signed-in hub page shows when the password nears expiry ("... expires in N days (date).").
PASSWORD_WARNING_PREFIX = "Your Crossway ID password expires in"
