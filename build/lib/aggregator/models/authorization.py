"""Normalized prior authorizations (what an X12 278 response carries), independent of any carrier."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from aggregator.models.base import Record
from aggregator.models.codes import AuthDecisionReason, AuthStatus, RequestCategory, ServiceType, UnitQualifier
from aggregator.models.ids import normalize_member_id
from aggregator.models.provenance import Provenance

PROCEDURE_CODE = re.compile(r"^(\d{4}[0-9A-Z]|[A-V]\d{4})$")  # CPT (5 chars) or HCPCS Level II


class AuthorizationQuery(Record):
    """Every authorization on file for a member."""

    member_id: str
    date_of_birth: date

    @field_validator("member_id")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return normalize_member_id(value)


class AuthorizedService(Record):
    """One procedure on an authorization with its approved, used and remaining quantity."""

    procedure_code: str = Field(description="CPT or HCPCS")
    unit: UnitQualifier
    approved: Decimal = Field(ge=0)
    used: Decimal = Field(ge=0)
    remaining: Decimal = Field(ge=0)

    @field_validator("procedure_code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not PROCEDURE_CODE.match(value):
            raise ValueError("not a CPT/HCPCS procedure code")
        return value

    @model_validator(mode="after")
    def _units_add_up(self) -> AuthorizedService:
        if self.used + self.remaining != self.approved:
            raise ValueError("used and remaining units must add up to the approved units")
        return self


class Authorization(Record):
    kind: Literal["authorization"] = "authorization"
    carrier: str
    member_id: str
    auth_number: str
    status: AuthStatus
    request_category: RequestCategory
    service_type: ServiceType
    services: tuple[AuthorizedService, ...] = ()
    effective_date: date | None = None
    expiration_date: date | None = None
    servicing_provider_name: str
    servicing_provider_npi: str | None = None
    decision_reason: AuthDecisionReason | None = None
    last_updated: date
    provenance: Provenance | None = Field(default=None, description="the list and detail pages this one was read from")

    @model_validator(mode="after")
    def _dates(self) -> Authorization:
        if self.effective_date and self.expiration_date and self.expiration_date < self.effective_date:
            raise ValueError("an authorization cannot expire before it starts")
        return self

    def covers(self, procedure_code: str | None, service_type: ServiceType | None, on: date) -> bool:
        """Approved, in force on `on`, for this service, with units left."""
        if self.status not in (AuthStatus.CERTIFIED, AuthStatus.PARTIAL, AuthStatus.MODIFIED):
            return False
        if self.effective_date is None or self.expiration_date is None:
            return False
        if not self.effective_date <= on <= self.expiration_date:
            return False
        if procedure_code is not None:
            return any(s.procedure_code == procedure_code and s.remaining > 0 for s in self.services)
        return service_type == self.service_type and any(s.remaining > 0 for s in self.services)


class AuthorizationList(Record):
    """Every authorization the portal lists for a member (an empty list is an answer too)."""

    kind: Literal["authorization_list"] = "authorization_list"
    carrier: str
    query: AuthorizationQuery
    authorizations: tuple[Authorization, ...] = ()
    provenance: Provenance | None = None

    @field_validator("authorizations")
    @classmethod
    def _by_number(cls, items: tuple[Authorization, ...]) -> tuple[Authorization, ...]:
        numbers = [a.auth_number for a in items]
        if len(set(numbers)) != len(numbers):
            raise ValueError("an authorization number appears twice")
        return tuple(sorted(items, key=lambda a: a.auth_number))

    def without_provenance(self) -> AuthorizationList:
        items = tuple(item.model_copy(update={"provenance": None}) for item in self.authorizations)
        return self.model_copy(update={"provenance": None, "authorizations": items})
