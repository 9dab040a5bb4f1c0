"""Summit Health Plan's own words and formats: everything the sandbox portal prints about a benefit comes from these
tables, so this file is the list of words the adapter's maps (aggregator/scrapers/summit/maps.py) must know.

Kept apart from the adapter's maps on purpose: the portal and the adapter each say what they mean, and
the recorded-page tests compare the adapter's reading with the sandbox's ground truth.
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

PORTAL_NAME = "Summit Health Plan"
SESSION_COOKIE = "SUMMITSESSION"
FOOTER = "Summit Health Plan Provider Portal. For authorized provider use only."
NO_VALUE = "--"
NOT_COVERED = "Not Covered"
INACTIVE_NOTICE = "Benefits are not shown because coverage is not active on the date of service."

SERVICES: dict[ServiceType, str] = {
    ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE: "Plan Coverage",
    ServiceType.OFFICE_VISIT: "Office Visit",
    ServiceType.URGENT_CARE: "Urgent Care",
    ServiceType.EMERGENCY_SERVICES: "Emergency Room",
    ServiceType.MRI_CAT_SCAN: "MRI / CT Scan",
    ServiceType.DIAGNOSTIC_LAB: "Laboratory",
    ServiceType.PHYSICAL_THERAPY: "Physical Therapy",
    ServiceType.MENTAL_HEALTH: "Mental Health",
    ServiceType.CHIROPRACTIC: "Chiropractic",
}
BENEFITS: dict[BenefitKind, str] = {
    BenefitKind.DEDUCTIBLE: "Deductible",
    BenefitKind.OUT_OF_POCKET: "Out-of-Pocket Maximum",
    BenefitKind.COPAY: "Copay",
    BenefitKind.COINSURANCE: "Coinsurance",
    BenefitKind.LIMITATION: "Visit Limit",
    BenefitKind.NON_COVERED: "Not Covered",
}
NETWORKS: dict[NetworkIndicator, str] = {NetworkIndicator.IN_NETWORK: "In-Network",
                                         NetworkIndicator.OUT_OF_NETWORK: "Out-of-Network"}
LEVELS: dict[CoverageLevel, str] = {CoverageLevel.INDIVIDUAL: "Individual", CoverageLevel.FAMILY: "Family"}
PERIODS: dict[TimePeriod, str] = {TimePeriod.CALENDAR_YEAR: "Calendar Year", TimePeriod.REMAINING: "Remaining"}
PRIOR_AUTH: dict[AuthIndicator, str] = {AuthIndicator.REQUIRED: "Required", AuthIndicator.NOT_REQUIRED: "Not Required",
                                        AuthIndicator.UNKNOWN: NO_VALUE}
COVERAGE_STATUS: dict[CoverageStatus, str] = {CoverageStatus.ACTIVE: "Active", CoverageStatus.INACTIVE: "Inactive"}
RELATIONSHIPS: dict[Relationship, str] = {Relationship.SELF: "Subscriber", Relationship.SPOUSE: "Spouse",
                                          Relationship.CHILD: "Child", Relationship.OTHER: "Other Dependent"}
PLAN_TYPES: dict[InsuranceType, str] = {InsuranceType.PPO: "PPO", InsuranceType.HMO: "HMO", InsuranceType.POS: "POS",
                                        InsuranceType.EPO: "EPO", InsuranceType.COMMERCIAL: "Commercial"}

MSG_INVALID_LOGIN = "The user name or password is not correct."
MSG_LOCKED = "This account is locked. Call provider services to unlock it."
MSG_EXPIRED = "You were signed out after a period of inactivity. Please sign in again."
MSG_LOGGED_OUT = "You have signed out."
MSG_CODE_INVALID = "The verification code is not correct."
MSG_CODE_REUSED = "That verification code was already used. Wait for the next code."
MSG_NOT_FOUND = "No member matches the member ID entered."
MSG_DOB_MISMATCH = "The date of birth does not match the member ID entered."
MSG_NAME_MISMATCH = "The last name does not match the member ID entered."
MSG_REQUIRED = "Member ID and date of birth are required."
MSG_DATE_FORMAT = "Enter dates as MM/DD/YYYY."
MSG_PAGE_NOT_FOUND = "The page you asked for does not exist."
MSG_TOO_MANY = "Too many requests. Please wait a minute and try again."

# v2 layout: labels and headers in capitals (cosmetic), and for these plans a change of meaning the
# adapter must refuse: coinsurance printed as the share the plan pays, under a benefit word of its own.
V2_PLAN_SHARE_PLANS = frozenset({"SUP2000"})
V2_PLAN_SHARE_WORD = "Coinsurance (Plan Pays)"


def fmt_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def fmt_money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def fmt_percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def fmt_visits(quantity: Decimal) -> str:
    return f"{quantity.normalize():f} visits"
