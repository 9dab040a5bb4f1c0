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
from aggregator.scrapers.framework import VocabularyMap

SERVICE_TYPES = VocabularyMap("service type", {
    "Office Visit - Primary Care": ServiceType.OFFICE_VISIT,
    "Urgent Care Center": ServiceType.URGENT_CARE,
    "Emergency Room": ServiceType.EMERGENCY_SERVICES,
    "MRI / CT Scan": ServiceType.MRI_CAT_SCAN,
    "Laboratory Services": ServiceType.DIAGNOSTIC_LAB,
    "Physical Therapy": ServiceType.PHYSICAL_THERAPY,
    "Mental Health - Outpatient": ServiceType.MENTAL_HEALTH,
    "Chiropractic Care": ServiceType.CHIROPRACTIC,
})

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
