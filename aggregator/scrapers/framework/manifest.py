"""What an adapter declares about its carrier: identity, capabilities, credentials, limits, hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Capability(str, Enum):
    ELIGIBILITY = "eligibility"
    AUTHORIZATION = "authorization"
    CLAIM_STATUS = "claim_status"


class AdapterStatus(str, Enum):
    WORKING = "working"
    DEGRADED = "degraded"
    BROKEN = "broken"


class CredentialField(str, Enum):
    USERNAME = "username"
    PASSWORD = "password"
    TOTP_SECRET = "totp_secret"
    SECURITY_ANSWERS = "security_answers"


class MaintenanceWindow(BaseModel):
    """A recurring window in the carrier's local time; may cross midnight (e.g. 23:00-02:00)."""

    model_config = ConfigDict(frozen=True)

    weekdays: frozenset[int] = Field(default=frozenset(range(7)), description="0 = Monday")
    start: time
    end: time
    timezone: str = "America/New_York"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        now = local.time()
        if self.start <= self.end:
            return local.weekday() in self.weekdays and self.start <= now < self.end
        # Crossing midnight: the window belongs to the weekday it started on.
        if now >= self.start:
            return local.weekday() in self.weekdays
        return now < self.end and (local.weekday() - 1) % 7 in self.weekdays

    def ends_after(self, moment: datetime) -> datetime:
        """When the window that contains `moment` closes (in `moment`'s zone). Wall-clock arithmetic
        in the carrier's zone, so a window spanning a daylight-saving change still ends at its hour."""
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end.astimezone(moment.tzinfo)


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_sessions_per_account: int = Field(default=1, ge=1, le=1, description="portals allow one; so do we")
    max_concurrent_accounts: int = Field(default=2, ge=1)
    min_seconds_between_requests: float = Field(default=0.0, ge=0)


class EvidenceMask(BaseModel):
    """A place on the portal's pages that staff must not see in evidence (e.g. the signed-in portal user):
    a CSS selector, or the words that introduce it ("Logged in as"). See aggregator/evidence_mask.py."""

    model_config = ConfigDict(frozen=True)

    selector: str | None = None
    text: str | None = Field(default=None, min_length=3)

    @model_validator(mode="after")
    def _one_rule(self) -> EvidenceMask:
        if (self.selector is None) == (self.text is None):
            raise ValueError("an evidence mask is either a selector or a text")
        return self


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    display_name: str
    base_url: str
    capabilities: frozenset[Capability]
    credential_fields: frozenset[CredentialField]
    limits: Limits = Limits()
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()
    session_lifetime_minutes: int = Field(default=30, ge=1, description="how long a saved session is worth trying")
    status: AdapterStatus = AdapterStatus.WORKING
    # Masked in the evidence shown to staff (admins and auditors see the original); added to the defaults.
    evidence_masks: tuple[EvidenceMask, ...] = ()

    def in_maintenance(self, moment: datetime) -> MaintenanceWindow | None:
        return next((w for w in self.maintenance_windows if w.contains(moment)), None)
