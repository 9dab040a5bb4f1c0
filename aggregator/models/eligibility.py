"""Normalized eligibility and benefits (what an X12 271 would carry), independent of any carrier.

Money is Decimal, dates are dates, every coded field is an X12 enum. Benefit lines are kept in one
canonical order so two records describing the same coverage compare equal field by field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, SerializerFunctionWrapHandler, field_validator, model_serializer, model_validator

from aggregator.models.base import Record
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
from aggregator.models.ids import normalize_member_id
from aggregator.models.provenance import Provenance


class EligibilityQuery(Record):
    """What staff or the batch asks: a member on a date of service."""

    member_id: str | None = Field(default=None, description="None: search by first + last name + DOB, where the payer allows it")
    date_of_birth: date
    service_date: date
    last_name: str | None = None
    first_name: str | None = None

    _normalize_id = field_validator("member_id")(lambda cls, v: None if v is None else normalize_member_id(v))

    @field_validator("first_name", "last_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return (" ".join(value.split()) or None) if value is not None else None

    @model_validator(mode="after")
    def _findable(self) -> EligibilityQuery:
        if self.member_id is None and not (self.first_name and self.last_name):
            raise ValueError("a search needs the member id, or the first and last name (with the date of birth)")
        return self

    @model_serializer(mode="wrap")
    def _without_unused_name(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # A first name only matters to a name search: member-id queries serialize (lookup rows, recorded-page
        # expected files) as they always have.
        data: dict[str, object] = handler(self)
        if self.first_name is None:
            data.pop("first_name", None)
        return data

    @property
    def by_name(self) -> bool:
        return self.member_id is None

    @property
    def required_member_id(self) -> str:
        """The member id of a member-id search. The runner refuses a name search before any portal that
        cannot make one sees it, so an adapter that only searches by member id reads it here."""
        if self.member_id is None:
            raise ValueError("this eligibility search is by name and has no member id")
        return self.member_id


class Member(Record):
    member_id: str
    subscriber_id: str = Field(description="member id of the subscriber (equals member_id for the subscriber)")
    first_name: str
    last_name: str
    date_of_birth: date
    relationship: Relationship


class Payer(Record):
    name: str
    payer_id: str


class Plan(Record):
    name: str
    insurance_type: InsuranceType
    group_number: str
    group_name: str


class Coverage(Record):
    status: CoverageStatus = Field(description="EB01 for EB03=30 on the date of service")
    effective_date: date
    termination_date: date | None = None


class BenefitLine(Record):
    """One EB segment: a benefit of one kind for one service type at one network tier."""

    service_type: ServiceType
    kind: BenefitKind
    network: NetworkIndicator
    coverage_level: CoverageLevel | None = None
    time_period: TimePeriod | None = None
    amount: Decimal | None = Field(default=None, description="EB07, dollars")
    percent: Decimal | None = Field(default=None, description="EB08, patient share as a decimal 0-1")
    quantity: Decimal | None = Field(default=None, description="EB10")
    quantity_qualifier: QuantityQualifier | None = None
    prior_auth: AuthIndicator = AuthIndicator.UNKNOWN

    @model_validator(mode="after")
    def _one_value(self) -> BenefitLine:
        if self.kind is BenefitKind.COINSURANCE:
            if self.percent is None or self.amount is not None:
                raise ValueError("a coinsurance line carries a percent and no amount")
            if not Decimal(0) <= self.percent <= Decimal(1):
                raise ValueError("coinsurance percent must be between 0 and 1")
        elif self.kind in (BenefitKind.COPAY, BenefitKind.DEDUCTIBLE, BenefitKind.OUT_OF_POCKET):
            if self.amount is None or self.percent is not None:
                raise ValueError(f"a {self.kind.label} line carries an amount and no percent")
        elif self.kind is BenefitKind.LIMITATION:
            if self.quantity is None or self.quantity_qualifier is None:
                raise ValueError("a limitation line carries a quantity and its qualifier")
        if self.amount is not None and self.amount < 0:
            raise ValueError("benefit amounts are never negative")
        return self

    def sort_key(self) -> tuple[str, ...]:
        return (
            self.service_type.value,
            self.kind.value,
            self.network.value,
            self.coverage_level.value if self.coverage_level else "",
            self.time_period.value if self.time_period else "",
        )


class EligibilityRecord(Record):
    """The normalized answer for one member on one date of service."""

    kind: Literal["eligibility"] = "eligibility"
    carrier: str
    service_date: date
    member: Member
    payer: Payer
    plan: Plan
    coverage: Coverage
    benefits: tuple[BenefitLine, ...] = ()
    prior_auth_service_types: tuple[ServiceType, ...] = Field(
        default=(), description="service types the carrier lists as needing prior authorization"
    )
    provenance: Provenance | None = None

    @field_validator("benefits")
    @classmethod
    def _canonical_order(cls, lines: tuple[BenefitLine, ...]) -> tuple[BenefitLine, ...]:
        keys = [line.sort_key() for line in lines]
        if len(set(keys)) != len(keys):
            raise ValueError("two benefit lines share service type, kind, network, level and period")
        return tuple(sorted(lines, key=BenefitLine.sort_key))

    @field_validator("prior_auth_service_types")
    @classmethod
    def _sorted_unique(cls, codes: tuple[ServiceType, ...]) -> tuple[ServiceType, ...]:
        return tuple(sorted(set(codes), key=lambda c: c.value))

    def without_provenance(self) -> EligibilityRecord:
        return self.model_copy(update={"provenance": None})


class MemberNotFound(Record):
    """A definite answer that the carrier has no such member (or the DOB does not match): a result.

    The same result answers every member search: eligibility, authorizations, claims.
    """

    kind: Literal["not_found"] = "not_found"
    carrier: str
    query: EligibilityQuery | AuthorizationQuery | ClaimQuery
    reject_reason: RejectReason
    provenance: Provenance | None = None

    def without_provenance(self) -> MemberNotFound:
        return self.model_copy(update={"provenance": None})


from aggregator.models.authorization import AuthorizationQuery  # noqa: E402  (they import nothing from here)
from aggregator.models.claims import ClaimQuery  # noqa: E402

MemberNotFound.model_rebuild()

EligibilityAnswer = EligibilityRecord | MemberNotFound
