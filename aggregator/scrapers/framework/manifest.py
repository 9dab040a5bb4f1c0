"""What an adapter declares about its carrier: identity, capabilities, search modes, sign-in, credentials,
limits and caps, hours, and what the portal does not show (gaps), with `call_the_payer` for those gaps."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aggregator.errors import ConfigurationError
from aggregator.models import ServiceType
from aggregator.scrapers.framework.manifest_coverage import DEFAULT_CONTACT, CallThePayerItem, Cap, Gap
from aggregator.scrapers.framework.manifest_kinds import Capability, CapKind, LoginKind, MfaKind, Need, SearchMode
from aggregator.scrapers.framework.passwords import PasswordPolicy

__all__ = [
    "AdapterStatus", "Cap", "CapKind", "CallThePayerItem", "Capability", "CredentialField", "EvidenceMask", "Gap", "Limits",
    "LoginKind", "MaintenanceWindow", "Manifest", "MfaKind", "Need", "PasswordPolicy", "PayerEntry", "SearchMode",
    "call_the_payer", "checklist",
]


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
    # A hub refuses (429) a search that follows the user's previous one too soon; the adapter paces them.
    min_seconds_between_searches: float = Field(default=0.0, ge=0)


class PayerEntry(BaseModel):
    """A health plan the portal answers for. A payer's own site serves only itself; a hub lists several."""

    model_config = ConfigDict(frozen=True)

    slug: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="what appointments and routing name")
    display_name: str
    payer_id: str | None = Field(default=None, description="the payer id the portal shows (e.g. an EDI payer id)")
    name_search: bool = Field(default=False, description="patients can be found by first + last name + DOB")


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
    search_modes: frozenset[SearchMode] = Field(description="how each capability finds its answer")
    login_kind: LoginKind
    mfa_kinds: frozenset[MfaKind] = Field(default=frozenset(), description="what the portal may ask after the password")
    credential_fields: frozenset[CredentialField]
    limits: Limits = Limits()
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()
    session_lifetime_minutes: int = Field(default=30, ge=1, description="how long a saved session is worth trying")
    status: AdapterStatus = AdapterStatus.WORKING
    # Masked in the evidence shown to staff (admins and auditors see the original); added to the defaults.
    evidence_masks: tuple[EvidenceMask, ...] = ()
    caps: tuple[Cap, ...] = ()
    # What the portal does not show (beyond the capabilities it lacks, which are gaps by themselves).
    gaps: tuple[Gap, ...] = ()
    # The payers reached through this portal; empty: the portal is its own payer's site (payer slug = slug).
    payers: tuple[PayerEntry, ...] = ()
    timezone: str = Field(default="America/New_York", description="the portal's calendar: daily caps reset at its midnight")
    # The rules of the portal's change-password page; None: the product cannot change the password there.
    password_policy: PasswordPolicy | None = None
    # The cookies by which the portal "remembers this device" (no second factor asked while they live): the
    # runner keeps them in the vault apart from the session, so a new session starts from a known device.
    remembered_device_cookies: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        """A manifest must not contradict itself: the coverage matrix and the worklist trust it."""
        problems = []
        for mode in sorted(self.search_modes):
            if mode.capability not in self.capabilities:
                problems.append(f"search mode '{mode.value}' is for {mode.capability.value}, which is not declared")
        for capability in sorted(self.capabilities):
            if not any(mode.capability is capability for mode in self.search_modes):
                problems.append(f"{capability.value} is declared without a search mode")
        for gap in self.gaps:
            if gap.need.capability not in self.capabilities:
                problems.append(f"gap '{gap.need.value}' is part of {gap.need.capability.value}, which is not "
                                f"declared (the missing capability already says so)")
        needs = [gap.need for gap in self.gaps]
        for need in sorted(set(needs)):
            if needs.count(need) > 1:
                problems.append(f"gap '{need.value}' is declared twice")
        for kind, field in ((MfaKind.TOTP, CredentialField.TOTP_SECRET),
                            (MfaKind.SECURITY_QUESTION, CredentialField.SECURITY_ANSWERS)):
            if (kind in self.mfa_kinds) != (field in self.credential_fields):
                problems.append(f"MFA kind '{kind.value}' and credential field '{field.value}' go together")
        for cap in self.caps:
            if cap.capability is not None and cap.capability not in self.capabilities:
                problems.append(f"cap '{cap.kind.value}' is for {cap.capability.value}, which is not declared")
        slugs = [payer.slug for payer in self.payers]
        for slug in sorted(set(slugs)):
            if slugs.count(slug) > 1:
                problems.append(f"payer '{slug}' is listed twice")
        if SearchMode.ELIGIBILITY_BY_NAME in self.search_modes and not any(p.name_search for p in self.served_payers()):
            problems.append("search by name is declared but no payer allows it")
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            problems.append(f"unknown time zone '{self.timezone}'")
        if problems:
            raise ValueError(f"manifest '{self.slug}': " + "; ".join(problems))
        return self

    @property
    def is_hub(self) -> bool:
        """A portal that serves payers other than itself (a multi-payer hub)."""
        return any(payer.slug != self.slug for payer in self.payers)

    def served_payers(self) -> tuple[PayerEntry, ...]:
        return self.payers or (PayerEntry(slug=self.slug, display_name=self.display_name),)

    def serves(self, payer: str) -> bool:
        return any(entry.slug == payer for entry in self.served_payers())

    def payer(self, slug: str) -> PayerEntry:
        for entry in self.served_payers():
            if entry.slug == slug:
                return entry
        raise ConfigurationError(f"{self.display_name} does not serve payer '{slug}' "
                                 f"(it serves: {', '.join(p.slug for p in self.served_payers())})")

    def daily_search_cap(self) -> int | None:
        """Searches one portal account may make per portal day, when the portal caps them."""
        return min((cap.value for cap in self.caps if cap.kind is CapKind.SEARCHES_PER_DAY), default=None)

    def gap_for(self, need: Need) -> Gap | None:
        """The declared gap for `need` (a missing capability is not a declared gap: see `all_gaps`)."""
        return next((gap for gap in self.gaps if gap.need is need), None)

    def in_maintenance(self, moment: datetime) -> MaintenanceWindow | None:
        return next((w for w in self.maintenance_windows if w.contains(moment)), None)


