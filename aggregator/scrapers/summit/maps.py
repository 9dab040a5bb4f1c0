"""Summit Health Plan's words -> canonical codes. A word no map knows raises `UnmappedValue` (needs attention): the
adapter never guesses. Add a word here only after seeing it on the real portal, with a recorded page."""

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

FOOTER = "Summit Health Plan Provider Portal. For authorized provider use only."  # drawn below every page's content
NO_VALUE = "--"  # what the portal prints for "no value"
INACTIVE_NOTICE = "Benefits are not shown because coverage is not active on the date of service."

SERVICE_TYPES = VocabularyMap("service type", {
    "Plan Coverage": ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE,
    "Office Visit": ServiceType.OFFICE_VISIT,
    "Urgent Care": ServiceType.URGENT_CARE,
    "Emergency Room": ServiceType.EMERGENCY_SERVICES,
    "MRI / CT Scan": ServiceType.MRI_CAT_SCAN,
    "Laboratory": ServiceType.DIAGNOSTIC_LAB,
    "Physical Therapy": ServiceType.PHYSICAL_THERAPY,
    "Mental Health": ServiceType.MENTAL_HEALTH,
    "Chiropractic": ServiceType.CHIROPRACTIC,
})
BENEFITS = VocabularyMap("benefit", {
    "Deductible": BenefitKind.DEDUCTIBLE,
    "Out-of-Pocket Maximum": BenefitKind.OUT_OF_POCKET,
    "Copay": BenefitKind.COPAY,
    "Coinsurance": BenefitKind.COINSURANCE,
    "Visit Limit": BenefitKind.LIMITATION,
    "Not Covered": BenefitKind.NON_COVERED,
})
NETWORKS = VocabularyMap("network", {"In-Network": NetworkIndicator.IN_NETWORK,
                                     "Out-of-Network": NetworkIndicator.OUT_OF_NETWORK})
LEVELS = VocabularyMap("coverage level", {"Individual": CoverageLevel.INDIVIDUAL, "Family": CoverageLevel.FAMILY})
PERIODS = VocabularyMap("time period", {"Calendar Year": TimePeriod.CALENDAR_YEAR, "Remaining": TimePeriod.REMAINING})
PRIOR_AUTH = VocabularyMap("prior authorization", {"Required": AuthIndicator.REQUIRED,
                                                   "Not Required": AuthIndicator.NOT_REQUIRED,
                                                   NO_VALUE: AuthIndicator.UNKNOWN})
COVERAGE_STATUS = VocabularyMap("coverage status", {"Active": CoverageStatus.ACTIVE,
                                                    "Inactive": CoverageStatus.INACTIVE})
RELATIONSHIPS = VocabularyMap("relationship", {"Subscriber": Relationship.SELF, "Spouse": Relationship.SPOUSE,
                                               "Child": Relationship.CHILD, "Other Dependent": Relationship.OTHER})
PLAN_TYPES = VocabularyMap("plan type", {"PPO": InsuranceType.PPO, "HMO": InsuranceType.HMO, "POS": InsuranceType.POS,
                                         "EPO": InsuranceType.EPO, "Commercial": InsuranceType.COMMERCIAL})
