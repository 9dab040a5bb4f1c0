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
