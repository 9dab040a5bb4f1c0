"""Ridgeline Mutual's own words and formats: the carrier vocabulary an adapter has to map.

Everything the portal prints about a benefit comes from these tables, so this file *is* the list of
strings the adapter's maps need (v1). The v2 variants (case and spacing only) are at the bottom, and
the v2 words of *changed meaning*, which no map should know, are in `V2_TIER_HEADERS`.
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
    AdjustmentGroup,
    AdjustmentReason,
    AuthDecisionReason,
    AuthStatus,
    ClaimStatusCategory,
    RequestCategory,
    UnitQualifier,
)

PORTAL_NAME = "Ridgeline Mutual"
SESSION_COOKIE = "RMSESSIONID"

# Section names of the benefits grid, in page order (plan-level 30 has its own table).
SERVICE_NAMES: dict[ServiceType, str] = {
    ServiceType.OFFICE_VISIT: "Office Visit - Primary Care",
    ServiceType.URGENT_CARE: "Urgent Care Center",
    ServiceType.EMERGENCY_SERVICES: "Emergency Room",
    ServiceType.MRI_CAT_SCAN: "MRI / CT Scan",
    ServiceType.DIAGNOSTIC_LAB: "Laboratory Services",
    ServiceType.PHYSICAL_THERAPY: "Physical Therapy",
    ServiceType.MENTAL_HEALTH: "Mental Health - Outpatient",
    ServiceType.CHIROPRACTIC: "Chiropractic Care",
}

# Row labels of a service's inner table: (EB01 kind, EB06 period) -> label.
SERVICE_ROW_LABELS: dict[tuple[BenefitKind, TimePeriod | None], str] = {
    (BenefitKind.COPAY, None): "Copay",
    (BenefitKind.COINSURANCE, None): "Coinsurance",
    (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR): "Visit Limit (Calendar Year)",
    (BenefitKind.LIMITATION, TimePeriod.REMAINING): "Visits Remaining",
}

PLAN_BENEFITS: dict[BenefitKind, str] = {
    BenefitKind.DEDUCTIBLE: "Deductible",
    BenefitKind.OUT_OF_POCKET: "Out-of-Pocket Maximum",
}
LEVELS: dict[CoverageLevel, str] = {CoverageLevel.INDIVIDUAL: "Individual", CoverageLevel.FAMILY: "Family"}
PERIODS: dict[TimePeriod, str] = {TimePeriod.CALENDAR_YEAR: "Calendar Year", TimePeriod.REMAINING: "Remaining"}

NETWORK_HEADERS: dict[NetworkIndicator, str] = {
    NetworkIndicator.IN_NETWORK: "In-Network",
    NetworkIndicator.OUT_OF_NETWORK: "Out-of-Network",
}
BENEFIT_HEADER = "Benefit"
PLAN_TABLE_HEADERS = {"benefit": "Benefit", "level": "Level", "period": "Period"}
OUTER_HEADERS = {"service": "Service Type", "prior_auth": "Prior Authorization", "details": "Benefit Details"}
PLAN_TABLE_TITLE = "Deductible & Out-of-Pocket"
SERVICES_TITLE = "Benefits by Service Type"

PLAN_TYPES: dict[InsuranceType, str] = {
    InsuranceType.PPO: "PPO",
    InsuranceType.HMO: "HMO",
    InsuranceType.POS: "POS",
    InsuranceType.EPO: "EPO",
    InsuranceType.COMMERCIAL: "Commercial",
}
RELATIONSHIPS: dict[Relationship, str] = {
    Relationship.SELF: "Self",
    Relationship.SPOUSE: "Spouse",
    Relationship.CHILD: "Child",
}
COVERAGE_STATUS: dict[CoverageStatus, str] = {CoverageStatus.ACTIVE: "Active", CoverageStatus.INACTIVE: "Inactive"}
GENDERS = {"F": "Female", "M": "Male"}

PRIOR_AUTH_VALUES = {True: "Required", False: "Not Required"}
PRIOR_AUTH_PREFIX = "Prior authorization required for:"
PRIOR_AUTH_NONE = "None"

NOT_COVERED = "Not Covered"  # the service is not covered at this network tier (EB01 = I)
NOT_APPLICABLE = "N/A"  # no benefit of this kind at this tier: no line
OPEN_ENDED_DATE = "12/31/9999"  # how the portal writes "no termination date"
INACTIVE_NOTICE = "Benefit information is not available because coverage is not active on the date of service."

# Labels of the member and coverage boxes (label cell, then its value cell).
MEMBER_LABELS = {
    "name": "Member Name:", "member_id": "Member ID:", "dob": "Date of Birth:", "gender": "Gender:",
    "relationship": "Relationship to Subscriber:", "subscriber_id": "Subscriber ID:",
    "subscriber_name": "Subscriber Name:", "service_date": "Date of Service:",
}
COVERAGE_LABELS = {
    "payer": "Payer:", "payer_id": "Payer ID:", "plan": "Plan Name:", "plan_type": "Plan Type:",
    "group_number": "Group Number:", "group_name": "Group Name:", "status": "Coverage Status:",
    "effective": "Effective Date:", "termination": "Termination Date:",
}

# Messages (exact text).
MSG_INVALID_LOGIN = "Invalid username or password."
MSG_LOCKED = "Your account has been locked. Contact Provider Services."
MSG_EXPIRED = "Your session has expired. Please log in again."
MSG_LOGGED_OUT = "You have been logged out."
MSG_CSRF = "Your request could not be verified. Please return to the login page and try again."
MSG_MFA_INVALID = "The security code you entered is invalid."
MSG_MFA_REUSED = "This security code has already been used. Please wait for a new code."
MSG_CAPTCHA = "Please confirm that you are not a robot."
MSG_NOT_FOUND = "No member found matching the information entered."
MSG_DOB_MISMATCH = "The date of birth entered does not match our records for this member."
MSG_NAME_MISMATCH = "The last name entered does not match our records for this member."
MSG_MEMBER_ID_REQUIRED = "Member ID is required."
MSG_DOB_REQUIRED = "Date of Birth is required."
MSG_DOB_FORMAT = "Please enter Date of Birth as MM/DD/YYYY."
MSG_DOS_FORMAT = "Please enter Date of Service as MM/DD/YYYY."
MSG_TOO_MANY = "Too many requests. Please wait a moment and try again."
MSG_PAGE_NOT_FOUND = "The page you requested could not be found."
MSG_BAD_REQUEST = "The request could not be processed."


def fmt_money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def fmt_percent(share: Decimal) -> str:
    """Patient share 0.2 -> '20%' (whole or decimal percent, never trailing zeros)."""
    return f"{(share * 100).normalize():f}%"


def fmt_visits(quantity: Decimal) -> str:
    return f"{int(quantity)} visits"


def fmt_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def fmt_name(first: str, last: str) -> str:
    return f"{last}, {first}"


# --- v2 (layout_version = "v2") --------------------------------------------------------------------
# Cosmetic: same words, different case and spacing. A map that compares case- and space-insensitively
# reads them exactly as v1.
V2_SERVICE_ROW_LABELS = {
    "Copay": "COPAY", "Coinsurance": " coinsurance ", "Visit Limit (Calendar Year)": "Visit  limit (calendar year)",
    "Visits Remaining": "VISITS  REMAINING",
}
V2_NETWORK_HEADERS = {NetworkIndicator.IN_NETWORK: "IN-NETWORK", NetworkIndicator.OUT_OF_NETWORK: "out-of-network"}
V2_OUTER_HEADERS = {"service": "SERVICE TYPE", "prior_auth": "Prior  authorization", "details": "Benefit details",
                    "category": "Category"}
V2_PLAN_TABLE_HEADERS = {"benefit": "BENEFIT", "level": "level", "period": "Period "}
V2_NOTES_HEADER = "Notes"
V2_CATEGORIES = {  # the extra informational column of the outer table
    ServiceType.OFFICE_VISIT: "Professional", ServiceType.URGENT_CARE: "Facility",
    ServiceType.EMERGENCY_SERVICES: "Facility", ServiceType.MRI_CAT_SCAN: "Diagnostic",
    ServiceType.DIAGNOSTIC_LAB: "Diagnostic", ServiceType.PHYSICAL_THERAPY: "Therapy",
    ServiceType.MENTAL_HEALTH: "Behavioral Health", ServiceType.CHIROPRACTIC: "Therapy",
}
V2_ROW_NOTES = {  # the extra informational "Notes" column of the inner tables
    "Copay": "Per visit", "Coinsurance": "After deductible", "Visit Limit (Calendar Year)": "Per member",
    "Visits Remaining": "As of last processed claim", "Deductible": "", "Out-of-Pocket Maximum": "Includes deductible",
}

# Changes of meaning (applied only to the plans in `V2_MEANING_CHANGES`):
# - "tier_swap": the out-of-network values come first under "Tier 2 (Participating)" and the
#   in-network values second under "Tier 1 (Preferred)"; no v1 header word remains.
# - "plan_share": coinsurance cells show the plan's share, "Plan pays 80%", instead of the patient's.
V2_TIER_HEADERS = {NetworkIndicator.OUT_OF_NETWORK: "Tier 2 (Participating)",
                   NetworkIndicator.IN_NETWORK: "Tier 1 (Preferred)"}
V2_PLAN_SHARE_FORMAT = "Plan pays {percent}"
V2_MEANING_CHANGES: dict[str, str] = {"RCP1000": "tier_swap", "RSP1500": "plan_share"}


# --- authorizations and claim status (v1) ------------------------------------------------------------
# Every word the authorization and claim pages print. Dates are MM/DD/YYYY, money `$1,234.56`.

NAV_AUTHORIZATIONS = "Authorizations"
NAV_CLAIMS = "Claim Status"

# HCR01 -> the carrier's word.
AUTH_STATUS: dict[AuthStatus, str] = {
    AuthStatus.CERTIFIED: "Approved",
    AuthStatus.PARTIAL: "Partially Approved",
    AuthStatus.NOT_CERTIFIED: "Denied",
    AuthStatus.PENDED: "Pending Review",
    AuthStatus.MODIFIED: "Modified",
    AuthStatus.CANCELLED: "Cancelled",
    AuthStatus.CONTACT_PAYER: "Contact Health Plan",
}
# UM01 request category -> "Request Type".
REQUEST_TYPES: dict[RequestCategory, str] = {
    RequestCategory.ADMISSION_REVIEW: "Inpatient Admission",
    RequestCategory.HEALTH_SERVICES_REVIEW: "Outpatient Services",
    RequestCategory.SPECIALTY_CARE_REVIEW: "Specialist Referral",
}
# UM03 service type -> the "Service" / "Service Type" words (the benefits page's names where they exist).
AUTH_SERVICE_NAMES: dict[ServiceType, str] = {
    ServiceType.MRI_CAT_SCAN: SERVICE_NAMES[ServiceType.MRI_CAT_SCAN],
    ServiceType.PHYSICAL_THERAPY: SERVICE_NAMES[ServiceType.PHYSICAL_THERAPY],
    ServiceType.CHIROPRACTIC: SERVICE_NAMES[ServiceType.CHIROPRACTIC],
    ServiceType.MENTAL_HEALTH: SERVICE_NAMES[ServiceType.MENTAL_HEALTH],
    ServiceType.HOSPITAL_INPATIENT: "Inpatient Hospital Stay",
    ServiceType.CONSULTATION: "Specialist Consultation",
}
# HCR03 -> "Decision Reason" text.
DECISION_REASONS: dict[AuthDecisionReason, str] = {
    AuthDecisionReason.NOT_MEDICALLY_NECESSARY: "Not medically necessary",
    AuthDecisionReason.CERTIFICATION_NOT_REQUIRED: "Authorization not required for this service",
    AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS: "Exceeds plan maximum",
    AuthDecisionReason.NON_COVERED_SERVICE: "Service not covered under member's plan",
    AuthDecisionReason.INFORMATION_NOT_RECEIVED: "Requested clinical information not received",
    AuthDecisionReason.REQUIRES_MEDICAL_REVIEW: "Referred for medical review",
}
UNITS: dict[UnitQualifier, str] = {UnitQualifier.VISITS: "Visits", UnitQualifier.UNITS: "Units",
                                    UnitQualifier.DAYS: "Days"}
# Short descriptions the carrier prints next to a procedure code (its own wording).
PROCEDURE_DESCRIPTIONS: dict[str, str] = {
    "70551": "MRI brain, without contrast", "70553": "MRI brain, without and with contrast",
    "72148": "MRI lumbar spine, without contrast", "72141": "MRI cervical spine, without contrast",
    "73721": "MRI lower extremity joint, without contrast", "74177": "CT abdomen and pelvis, with contrast",
    "97110": "Therapeutic exercise, each 15 min", "97140": "Manual therapy, each 15 min",
    "97112": "Neuromuscular re-education, each 15 min", "97530": "Therapeutic activities, each 15 min",
    "97161": "PT evaluation, low complexity", "98940": "Chiropractic manipulation, 1-2 regions",
    "98941": "Chiropractic manipulation, 3-4 regions", "97012": "Mechanical traction",
    "90837": "Psychotherapy, 60 min", "90834": "Psychotherapy, 45 min", "90791": "Psychiatric diagnostic evaluation",
    "99223": "Initial hospital care, per day", "99204": "New patient office visit, specialist",
    "99214": "Established patient office visit", "99215": "Established patient office visit, extended",
}

AUTH_SEARCH_TITLE = "Authorization Search"
AUTH_LIST_TITLE = "Authorizations"
AUTH_DETAIL_TITLE = "Authorization Detail"
AUTH_LIST_HEADERS = {"number": "Auth #", "service": "Service", "status": "Status", "effective": "Effective",
                     "expires": "Expires"}
AUTH_MEMBER_LABELS = {"name": "Member Name:", "member_id": "Member ID:", "dob": "Date of Birth:"}
AUTH_LABELS = {
    "number": "Authorization Number:", "status": "Status:", "request_type": "Request Type:",
    "service": "Service Type:", "member_name": "Member Name:", "member_id": "Member ID:",
    "effective": "Effective Date:", "expiration": "Expiration Date:", "provider": "Servicing Provider:",
    "npi": "Provider NPI:", "reason": "Decision Reason:", "updated": "Last Updated:",
}
AUTH_SERVICE_HEADERS = {"code": "Code", "description": "Description", "approved": "Approved", "used": "Used",
                        "remaining": "Remaining", "unit": "Unit"}
AUTH_SERVICES_TITLE = "Authorized Services"

# STC01-1 claim status category -> the carrier's words (one phrase per category).
CLAIM_STATUS: dict[ClaimStatusCategory, str] = {
    ClaimStatusCategory.RECEIVED: "Received",
    ClaimStatusCategory.ACCEPTED: "Accepted",
    ClaimStatusCategory.RETURNED_UNPROCESSABLE: "Returned - Unable to Process",
    ClaimStatusCategory.PENDING: "Pending",
    ClaimStatusCategory.PENDING_IN_PROCESS: "In Process",
    ClaimStatusCategory.PENDING_PAYER_REVIEW: "Pending - Under Review",
    ClaimStatusCategory.PENDING_PROVIDER_INFO: "Pending - Additional Information Requested",
    ClaimStatusCategory.PENDING_PATIENT_INFO: "Pending - Awaiting Member Information",
    ClaimStatusCategory.FINALIZED_PAYMENT: "Paid",
    ClaimStatusCategory.FINALIZED_DENIAL: "Denied",
    ClaimStatusCategory.FINALIZED_REVISED: "Adjusted",
    ClaimStatusCategory.FINALIZED_NO_PAYMENT: "Processed - No Payment",
    ClaimStatusCategory.REQUEST_GENERAL: "Information Requested",
    ClaimStatusCategory.REQUEST_DOCUMENTATION: "Documentation Requested",
}
ADJUSTMENT_GROUPS: dict[AdjustmentGroup, str] = {
    AdjustmentGroup.CONTRACTUAL: "Contractual Obligation",
    AdjustmentGroup.PATIENT_RESPONSIBILITY: "Patient Responsibility",
    AdjustmentGroup.OTHER: "Other Adjustment",
    AdjustmentGroup.PAYER_INITIATED: "Payer Initiated Reduction",
}
ADJUSTMENT_SEPARATOR = "; "  # "CO-45 $120.00; PR-1 $50.00"

CLAIM_SEARCH_TITLE = "Claim Status Search"
CLAIM_RESULTS_TITLE = "Claim Status Results"
CLAIM_DETAIL_TITLE = "Claim Detail"
CLAIMS_PER_PAGE = 10
CLAIM_LIST_HEADERS = {"number": "Claim #", "account": "Patient Acct #", "dates": "Service Dates", "billed": "Billed",
                      "paid": "Paid", "status": "Status"}
CLAIM_LABELS = {
    "number": "Claim Number:", "account": "Patient Account Number:", "patient": "Patient Name:",
    "member_id": "Member ID:", "dates": "Service Dates:", "status": "Claim Status:", "status_code": "Status Code:",
    "received": "Received Date:", "processed": "Processed Date:", "paid_date": "Paid Date:",
    "check": "Check/EFT Number:", "billed": "Total Billed:", "allowed": "Total Allowed:", "paid": "Total Paid:",
    "patient_resp": "Patient Responsibility:",
}
CLAIM_LINE_HEADERS = {"line": "Line", "procedure": "Procedure", "date": "Date", "units": "Units", "billed": "Billed",
                      "allowed": "Allowed", "paid": "Paid", "adjustments": "Adjustments"}
CLAIM_LINES_TITLE = "Service Lines"
ADJUSTMENT_LEGEND_TITLE = "Adjustment Codes"
DATE_RANGE_SEPARATOR = " - "  # "01/05/2026 - 01/19/2026"
PAGE_NEXT = "Next >"
PAGE_PREV = "< Prev"
PAGE_FORMAT = "Page {page} of {pages}"
RESULTS_COUNT = "{count} claim(s) found."
NO_VALUE = "N/A"  # a date, amount or number the record does not have (yet)

MSG_NO_AUTHS = "No authorizations on file for this member."
MSG_AUTH_NOT_FOUND = "The authorization number entered was not found."
MSG_NO_CLAIMS = "No claims found for the criteria entered."
MSG_CLAIM_NOT_FOUND = "The claim number entered was not found."
MSG_CLAIM_CRITERIA = "Enter a Claim Number, or a Member ID, Date of Birth and Service Dates."
MSG_CLAIM_BOTH = "Search by Claim Number or by Member, not both."
MSG_FROM_REQUIRED = "Service Date From is required."
MSG_TO_REQUIRED = "Service Date To is required."
MSG_FROM_FORMAT = "Please enter Service Date From as MM/DD/YYYY."
MSG_TO_FORMAT = "Please enter Service Date To as MM/DD/YYYY."
MSG_RANGE_ORDER = "Service Date To must be on or after Service Date From."
MSG_SEARCH_EXPIRED = "Your search results are no longer available. Please search again."


def fmt_units(quantity: Decimal | int) -> str:
    """Whole numbers without decimals ('12'), fractions as given ('1.5')."""
    value = Decimal(quantity)
    return f"{value.normalize():f}" if value != value.to_integral_value() else str(int(value))


def fmt_adjustment(group: AdjustmentGroup, reason: AdjustmentReason, amount: Decimal) -> str:
    return f"{group.value}-{reason.value} {fmt_money(amount)}"


def fmt_date_range(start: date, end: date) -> str:
    return f"{fmt_date(start)}{DATE_RANGE_SEPARATOR}{fmt_date(end)}"


# v2 (cosmetic only) of the authorization and claim detail pages: labels and headers in other case
# and spacing, columns in another order, one extra informational column.
V2_AUTH_SERVICE_HEADERS = {"code": "CODE", "unit": "unit", "approved": "Approved ", "used": " USED",
                           "remaining": "Remaining", "description": "description", "notes": "Notes"}
V2_CLAIM_LINE_HEADERS = {"line": "LINE", "date": "date", "procedure": "Procedure ", "units": " UNITS",
                         "billed": "BILLED", "allowed": "allowed", "paid": "Paid", "adjustments": "ADJUSTMENTS",
                         "remarks": "Remarks"}
