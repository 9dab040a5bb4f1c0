"""Normalized claim status (X12 277 plus the 835 amounts a portal shows), independent of any carrier."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from aggregator.models.base import Record
from aggregator.models.codes import AdjustmentGroup, AdjustmentReason, ClaimStatusCategory
from aggregator.models.provenance import Provenance


class ClaimQuery(Record):
    """By claim number, or by member + dates of service (from/to inclusive)."""

    member_id: str | None = None
    date_of_birth: date | None = None
    service_from: date | None = None
    service_to: date | None = None
    claim_number: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ClaimQuery:
        member_fields = (self.member_id, self.date_of_birth, self.service_from, self.service_to)
        if self.claim_number:
            if any(f is not None for f in member_fields):
                raise ValueError("give a claim number, or a member id, date of birth and a date range; not both")
            return self
        if any(f is None for f in member_fields):
            raise ValueError("a claim search by member needs the member id, date of birth and a date range")
        if self.service_to < self.service_from:  # type: ignore[operator]
            raise ValueError("the date range ends before it starts")
        return self


class Adjustment(Record):
    group: AdjustmentGroup
    reason: AdjustmentReason
    amount: Decimal


class ClaimLine(Record):
    line_number: int = Field(ge=1)
    procedure_code: str
    service_date: date
    units: Decimal = Field(gt=0)
    billed: Decimal
    allowed: Decimal
    paid: Decimal
    adjustments: tuple[Adjustment, ...] = ()


class ClaimStatus(Record):
    kind: Literal["claim_status"] = "claim_status"
    carrier: str
    payer_claim_number: str
    provider_account_number: str
    member_id: str
    service_from: date
    service_to: date
    billed: Decimal
    allowed: Decimal | None = None
    paid: Decimal
    patient_responsibility: Decimal | None = None
    status_category: ClaimStatusCategory
    status_code: str = Field(description="STC01-2, code source 508")
    received_date: date
    adjudicated_date: date | None = None
    paid_date: date | None = None
    check_number: str | None = None
    lines: tuple[ClaimLine, ...] = ()
    provenance: Provenance | None = Field(default=None, description="the result and detail pages this one was read from")

    @field_validator("lines")
    @classmethod
    def _ordered(cls, lines: tuple[ClaimLine, ...]) -> tuple[ClaimLine, ...]:
        return tuple(sorted(lines, key=lambda line: line.line_number))


class ClaimList(Record):
    """Every claim a search returned, across all result pages."""

    kind: Literal["claim_list"] = "claim_list"
    carrier: str
    query: ClaimQuery
    claims: tuple[ClaimStatus, ...] = ()
    provenance: Provenance | None = None

    @field_validator("claims")
    @classmethod
    def _by_number(cls, claims: tuple[ClaimStatus, ...]) -> tuple[ClaimStatus, ...]:
        numbers = [c.payer_claim_number for c in claims]
        if len(set(numbers)) != len(numbers):
            raise ValueError("a claim number appears twice")
        return tuple(sorted(claims, key=lambda c: c.payer_claim_number))

    def without_provenance(self) -> ClaimList:
        items = tuple(item.model_copy(update={"provenance": None}) for item in self.claims)
        return self.model_copy(update={"provenance": None, "claims": items})
