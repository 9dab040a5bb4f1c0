"""Cascade Care's own words and formats: what its pages print for each canonical code.

Cascade speaks differently from Ridgeline on purpose ("Participating", "Single", "ELIGIBLE", "VOIDED",
"APPLIED TO DEDUCTIBLE"...), so an adapter cannot borrow another carrier's maps.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from aggregator.models.codes import (
    AdjustmentGroup,
    AuthDecisionReason,
    AuthStatus,
    BenefitKind,
    ClaimStatusCategory,
    CoverageLevel,
    InsuranceType,
    NetworkIndicator,
    Relationship,
    RequestCategory,
    ServiceType,
    TimePeriod,
    UnitQualifier,
)

SESSION_COOKIE = "ASP.NET_SessionId"
TITLE = "Cascade Care Provider Connect"
NONE = "--"  # what every Cascade page prints for "no value"
OPEN_ENDED = "OPEN"

RELATIONSHIPS = {Relationship.SELF: "SUBSCRIBER", Relationship.SPOUSE: "SPOUSE", Relationship.CHILD: "DEPENDENT CHILD"}
ELIGIBILITY = {True: "ELIGIBLE", False: "NOT ELIGIBLE"}
PRODUCT_TYPES = {InsuranceType.PPO: "PPO", InsuranceType.HMO: "HMO", InsuranceType.POS: "POS",
                 InsuranceType.EPO: "EPO", InsuranceType.COMMERCIAL: "HDHP"}
NETWORKS = {NetworkIndicator.IN_NETWORK: "Participating", NetworkIndicator.OUT_OF_NETWORK: "Non-Participating"}
# v2 meaning change (plan CCS1200): the networks become tiers, in-network under "Tier 2".
V2_TIER_WORDS = {NetworkIndicator.IN_NETWORK: "Tier 2", NetworkIndicator.OUT_OF_NETWORK: "Tier 1"}
V2_TIER_PLAN = "CCS1200"
ACCUMULATORS = {BenefitKind.DEDUCTIBLE: "Deductible", BenefitKind.OUT_OF_POCKET: "Out of Pocket Max"}
LEVELS = {CoverageLevel.INDIVIDUAL: "Single", CoverageLevel.FAMILY: "Family"}
PERIODS = {TimePeriod.CALENDAR_YEAR: "Plan Year Total", TimePeriod.REMAINING: "Balance Remaining"}
SERVICES = {
    ServiceType.OFFICE_VISIT: "PCP Office Visit", ServiceType.URGENT_CARE: "Urgent Care",
    ServiceType.EMERGENCY_SERVICES: "Emergency Dept", ServiceType.MRI_CAT_SCAN: "Advanced Imaging (MRI/CT)",
    ServiceType.DIAGNOSTIC_LAB: "Lab", ServiceType.PHYSICAL_THERAPY: "Physical Therapy",
    ServiceType.MENTAL_HEALTH: "Behavioral Health OP", ServiceType.CHIROPRACTIC: "Chiropractic",
}
BENEFIT_COPAY, BENEFIT_COINSURANCE = "Copayment", "Coinsurance"
BENEFIT_VISITS = {TimePeriod.CALENDAR_YEAR: "Annual Visit Max", TimePeriod.REMAINING: "Visits Left"}
NOT_COVERED = "NOT COVERED"
PRECERT = {True: "YES", False: "NO"}
PRECERT_PREFIX = "Precertification required for:"
PRECERT_NONE = "No services"

AUTH_STATUS = {AuthStatus.CERTIFIED: "APPROVED", AuthStatus.PARTIAL: "PARTIAL APPROVAL", AuthStatus.NOT_CERTIFIED: "DENIED",
               AuthStatus.PENDED: "IN REVIEW", AuthStatus.MODIFIED: "APPROVED W/ CHANGES", AuthStatus.CANCELLED: "VOIDED",
               AuthStatus.CONTACT_PAYER: "CALL CASCADE"}
REQUEST_TYPES = {RequestCategory.ADMISSION_REVIEW: "INPATIENT", RequestCategory.HEALTH_SERVICES_REVIEW: "OUTPATIENT",
                 RequestCategory.SPECIALTY_CARE_REVIEW: "REFERRAL"}
AUTH_SERVICES = {ServiceType.MRI_CAT_SCAN: "ADV IMAGING", ServiceType.PHYSICAL_THERAPY: "PHYS THERAPY",
                 ServiceType.CHIROPRACTIC: "CHIRO", ServiceType.MENTAL_HEALTH: "BEHAV HEALTH",
                 ServiceType.HOSPITAL_INPATIENT: "INPATIENT STAY", ServiceType.CONSULTATION: "SPECIALIST CONSULT"}
DECISION_REASONS = {
    AuthDecisionReason.NOT_MEDICALLY_NECESSARY: "Medical necessity not met",
    AuthDecisionReason.CERTIFICATION_NOT_REQUIRED: "No authorization needed",
    AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS: "Over plan limit",
    AuthDecisionReason.NON_COVERED_SERVICE: "Not a covered benefit",
    AuthDecisionReason.INFORMATION_NOT_RECEIVED: "Clinicals not received",
    AuthDecisionReason.REQUIRES_MEDICAL_REVIEW: "Sent to medical director",
}
UNITS = {UnitQualifier.VISITS: "VISITS", UnitQualifier.UNITS: "UNITS", UnitQualifier.DAYS: "DAYS"}

CLAIM_STATUS = {
    ClaimStatusCategory.RECEIVED: "RECEIVED", ClaimStatusCategory.ACCEPTED: "ACCEPTED",
    ClaimStatusCategory.RETURNED_UNPROCESSABLE: "REJECTED - RESUBMIT", ClaimStatusCategory.PENDING: "PENDING",
    ClaimStatusCategory.PENDING_IN_PROCESS: "PROCESSING", ClaimStatusCategory.PENDING_PAYER_REVIEW: "UNDER REVIEW",
    ClaimStatusCategory.PENDING_PROVIDER_INFO: "PEND - PROVIDER INFO", ClaimStatusCategory.PENDING_PATIENT_INFO: "PEND - MEMBER INFO",
    ClaimStatusCategory.FINALIZED_PAYMENT: "PAID", ClaimStatusCategory.FINALIZED_DENIAL: "DENIED",
    ClaimStatusCategory.FINALIZED_REVISED: "ADJUSTED", ClaimStatusCategory.FINALIZED_NO_PAYMENT: "APPLIED TO DEDUCTIBLE",
    ClaimStatusCategory.REQUEST_GENERAL: "INFO REQUESTED", ClaimStatusCategory.REQUEST_DOCUMENTATION: "RECORDS REQUESTED",
}
ADJUSTMENT_GROUPS = {g: g.value for g in AdjustmentGroup}

MSG_INVALID_LOGIN = "Invalid user name or password."
MSG_LOCKED = "Your account has been locked. Please call Provider Services."
MSG_EXPIRED = "Your session has timed out. Please log in again."
MSG_LOGGED_OUT = "You have logged out of Provider Connect."
MSG_WRONG_ANSWER = "The answer you provided does not match our records."
MSG_CAPTCHA = "Please check the box to continue."
MSG_VIEWSTATE = "Validation of viewstate MAC failed."
MSG_NOT_FOUND = "Member not on file."
MSG_DOB_MISMATCH = "Birth date does not match member on file."
MSG_NAME_MISMATCH = "Last name does not match member on file."
MSG_REQUIRED = "Member #, birth date and inquiry date are required."
MSG_DATE_FORMAT = "Enter dates as MM/DD/YYYY."
MSG_NO_AUTHS = "No authorizations found for this member."
MSG_NO_CLAIMS = "NO CLAIMS FOUND FOR THE CRITERIA ENTERED"
MSG_CLAIM_CRITERIA = "Enter a claim number, or member #, birth date and a service date range."
MSG_CLAIM_BOTH = "Search by claim number or by member, not both."
MSG_RANGE_ORDER = "The service date range ends before it starts."
MSG_TOO_MANY = "Too many requests. Please slow down and try again in a minute."
MSG_PAGE_NOT_FOUND = "The resource cannot be found."
MSG_PASSWORD_EXPIRED = "Your password has expired. You must create a new password before you can continue."
MSG_PASSWORD_CHANGED = "Your password has been changed."
PASSWORD_SYMBOLS = "!@#$%^*_-"
PASSWORD_RULES = ("8 to 20 characters.", "At least one letter and one digit.",
                  f"Only letters, digits and the symbols {PASSWORD_SYMBOLS}", "Not your user name.",
                  "Not one of your last 5 passwords.")
MSG_PASSWORD_WRONG_CURRENT = "The current password is incorrect."
MSG_PASSWORD_MISMATCH = "The new password and confirmation do not match."
MSG_PASSWORD_LENGTH = "The new password must be 8 to 20 characters."
MSG_PASSWORD_LETTER_DIGIT = "The new password must contain at least one letter and one digit."
MSG_PASSWORD_CHARACTERS = f"The new password may contain only letters, digits and the symbols {PASSWORD_SYMBOLS}"
MSG_PASSWORD_USERNAME = "The new password cannot be your user name."
MSG_PASSWORD_REUSED = "The new password cannot be one of your last 5 passwords."
ANNOUNCEMENT = ("Effective January 1, Cascade Care will require precertification for all advanced imaging "
                "performed in an outpatient hospital setting. Please review the updated provider manual.")

LONG_DATE = "%A, %B %-d, %Y"


def fmt_amount(amount: Decimal) -> str:
    """`1,500.00`; a negative amount in parentheses `(25.00)`, as the carrier's reports print them."""
    text = f"{abs(amount):,.2f}"
    return f"({text})" if amount < 0 else text


def fmt_percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def fmt_date(day: date) -> str:
    return day.strftime("%m/%d/%y")


def fmt_long_date(day: date) -> str:
    return day.strftime(LONG_DATE)


def fmt_name(first: str, last: str) -> str:
    return f"{last}, {first}"
