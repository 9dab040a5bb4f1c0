"""The Crossway hub's and Crossway ID's own words and formats: every message and label the pages print.

Kept here (not in the templates) so tests and, later, the hub adapter's maps can name them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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
from aggregator.models.codes import AdjustmentGroup, ClaimStatusCategory

HUB_NAME = "Crossway"
IDP_NAME = "Crossway ID"
HUB_COOKIE = "CWSESSION"
IDP_COOKIE = "CWIDSESSION"
NO_VALUE = "—"

# --- Crossway ID -------------------------------------------------------------------------------------
MSG_INVALID_LOGIN = "The username or password you entered is incorrect."
MSG_LOCKED = "Your Crossway ID is locked after too many failed attempts. Contact your administrator."
MSG_CODE_INVALID = "That code is not valid. Enter the current code from your authenticator app."
MSG_CODE_REUSED = "That code was already used. Wait for your authenticator app to show a new code."
MSG_BAD_REQUEST = "This sign-in request is not valid. Return to the application and try again."
MSG_SESSION_GONE = "Your sign-in session has ended. Return to the application and sign in again."
MSG_PASSWORD_EXPIRED = "Your password has expired. Choose a new password to continue."
MSG_PASSWORD_CHANGED = "Your password was changed."
MSG_SIGNED_OUT = "You have signed out of Crossway ID."
DEVICE_COOKIE = "CWIDDEVICE"
MSG_CODE_WRONG = "That code is not correct."
MSG_CODE_EXPIRED = "That code has expired. Sign in again to get a new code."
MSG_ATTEMPTS_LEFT = "{n} attempt{s} left before your Crossway ID is locked."
MSG_PUSH_DENIED = "The sign-in request was denied."
MSG_PUSH_EXPIRED = "The sign-in request expired. Sign in again."
MSG_PUSH_WAITING = "Waiting for your approval…"
MSG_REMEMBER_DEVICE = "Remember this device for 30 days"
MSG_CHANNEL_TOTP = "Enter the 6-digit code from your authenticator app."
MSG_CHANNEL_SMS = "We sent a 6-digit code by text message to {to}."
MSG_CHANNEL_EMAIL = "We sent a 6-digit code by e-mail to {to}."
MSG_CHANNEL_PUSH = "We sent a sign-in request to your phone. Approve it to continue."

# --- hub ---------------------------------------------------------------------------------------------
MSG_NOT_VERIFIED = "Sign-in could not be verified. Please sign in again."
MSG_ACCESS_DENIED = "Sign-in was cancelled: Crossway needs your permission to continue."
MSG_HUB_EXPIRED = "Your Crossway session has expired."
MSG_CHOOSE_ORG = "Select an organization."
MSG_CHOOSE_PROVIDER = "Select a provider."
MSG_NOT_ENROLLED = "Your organization is not enrolled with this payer."
MSG_NAME_SEARCH_UNSUPPORTED = "This payer does not support searching by patient name. Enter the member ID."
MSG_REQUIRED_MEMBER = "Enter the member ID and the date of birth."
MSG_REQUIRED_NAME = "Enter the patient's first name, last name and date of birth."
MSG_DATE_FORMAT = "Enter dates as MM/DD/YYYY."
MSG_RANGE_ORDER = "The service end date must be on or after the start date."
MSG_NOT_FOUND = "No patient was found with the information entered."
MSG_DOB_MISMATCH = "The date of birth does not match the payer's records for this member ID."
MSG_NAME_MISMATCH = "The last name does not match the payer's records for this member ID."
MSG_DAILY_LIMIT = ("You have reached your daily limit of {cap} patient searches. Searches are available again "
                   "tomorrow.")
MSG_TOO_FAST = "You are searching too quickly. Please wait a moment and try again."
MSG_TOO_MANY = "Too many requests. Please wait and try again."
MSG_CANDIDATES_GONE = "These search results are no longer available. Please search again."
MSG_PASSWORD_WARNING = "Your Crossway ID password expires in {days} day{s} ({date}). Change it at Crossway ID."
MSG_NO_CLAIMS = "No claims were found for this patient in the dates entered."
MSG_INACTIVE = "Coverage is not active on the date of service. Benefits are not available."

SERVICES: dict[ServiceType, str] = {
    ServiceType.OFFICE_VISIT: "Office Visit",
    ServiceType.URGENT_CARE: "Urgent Care",
    ServiceType.EMERGENCY_SERVICES: "Emergency Services",
    ServiceType.MRI_CAT_SCAN: "MRI/CAT Scan",
    ServiceType.DIAGNOSTIC_LAB: "Diagnostic Lab",
    ServiceType.PHYSICAL_THERAPY: "Physical Therapy",
    ServiceType.MENTAL_HEALTH: "Mental Health",
    ServiceType.CHIROPRACTIC: "Chiropractic",
    ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE: "Health Benefit Plan Coverage",
}
BENEFITS: dict[BenefitKind, str] = {
    BenefitKind.DEDUCTIBLE: "Deductible", BenefitKind.OUT_OF_POCKET: "Out of Pocket (Stop Loss)",
    BenefitKind.COPAY: "Co-Payment", BenefitKind.COINSURANCE: "Co-Insurance", BenefitKind.LIMITATION: "Limitations",
    BenefitKind.NON_COVERED: "Non-Covered",
}
NETWORKS: dict[NetworkIndicator, str] = {NetworkIndicator.IN_NETWORK: "In Network",
                                         NetworkIndicator.OUT_OF_NETWORK: "Out of Network"}
LEVELS: dict[CoverageLevel, str] = {CoverageLevel.INDIVIDUAL: "Individual", CoverageLevel.FAMILY: "Family"}
PERIODS: dict[TimePeriod, str] = {TimePeriod.CALENDAR_YEAR: "Calendar Year", TimePeriod.REMAINING: "Remaining"}
PRIOR_AUTH: dict[AuthIndicator, str] = {AuthIndicator.REQUIRED: "Yes", AuthIndicator.NOT_REQUIRED: "No",
                                        AuthIndicator.UNKNOWN: NO_VALUE}
COVERAGE_STATUS: dict[CoverageStatus, str] = {CoverageStatus.ACTIVE: "Active Coverage",
                                              CoverageStatus.INACTIVE: "Inactive"}
RELATIONSHIPS: dict[Relationship, str] = {Relationship.SELF: "Self", Relationship.SPOUSE: "Spouse",
                                          Relationship.CHILD: "Child", Relationship.OTHER: "Other"}
PLAN_TYPES: dict[InsuranceType, str] = {InsuranceType.PPO: "PPO", InsuranceType.HMO: "HMO", InsuranceType.POS: "POS",
                                        InsuranceType.EPO: "EPO", InsuranceType.COMMERCIAL: "Commercial"}
CLAIM_STATUS: dict[ClaimStatusCategory, str] = {c: c.label for c in ClaimStatusCategory}  # the X12 507 words
ADJUSTMENT_GROUPS: dict[AdjustmentGroup, str] = {g: g.label for g in AdjustmentGroup}


def fmt_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def fmt_money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def fmt_percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def fmt_quantity(quantity: Decimal) -> str:
    return f"{quantity.normalize():f} visits"
