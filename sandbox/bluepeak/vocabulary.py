"""BluePeak Health's own vocabulary: the JSON codes its API sends and the words its screens show.

A different generation from Ridgeline: the API speaks camelCase JSON with its own enum codes, ISO
dates and amounts as strings ("1500.00"); the single-page app turns codes into the words below
(`DISPLAY`, sent to the browser as JSON in the shell page) and formats dates as `Nov 27, 2026`.
The adapter maps the *displayed words* back to X12 codes (aggregator/scrapers/bluepeak/maps.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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
    AuthStatus,
    ClaimStatusCategory,
    RequestCategory,
    UnitQualifier,
)

PORTAL_NAME = "BluePeak Health"
APP_TITLE = "BluePeak Provider Connect"
SESSION_COOKIE = "bp_sid"
TERMS_VERSION = "2026.3"  # the modal names the version; the adapter accepts only versions it knows

# --- JSON codes (what the API sends) -----------------------------------------------------------------
RELATIONSHIP_CODES = {Relationship.SELF: "SUBSCRIBER", Relationship.SPOUSE: "SPOUSE", Relationship.CHILD: "CHILD"}
PLAN_TYPE_CODES = {InsuranceType.PPO: "PPO", InsuranceType.HMO: "HMO", InsuranceType.EPO: "EPO",
                   InsuranceType.POS: "POS", InsuranceType.COMMERCIAL: "HDHP"}
COVERAGE_CODES = {CoverageStatus.ACTIVE: "ACTIVE", CoverageStatus.INACTIVE: "INACTIVE"}
SERVICE_CODES: dict[ServiceType, str] = {
    ServiceType.OFFICE_VISIT: "PCP_VISIT", ServiceType.URGENT_CARE: "URGENT_CARE",
    ServiceType.EMERGENCY_SERVICES: "ER", ServiceType.MRI_CAT_SCAN: "IMAGING", ServiceType.DIAGNOSTIC_LAB: "LAB",
    ServiceType.PHYSICAL_THERAPY: "PT", ServiceType.MENTAL_HEALTH: "BEHAVIORAL_OP", ServiceType.CHIROPRACTIC: "CHIRO",
    ServiceType.HOSPITAL_INPATIENT: "INPATIENT", ServiceType.CONSULTATION: "SPECIALIST",
}
NETWORK_CODES = {NetworkIndicator.IN_NETWORK: "IN", NetworkIndicator.OUT_OF_NETWORK: "OUT"}
# (EB01 kind, EB06 period) of a service benefit -> its code; NOT_COVERED is a whole tier.
BENEFIT_CODES: dict[tuple[BenefitKind, TimePeriod | None], str] = {
    (BenefitKind.COPAY, None): "COPAY", (BenefitKind.COINSURANCE, None): "COINSURANCE",
    (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR): "VISIT_LIMIT",
    (BenefitKind.LIMITATION, TimePeriod.REMAINING): "VISITS_REMAINING",
}
NOT_COVERED_CODE = "NOT_COVERED"
ACCUMULATOR_CODES = {BenefitKind.DEDUCTIBLE: "DEDUCTIBLE", BenefitKind.OUT_OF_POCKET: "OOP_MAX"}
LEVEL_CODES = {CoverageLevel.INDIVIDUAL: "INDIVIDUAL", CoverageLevel.FAMILY: "FAMILY"}
PERIOD_CODES = {TimePeriod.CALENDAR_YEAR: "ANNUAL", TimePeriod.REMAINING: "REMAINING"}
AUTH_STATUS_CODES = {
    AuthStatus.CERTIFIED: "APPROVED", AuthStatus.PARTIAL: "PARTIAL", AuthStatus.NOT_CERTIFIED: "DENIED",
    AuthStatus.PENDED: "IN_REVIEW", AuthStatus.MODIFIED: "MODIFIED", AuthStatus.CANCELLED: "CANCELLED",
    AuthStatus.CONTACT_PAYER: "CALL_US",
}
REQUEST_CODES = {RequestCategory.ADMISSION_REVIEW: "INPATIENT", RequestCategory.HEALTH_SERVICES_REVIEW: "OUTPATIENT",
                 RequestCategory.SPECIALTY_CARE_REVIEW: "REFERRAL"}
REASON_CODES = {
    AuthDecisionReason.NOT_MEDICALLY_NECESSARY: "MED_NEC", AuthDecisionReason.CERTIFICATION_NOT_REQUIRED: "NOT_NEEDED",
    AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS: "PLAN_MAX", AuthDecisionReason.NON_COVERED_SERVICE: "NOT_COVERED",
    AuthDecisionReason.INFORMATION_NOT_RECEIVED: "INFO_MISSING", AuthDecisionReason.REQUIRES_MEDICAL_REVIEW: "CLINICAL_REVIEW",
}
UNIT_CODES = {UnitQualifier.VISITS: "VISIT", UnitQualifier.UNITS: "UNIT", UnitQualifier.DAYS: "DAY"}
CLAIM_STATUS_CODES = {
    ClaimStatusCategory.RECEIVED: "RECEIVED", ClaimStatusCategory.ACCEPTED: "ACCEPTED",
    ClaimStatusCategory.RETURNED_UNPROCESSABLE: "RETURNED", ClaimStatusCategory.PENDING: "PENDING",
    ClaimStatusCategory.PENDING_IN_PROCESS: "IN_PROCESS", ClaimStatusCategory.PENDING_PAYER_REVIEW: "UNDER_REVIEW",
    ClaimStatusCategory.PENDING_PROVIDER_INFO: "NEED_PROVIDER_INFO",
    ClaimStatusCategory.PENDING_PATIENT_INFO: "NEED_MEMBER_INFO", ClaimStatusCategory.FINALIZED_PAYMENT: "PAID",
    ClaimStatusCategory.FINALIZED_DENIAL: "DENIED", ClaimStatusCategory.FINALIZED_REVISED: "ADJUSTED",
    ClaimStatusCategory.FINALIZED_NO_PAYMENT: "NO_PAYMENT", ClaimStatusCategory.REQUEST_GENERAL: "INFO_REQUESTED",
    ClaimStatusCategory.REQUEST_DOCUMENTATION: "RECORDS_REQUESTED",
}
# Search refusals (`{"error": {"code": ...}}`, HTTP 404 / 422).
ERROR_NOT_FOUND = "MEMBER_NOT_FOUND"
ERROR_DOB = "DOB_MISMATCH"
ERROR_NAME = "NAME_MISMATCH"

# --- words on the screen (the app looks codes up in DISPLAY) ------------------------------------------
DISPLAY: dict[str, dict[str, str]] = {
    "relationship": {"SUBSCRIBER": "Subscriber", "SPOUSE": "Spouse", "CHILD": "Child"},
    "planType": {"PPO": "PPO", "HMO": "HMO", "EPO": "EPO", "POS": "POS", "HDHP": "High-deductible"},
    "coverage": {"ACTIVE": "Active", "INACTIVE": "Not active"},
    "service": {
        "PCP_VISIT": "Primary care visit", "URGENT_CARE": "Urgent care", "ER": "Emergency room",
        "IMAGING": "Advanced imaging (MRI/CT)", "LAB": "Lab work", "PT": "Physical therapy",
        "BEHAVIORAL_OP": "Outpatient mental health", "CHIRO": "Chiropractic",
        "INPATIENT": "Inpatient admission", "SPECIALIST": "Specialist consult",
    },
    "network": {"IN": "In network", "OUT": "Out of network",
                # v2, changed meaning (plan BPS1000): tiers no v1 word names.
                "T1": "Tier 1 (Preferred)", "T2": "Tier 2 (Participating)"},
    "benefit": {"COPAY": "Copay", "COINSURANCE": "Coinsurance", "VISIT_LIMIT": "Visits per year",
                "VISITS_REMAINING": "Visits left"},
    "accumulator": {"DEDUCTIBLE": "Deductible", "OOP_MAX": "Out-of-pocket max"},
    "level": {"INDIVIDUAL": "Individual", "FAMILY": "Family"},
    "period": {"ANNUAL": "Annual", "REMAINING": "Remaining"},
    "authStatus": {"APPROVED": "Approved", "PARTIAL": "Partially approved", "DENIED": "Denied",
                   "IN_REVIEW": "In review", "MODIFIED": "Modified", "CANCELLED": "Cancelled",
                   "CALL_US": "Call BluePeak"},
    "requestType": {"INPATIENT": "Inpatient stay", "OUTPATIENT": "Outpatient service", "REFERRAL": "Specialist referral"},
    "reason": {"MED_NEC": "Does not meet medical necessity criteria", "NOT_NEEDED": "No authorization needed for this service",
               "PLAN_MAX": "Over the plan limit", "NOT_COVERED": "Not a covered benefit",
               "INFO_MISSING": "Clinical information not received", "CLINICAL_REVIEW": "Sent for clinical review"},
    "unit": {"VISIT": "visits", "UNIT": "units", "DAY": "days"},
    "claimStatus": {
        "RECEIVED": "Received", "ACCEPTED": "Accepted", "RETURNED": "Returned", "PENDING": "Pending",
        "IN_PROCESS": "In process", "UNDER_REVIEW": "Under review", "NEED_PROVIDER_INFO": "Waiting on provider",
        "NEED_MEMBER_INFO": "Waiting on member", "PAID": "Paid", "DENIED": "Denied", "ADJUSTED": "Adjusted",
        "NO_PAYMENT": "Processed, no payment", "INFO_REQUESTED": "More info needed", "RECORDS_REQUESTED": "Records needed",
    },
    "message": {
        ERROR_NOT_FOUND: "We couldn't find a member with that ID.",
        ERROR_DOB: "The date of birth doesn't match this member.",
        ERROR_NAME: "The last name doesn't match this member.",
        "NO_NAME_MATCH": "No members match that name and date of birth.",
        "INVALID_CREDENTIALS": "That username and password don't match our records.",
        "ACCOUNT_LOCKED": "Your account is locked. Call Provider Services to unlock it.",
        "INVALID_CODE": "That code didn't work. Check your authenticator app and try again.",
        "CODE_REUSED": "That code was already used. Wait for a new one.",
        "SESSION_EXPIRED": "Your session timed out. Please sign in again.",
        "SESSION_ENDED": "You were signed out because your account signed in somewhere else.",
        "MAINTENANCE": "Provider Connect is down for scheduled maintenance.",
        "TOO_MANY": "You're going a little fast. Please wait a minute and try again.",
        "SERVER": "Something went wrong on our side. Please try again.",
        "BAD_REQUEST": "Check the highlighted fields and try again.",
        "NO_AUTHS": "No authorizations on file for this member.",
        "NO_CLAIMS": "No claims match your search.",
    },
    "text": {
        "notCovered": "Not covered", "none": "\u2014", "required": "Required", "notRequired": "Not required",
        "inactive": "Coverage is not active on the date of service, so benefits aren't shown.",
        "paNone": "No services on this plan need prior authorization.",
        "planSharePrefix": "Plan pays",  # v2 changed meaning (plan BPV2500): the plan's share
    },
}

NOT_COVERED = DISPLAY["text"]["notCovered"]
NO_VALUE = DISPLAY["text"]["none"]

# v2 changes of meaning, by plan code (only on active members' benefits; see README).
V2_MEANING_CHANGES: dict[str, str] = {"BPS1000": "tier_labels", "BPV2500": "plan_share"}


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def amount(value: Decimal | None) -> str | None:
    return f"{value:.2f}" if value is not None else None


def percent(share: Decimal) -> int | float:
    """Patient share 0.2 -> 20 (a number, as the API sends it)."""
    value = share * 100
    return int(value) if value == value.to_integral_value() else float(value)
