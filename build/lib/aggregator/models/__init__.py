"""Normalized records every adapter produces (pydantic v2), with X12 codes in their enums."""

from aggregator.models.authorization import Authorization, AuthorizationList, AuthorizationQuery, AuthorizedService
from aggregator.models.claims import Adjustment, ClaimLine, ClaimList, ClaimQuery, ClaimStatus
from aggregator.models.codes import (
    AuthIndicator,
    BenefitKind,
    CoverageLevel,
    CoverageStatus,
    InsuranceType,
    NetworkIndicator,
    QuantityQualifier,
    RejectReason,
    Relationship,
    ServiceType,
    TimePeriod,
)
from aggregator.models.eligibility import (
    BenefitLine,
    Coverage,
    EligibilityAnswer,
    EligibilityQuery,
    EligibilityRecord,
    Member,
    MemberNotFound,
    Payer,
    Plan,
    normalize_member_id,
)
from aggregator.models.provenance import Provenance

__all__ = [
    "Adjustment", "Authorization", "AuthorizationList", "AuthorizationQuery", "AuthorizedService", "ClaimLine",
    "ClaimList", "ClaimQuery", "ClaimStatus",
    "AuthIndicator", "BenefitKind", "BenefitLine", "Coverage", "CoverageLevel", "CoverageStatus",
    "EligibilityAnswer", "EligibilityQuery", "EligibilityRecord", "InsuranceType", "Member",
    "MemberNotFound", "NetworkIndicator", "Payer", "Plan", "Provenance", "QuantityQualifier",
    "RejectReason", "Relationship", "ServiceType", "TimePeriod", "normalize_member_id",
]