def call_the_payer(manifest: Manifest, need: Need | Capability,
                   service: ServiceType | None = None, payer: str | None = None) -> CallThePayerItem | None:
    """The call-the-payer checklist item for a visit that needs `need` (a `Capability` means the whole of it)
    at this carrier, or None when the portal answers it.

    An item comes back when the carrier has no such capability at all (`not_at_carrier`), or when the
    manifest declares the need a gap: for a per-service gap, only when `service` is one the portal does not
    show it for (an unknown service is not assumed to be missing). On a hub, `payer` names whom to call: the
    payer the visit is with, not the hub.
    """
    if isinstance(need, Capability):
        need = Need.of_capability(need)
    if need.capability not in manifest.capabilities:
        return _item(manifest, need, None, service, "the service", payer)
    gap = manifest.gap_for(need)
    if gap is None or not gap.applies_to(service):
        return None
    return _item(manifest, need, gap, service, "the service", payer)


def checklist(manifest: Manifest) -> tuple[CallThePayerItem, ...]:
    """Every call-the-payer item of the carrier, for the coverage matrix: one per capability it lacks, then
    one per declared gap (the visit's service shows as "<service>")."""
    missing = [_item(manifest, Need.of_capability(c), None, None, SERVICE_PLACEHOLDER) for c in Capability if c not in manifest.capabilities]
    return (*missing, *(_item(manifest, gap.need, gap, None, SERVICE_PLACEHOLDER) for gap in manifest.gaps))


SERVICE_PLACEHOLDER = "<service>"


def _item(manifest: Manifest, need: Need, gap: Gap | None, service: ServiceType | None,
          unnamed_service: str, payer: str | None = None) -> CallThePayerItem:
    """`gap` None: the carrier has no `need.capability` at all. `service` None: a visit whose service is not
    known, or the matrix's general item; the question then says `unnamed_service`."""
    if gap is None:
        missing = Need.of_capability(need.capability).info.missing
    else:
        missing = gap.missing(service)
    whom = (manifest.payer(payer) if payer and manifest.serves(payer)
            else PayerEntry(slug=manifest.slug, display_name=manifest.display_name))
    return CallThePayerItem(
        carrier=whom.slug, carrier_name=whom.display_name, need=need, capability=need.capability,
        not_at_carrier=gap is None, contact=gap.contact if gap else DEFAULT_CONTACT, missing=missing,
        ask=need.info.ask.format(service=service.label if service is not None else unnamed_service),
        fills=need.info.fills,
    )
