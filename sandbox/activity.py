"""Authorizations and claims: the utilization side of the sandbox dataset, generated per carrier.

Everything here is generated from random streams of its own (``"<seed>:<carrier>:authorizations"``,
``"<seed>:<carrier>:claims"``, ``"<seed>:<carrier>:servicing-providers"``), after the members, so adding
this data never shifted a member, plan, group or account. Dates are relative to the dataset's `as_of`.

The data classes are plain frozen dataclasses (like the rest of the dataset); `sandbox.ground_truth`
turns them into the product's record models. Rules (also in sandbox/README.md):

Authorizations
- Every HCR01 status: certified (A1), partial (A2), not certified (A3, always with a decision reason),
  pended (A4), modified (A6), cancelled (C), contact payer (CT). Request categories HS (most), AR
  (inpatient admission, days) and SC (specialist referral, visits).
- 1-3 procedures each, with approved / used / remaining (used + remaining = approved). A3, A4 and CT
  approve nothing (all 0) and have no effective/expiration dates. `requested` (not shown by any
  portal) is what a pended request would get if approved at run time.
- Approved ones (A1, A2, A6, C) are expired, expiring within 14 days of `as_of`, current or
  future-effective; some are exhausted (remaining 0). Dates stay inside the member's coverage.
- Servicing provider name + Luhn-valid NPI from a per-carrier pool (imaging centres, therapy clinics,
  hospitals, specialists).

Claims
- Billed by the sandbox practice, 1-5 lines each, service dates inside coverage and before `as_of`.
- Categories A1 A2 A3 P0 P1 P2 P3 P4 R0 R4 (open or returned: no allowed amount, line allowed/paid 0)
  and F1 F2 F3 F4 (finalized). Every line balances: billed = paid + sum(adjustments); a paid line has
  allowed = billed - CO/OA/PI adjustments and paid = allowed - PR adjustments. Claim totals are the
  sums of the lines; patient responsibility = sum of PR adjustments.
- `contract_allowed` on each line is what the payer's fee schedule would allow; run-time changes
  (`sandbox.data_changes`) use it to pay an open claim.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

from aggregator.models import ServiceType
from aggregator.models.codes import (
    AdjustmentGroup,
    AdjustmentReason,
    AuthDecisionReason,
    AuthStatus,
    ClaimStatusCategory,
    RequestCategory,
    UnitQualifier,
)
from sandbox.identifiers import digits, make_npi
from sandbox.plans import CENT, IN, PlanDesign, money
from sandbox.rng import rng_for


class MemberData(Protocol):
    """What the generator reads of a member (sandbox.dataset.MemberData; dataset.py imports this module)."""

    @property
    def member_id(self) -> str: ...
    @property
    def effective_date(self) -> date: ...
    @property
    def termination_date(self) -> date | None: ...
    def coverage_kind(self, on: date) -> str: ...


M = TypeVar("M", bound=MemberData)  # the dataset's own member type, handed back to its `plan_for`

S = ServiceType
C = ClaimStatusCategory
MIN_MEMBERS_WITH_AUTHS = 60
CLAIM_LOOKBACK_DAYS = 730  # no generated claim has a service date further back than this before as_of
MANY_CLAIMS = 25  # members with at least this many claims: a result list of 3+ pages of 10
HEAVY_CLAIM_MEMBERS = 3

# Claims that are still open: run-time changes may pay or deny them.
OPEN_CATEGORIES: frozenset[ClaimStatusCategory] = frozenset({
    C.RECEIVED, C.ACCEPTED, C.PENDING, C.PENDING_IN_PROCESS, C.PENDING_PAYER_REVIEW, C.PENDING_PROVIDER_INFO,
    C.PENDING_PATIENT_INFO, C.REQUEST_GENERAL, C.REQUEST_DOCUMENTATION,
})
FINALIZED_CATEGORIES: frozenset[ClaimStatusCategory] = frozenset({
    C.FINALIZED_PAYMENT, C.FINALIZED_DENIAL, C.FINALIZED_REVISED, C.FINALIZED_NO_PAYMENT,
})
CLAIM_CATEGORIES: tuple[ClaimStatusCategory, ...] = (
    C.RECEIVED, C.ACCEPTED, C.RETURNED_UNPROCESSABLE, C.PENDING, C.PENDING_IN_PROCESS, C.PENDING_PAYER_REVIEW,
    C.PENDING_PROVIDER_INFO, C.PENDING_PATIENT_INFO, C.FINALIZED_PAYMENT, C.FINALIZED_DENIAL,
    C.FINALIZED_REVISED, C.FINALIZED_NO_PAYMENT, C.REQUEST_GENERAL, C.REQUEST_DOCUMENTATION,
)
# STC01-2 (code source 508) per category; F1 uses "65" or "1".
STATUS_CODES: dict[ClaimStatusCategory, tuple[str, ...]] = {
    C.RECEIVED: ("19",), C.ACCEPTED: ("20",), C.RETURNED_UNPROCESSABLE: ("21",), C.PENDING: ("45",),
    C.PENDING_IN_PROCESS: ("20",), C.PENDING_PAYER_REVIEW: ("41",), C.PENDING_PROVIDER_INFO: ("21",),
    C.PENDING_PATIENT_INFO: ("21",), C.FINALIZED_PAYMENT: ("65", "1"), C.FINALIZED_DENIAL: ("585",),
    C.FINALIZED_REVISED: ("1",), C.FINALIZED_NO_PAYMENT: ("104",), C.REQUEST_GENERAL: ("0",),
    C.REQUEST_DOCUMENTATION: ("21",),
}
AUTH_STATUSES: tuple[AuthStatus, ...] = tuple(AuthStatus)
APPROVED_STATUSES = frozenset({AuthStatus.CERTIFIED, AuthStatus.PARTIAL, AuthStatus.MODIFIED, AuthStatus.CANCELLED})


# --- data ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuthorizedServiceData:
    procedure_code: str
    unit: UnitQualifier
    requested: int  # not shown: what approving a pended request at run time grants
    approved: int
    used: int

    @property
    def remaining(self) -> int:
        return self.approved - self.used


@dataclass(frozen=True)
class AuthorizationData:
    auth_number: str
    member_id: str
    status: AuthStatus
    request_category: RequestCategory
    service_type: ServiceType
    services: tuple[AuthorizedServiceData, ...]
    effective_date: date | None
    expiration_date: date | None
    provider_name: str
    provider_npi: str | None
    decision_reason: AuthDecisionReason | None
    last_updated: date
    duration_days: int  # how long an approval of this request runs


@dataclass(frozen=True)
class AdjustmentData:
    group: AdjustmentGroup
    reason: AdjustmentReason
    amount: Decimal


@dataclass(frozen=True)
class ClaimLineData:
    line_number: int
    procedure_code: str
    service_date: date
    units: int
    billed: Decimal
    allowed: Decimal
    paid: Decimal
    adjustments: tuple[AdjustmentData, ...]
    contract_allowed: Decimal  # the fee-schedule amount (what paying an open claim allows)


@dataclass(frozen=True)
class ClaimData:
    claim_number: str
    account_number: str  # the practice's patient account number (REF*EJ / CLP01)
    member_id: str
    service_type: ServiceType  # the kind of encounter (not shown; prices a run-time payment)
    status_category: ClaimStatusCategory
    status_code: str
    received_date: date
    adjudicated_date: date | None
    paid_date: date | None
    check_number: str | None
    lines: tuple[ClaimLineData, ...]

    @property
    def service_from(self) -> date:
        return min(line.service_date for line in self.lines)

    @property
    def service_to(self) -> date:
        return max(line.service_date for line in self.lines)

    @property
    def finalized(self) -> bool:
        return self.status_category in FINALIZED_CATEGORIES

    @property
    def is_open(self) -> bool:
        return self.status_category in OPEN_CATEGORIES

    @property
    def billed(self) -> Decimal:
        return sum((line.billed for line in self.lines), money(0))

    @property
    def paid(self) -> Decimal:
        return sum((line.paid for line in self.lines), money(0))

    @property
    def allowed(self) -> Decimal | None:
        return sum((line.allowed for line in self.lines), money(0)) if self.finalized else None

    @property
    def patient_responsibility(self) -> Decimal | None:
        if not self.finalized:
            return None
        return sum((a.amount for line in self.lines for a in line.adjustments
                    if a.group is AdjustmentGroup.PATIENT_RESPONSIBILITY), money(0))


# --- carrier formats -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActivityFormat:
    """How a carrier numbers authorizations, claims and payments."""

    auth_number: Callable[[random.Random, date], str]
    claim_number: Callable[[random.Random, date], str]  # from the received date
    check_number: Callable[[random.Random], str]


def julian(day: date) -> str:
    """YYDDD: the Julian date many payers build claim numbers from."""
    return f"{day:%y}{day.timetuple().tm_yday:03d}"


def check_or_eft(prefix_check: str, eft_digits: int) -> Callable[[random.Random], str]:
    """A payment number: a paper check (prefix + digits, 8 long) 40% of the time, else an EFT trace."""
    def make(rng: random.Random) -> str:
        if rng.random() < 0.4:  # paper check
            return prefix_check + digits(rng, 8 - len(prefix_check))
        return digits(rng, eft_digits)  # EFT trace number (835 TRN02)
    return make


# What a carrier whose profile names no format of its own gets (each sandbox carrier's profile.py may
# declare its own `activity=ActivityFormat(...)`).
DEFAULT_ACTIVITY_FORMAT = ActivityFormat(
    auth_number=lambda rng, day: f"PA{day:%y}{digits(rng, 8)}",
    claim_number=lambda rng, day: julian(day) + digits(rng, 8),
    check_number=check_or_eft("3", 12),
)


# --- catalogues ------------------------------------------------------------------------------------

# Billed charge per unit (the practice's charge master).
FEES: dict[str, Decimal] = {code: money(amount) for code, amount in {
    "99203": "190", "99204": "285", "99213": "145", "99214": "210", "99215": "295", "99223": "340",
    "36415": "18", "85025": "35", "80053": "58", "83036": "42", "84443": "65", "80061": "72", "81002": "15",
    "93000": "75", "87880": "38", "71046": "145", "12001": "260", "99284": "780", "99285": "1150",
    "70450": "1250", "97110": "62", "97140": "58", "97112": "64", "97161": "175", "97530": "66",
    "98940": "68", "98941": "85", "97012": "40", "90837": "195", "90834": "150", "90791": "260",
    "70551": "1650", "70553": "2350", "72148": "1480", "72141": "1520", "73721": "1390", "74177": "1875",
}.items()}

# Authorizable services: (procedure codes with their unit, approved-units range, duration in days).
_AUTH_SERVICES: dict[ServiceType, tuple[tuple[tuple[str, UnitQualifier], ...], tuple[int, int], tuple[int, int]]] = {
    S.MRI_CAT_SCAN: ((("70551", UnitQualifier.UNITS), ("70553", UnitQualifier.UNITS), ("72148", UnitQualifier.UNITS),
                      ("72141", UnitQualifier.UNITS), ("73721", UnitQualifier.UNITS), ("74177", UnitQualifier.UNITS)),
                     (1, 1), (30, 90)),
    S.PHYSICAL_THERAPY: ((("97110", UnitQualifier.VISITS), ("97140", UnitQualifier.VISITS),
                          ("97112", UnitQualifier.VISITS), ("97530", UnitQualifier.VISITS),
                          ("97161", UnitQualifier.VISITS)), (6, 24), (60, 180)),
    S.CHIROPRACTIC: ((("98940", UnitQualifier.VISITS), ("98941", UnitQualifier.VISITS),
                      ("97012", UnitQualifier.VISITS)), (6, 12), (60, 120)),
    S.MENTAL_HEALTH: ((("90837", UnitQualifier.VISITS), ("90834", UnitQualifier.VISITS),
                       ("90791", UnitQualifier.VISITS)), (8, 20), (90, 180)),
    S.HOSPITAL_INPATIENT: ((("99223", UnitQualifier.DAYS),), (2, 7), (5, 12)),
    S.CONSULTATION: ((("99204", UnitQualifier.VISITS), ("99214", UnitQualifier.VISITS),
                      ("99215", UnitQualifier.VISITS)), (1, 4), (90, 180)),
}
# A procedure billed once per episode is approved for one unit, whatever the range.
_ONCE = {"97161", "90791", "99204"}

_PROVIDER_KINDS: dict[ServiceType, tuple[str, ...]] = {
    S.MRI_CAT_SCAN: ("{place} Imaging Center", "{place} MRI & Diagnostic Imaging"),
    S.PHYSICAL_THERAPY: ("{place} Physical Therapy", "{place} Sports & Spine Rehab"),
    S.CHIROPRACTIC: ("{place} Chiropractic Clinic", "{place} Family Chiropractic"),
    S.MENTAL_HEALTH: ("{place} Behavioral Health", "{place} Counseling Associates"),
    S.HOSPITAL_INPATIENT: ("{place} Regional Medical Center", "{place} General Hospital"),
    S.CONSULTATION: ("{place} Orthopaedic Associates", "{place} Neurology Group"),
}
_PLACES = ("Harbor Point", "Summit Ridge", "Cedar Valley", "Granite State", "Blue Heron", "Lakeshore",
           "Prairie Wind", "Ironwood", "Silver Creek", "Northgate", "Pinecrest", "Riverbend", "St. Mary's")

_AUTH_STATUS_WEIGHTS = {AuthStatus.CERTIFIED: 44, AuthStatus.PARTIAL: 11, AuthStatus.NOT_CERTIFIED: 12,
                        AuthStatus.PENDED: 12, AuthStatus.MODIFIED: 7, AuthStatus.CANCELLED: 7,
                        AuthStatus.CONTACT_PAYER: 7}
_DECISION_REASONS: dict[AuthStatus, tuple[AuthDecisionReason | None, ...]] = {
    AuthStatus.NOT_CERTIFIED: (AuthDecisionReason.NOT_MEDICALLY_NECESSARY, AuthDecisionReason.NON_COVERED_SERVICE,
                               AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS, AuthDecisionReason.INFORMATION_NOT_RECEIVED),
    AuthStatus.PENDED: (AuthDecisionReason.REQUIRES_MEDICAL_REVIEW, AuthDecisionReason.INFORMATION_NOT_RECEIVED),
    AuthStatus.PARTIAL: (AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS, AuthDecisionReason.NOT_MEDICALLY_NECESSARY, None),
    AuthStatus.MODIFIED: (AuthDecisionReason.EXCEEDS_PLAN_MAXIMUMS, None),
    AuthStatus.CONTACT_PAYER: (None, AuthDecisionReason.INFORMATION_NOT_RECEIVED),
    AuthStatus.CANCELLED: (None,),
    AuthStatus.CERTIFIED: (None,),
}

# Encounters the practice bills: (weight, service type, line builder).
_ENCOUNTER_WEIGHTS: dict[ServiceType, int] = {
    S.OFFICE_VISIT: 38, S.DIAGNOSTIC_LAB: 10, S.URGENT_CARE: 8, S.EMERGENCY_SERVICES: 4, S.PHYSICAL_THERAPY: 12,
    S.CHIROPRACTIC: 8, S.MENTAL_HEALTH: 11, S.MRI_CAT_SCAN: 9,
}


# --- generation ----------------------------------------------------------------------------------

def generate_activity(seed: int, as_of: date, carrier: str, members: Sequence[M],
                      plan_for: Callable[[M], PlanDesign], fmt: ActivityFormat
                      ) -> tuple[dict[str, AuthorizationData], dict[str, ClaimData]]:
    """Authorizations and claims of one carrier (by number, in generation order), numbered as `fmt` says."""
    providers = _servicing_providers(rng_for(seed, carrier, "servicing-providers"))
    auths = _authorizations(rng_for(seed, carrier, "authorizations"), as_of, fmt, members, plan_for, providers)
    claims = _claims(rng_for(seed, carrier, "claims"), as_of, fmt, members, plan_for)
    return auths, claims


def _servicing_providers(rng: random.Random) -> dict[ServiceType, tuple[tuple[str, str], ...]]:
    pool: dict[ServiceType, tuple[tuple[str, str], ...]] = {}
    places = list(_PLACES)
    rng.shuffle(places)
    index = 0
    for service, patterns in _PROVIDER_KINDS.items():
        entries = []
        for pattern in patterns:
            entries.append((pattern.format(place=places[index % len(places)]), make_npi(rng)))
            index += 1
        pool[service] = tuple(entries)
    return pool


def _random_day(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randint(0, max(0, (high - low).days)))


def _authorizations(rng: random.Random, as_of: date, fmt: ActivityFormat, members: Sequence[M],
                    plan_for: Callable[[M], PlanDesign],
                    providers: Mapping[ServiceType, tuple[tuple[str, str], ...]]) -> dict[str, AuthorizationData]:
    chance = {"active": 0.34, "termed": 0.25, "future": 0.12}
    # Plans that need no outpatient review (an EPO here) see far fewer requests.
    queue = [m for m in members
             if rng.random() < chance[m.coverage_kind(as_of)] * (1.0 if plan_for(m).prior_auth else 0.35)]
    # Then active members in generation order, while fewer than the minimum hold an authorization.
    top_up = iter([m for m in members if m.coverage_kind(as_of) == "active" and m not in queue])

    forced_status = list(AUTH_STATUSES)
    forced_category = [RequestCategory.ADMISSION_REVIEW, RequestCategory.SPECIALTY_CARE_REVIEW]
    forced_timing = ["expiring", "expired", "future", "current", "exhausted"]
    auths: dict[str, AuthorizationData] = {}
    holders: set[str] = set()
    index = 0
    while index < len(queue) or len(holders) < MIN_MEMBERS_WITH_AUTHS:
        if index == len(queue):
            extra = next(top_up, None)
            if extra is None:
                break
            queue.append(extra)
        member = queue[index]
        index += 1
        kind = member.coverage_kind(as_of)
        active = kind == "active"
        plan = plan_for(member)
        for _ in range(rng.choices((1, 2, 3, 4), (58, 25, 11, 6))[0]):
            forced = active and bool(forced_status)
            status = forced_status.pop(0) if forced else \
                rng.choices(list(_AUTH_STATUS_WEIGHTS), list(_AUTH_STATUS_WEIGHTS.values()))[0]
            if kind == "termed" and status in (AuthStatus.PENDED, AuthStatus.CONTACT_PAYER):
                status = AuthStatus.CERTIFIED  # nobody is still waiting on a request for a termed member
            forced_cat = active and bool(forced_category)
            category = forced_category.pop(0) if forced_cat else _request_category(rng, plan)
            timing = None
            if status in APPROVED_STATUSES:
                timing = forced_timing.pop(0) if active and forced_timing and status is AuthStatus.CERTIFIED \
                    else _timing(rng, kind)
            auth = _one_authorization(rng, as_of, fmt, member, plan, status, category, timing, providers)
            # A forced value that could not be made here (nothing to cut, dates did not fit) goes first
            # again, so every seed has every status and category.
            if forced and (auth is None or auth.status is not status):
                forced_status.insert(0, status)
            if forced_cat and auth is None:
                forced_category.insert(0, category)
            if auth is None or auth.auth_number in auths:
                continue
            auths[auth.auth_number] = auth
            holders.add(member.member_id)
    return auths


def _request_category(rng: random.Random, plan: PlanDesign) -> RequestCategory:
    roll = rng.random()
    if not plan.prior_auth:  # nothing outpatient needs review on this plan
        return RequestCategory.SPECIALTY_CARE_REVIEW if roll < 0.7 else RequestCategory.ADMISSION_REVIEW
    if roll < 0.84:
        return RequestCategory.HEALTH_SERVICES_REVIEW
    return RequestCategory.SPECIALTY_CARE_REVIEW if roll < 0.94 else RequestCategory.ADMISSION_REVIEW


def _timing(rng: random.Random, coverage_kind: str) -> str:
    if coverage_kind == "termed":
        return "expired"
    if coverage_kind == "future":
        return "future"
    return rng.choices(("expired", "expiring", "current", "future", "exhausted"), (24, 18, 36, 12, 10))[0]


def _one_authorization(rng: random.Random, as_of: date, fmt: ActivityFormat, member: MemberData, plan: PlanDesign,
                       status: AuthStatus, category: RequestCategory, timing: str | None,
                       providers: Mapping[ServiceType, tuple[tuple[str, str], ...]]) -> AuthorizationData | None:
    if category is RequestCategory.ADMISSION_REVIEW:
        service = S.HOSPITAL_INPATIENT
        if timing in ("current", "exhausted"):
            timing = "expiring"  # an admission runs days, not months
    elif category is RequestCategory.SPECIALTY_CARE_REVIEW:
        service = S.CONSULTATION
    else:
        service = rng.choice(plan.prior_auth)
    codes, (low, high), (short, long) = _AUTH_SERVICES[service]
    duration = rng.randint(short, long)
    how_many = 1 if service in (S.HOSPITAL_INPATIENT, S.MRI_CAT_SCAN) and rng.random() < 0.75 else rng.randint(1, 3)
    how_many = min(how_many, len(codes))
    picked = rng.sample(codes, how_many)

    start, end = member.effective_date, member.termination_date  # dates stay inside coverage
    effective = expiration = None
    if timing is not None:
        if timing == "expired":
            latest = min(as_of - timedelta(days=1), end or as_of)
            if latest < start:
                return None
            expiration = _random_day(rng, max(start, latest - timedelta(days=300)), latest)
        elif timing == "expiring":
            expiration = as_of + timedelta(days=rng.randint(0, 14))
        elif timing in ("current", "exhausted"):
            expiration = as_of + timedelta(days=rng.randint(15, max(15, duration - 1)))
        else:  # future
            effective = max(start, as_of + timedelta(days=1)) + timedelta(days=rng.randint(0, 45))
            expiration = effective + timedelta(days=duration - 1)
        if effective is None:
            effective = max(start, expiration - timedelta(days=duration - 1))
        if end is not None and expiration > end:
            expiration = end
        if expiration < effective:
            return None

    services = []
    for code, unit in picked:
        requested = 1 if code in _ONCE else rng.randint(low, high)
        approved = used = 0
        if status in APPROVED_STATUSES:
            approved = requested
            if status in (AuthStatus.PARTIAL, AuthStatus.MODIFIED) and requested > 1:
                approved = rng.randint(max(1, requested // 3), requested - 1)
            started = effective is not None and effective <= as_of
            if timing == "exhausted" or (timing == "expired" and rng.random() < 0.35):
                used = approved
            elif started:
                used = rng.randint(0, approved)
        services.append(AuthorizedServiceData(code, unit, requested, approved, used))
    if status in (AuthStatus.PARTIAL, AuthStatus.MODIFIED) and all(s.approved == s.requested for s in services):
        if len(services) > 1:  # single-unit procedures: one of them is not approved at all
            last = services[-1]
            services[-1] = AuthorizedServiceData(last.procedure_code, last.unit, last.requested, 0, 0)
        elif status is AuthStatus.PARTIAL:
            status = AuthStatus.CERTIFIED  # nothing could be cut: approved in full

    if status in APPROVED_STATUSES:
        assert effective is not None
        decided = effective - timedelta(days=rng.randint(1, 14))
        if any(s.used for s in services):
            decided = _random_day(rng, effective, min(as_of, expiration or as_of))
        if status is AuthStatus.CANCELLED:
            decided = _random_day(rng, effective - timedelta(days=5), min(as_of, expiration or as_of))
        last_updated = min(decided, as_of)
    elif status is AuthStatus.PENDED:
        last_updated = as_of - timedelta(days=rng.randint(0, 10))
    else:
        last_updated = as_of - timedelta(days=rng.randint(1, 120))
    if member.termination_date is not None:
        last_updated = min(last_updated, max(member.termination_date, member.effective_date))

    name, npi = rng.choice(providers[service])
    reason = rng.choice(_DECISION_REASONS[status])
    return AuthorizationData(
        auth_number=fmt.auth_number(rng, last_updated), member_id=member.member_id, status=status,
        request_category=category, service_type=service, services=tuple(services), effective_date=effective,
        expiration_date=expiration, provider_name=name, provider_npi=npi, decision_reason=reason,
        last_updated=last_updated, duration_days=duration,
    )


# --- claims --------------------------------------------------------------------------------------

def _claims(rng: random.Random, as_of: date, fmt: ActivityFormat, members: Sequence[M],
            plan_for: Callable[[M], PlanDesign]) -> dict[str, ClaimData]:
    eligible = [m for m in members if m.coverage_kind(as_of) != "future" and _window(m, as_of) is not None]
    active = [m for m in eligible if m.coverage_kind(as_of) == "active"
              and (as_of - m.effective_date).days > 400]
    heavy = {m.member_id for m in rng.sample(active, HEAVY_CLAIM_MEMBERS)}
    forced = list(CLAIM_CATEGORIES)
    checks: dict[date, str] = {}  # one check/EFT per remittance date: a payment covers many claims
    claims: dict[str, ClaimData] = {}
    for member in eligible:
        if member.member_id in heavy:
            count = rng.randint(MANY_CLAIMS, 38)
        else:
            count = rng.choices((0, 1, 2, 3, 4, 5, 6), (35, 18, 15, 12, 9, 6, 5))[0]
        account_base = digits(rng, 6)
        mine: list[ClaimData] = []
        for _ in range(count):
            category = forced.pop(0) if forced and member.coverage_kind(as_of) == "active" else None
            claim = _one_claim(rng, as_of, fmt, member, plan_for(member), category, account_base, checks)
            if category is not None and (claim is None or claim.status_category is not category):
                forced.insert(0, category)  # did not fit this member's dates: the next claim tries again
            if claim is not None and claim.claim_number not in claims and all(
                    c.claim_number != claim.claim_number for c in mine):
                mine.append(claim)
        # The practice numbers a patient's encounters in date order: account number = patient-encounter.
        mine.sort(key=lambda c: (c.service_from, c.claim_number))
        for sequence, claim in enumerate(mine, start=1):
            claims[claim.claim_number] = replace(claim, account_number=f"{account_base}-{sequence:02d}")
    return claims


def _window(member: MemberData, as_of: date) -> tuple[date, date] | None:
    low = max(member.effective_date, as_of - timedelta(days=540))
    high = min(member.termination_date or as_of, as_of - timedelta(days=2))
    return (low, high) if low <= high else None


_AGES: dict[ClaimStatusCategory, tuple[int, int]] = {  # days between receipt and as_of
    C.RECEIVED: (0, 3), C.ACCEPTED: (1, 8), C.RETURNED_UNPROCESSABLE: (2, 20),
}


def _natural_category(rng: random.Random, age: int) -> ClaimStatusCategory:
    if age <= 3:
        return rng.choices((C.RECEIVED, C.ACCEPTED, C.PENDING_IN_PROCESS, C.RETURNED_UNPROCESSABLE), (40, 30, 20, 10))[0]
    if age <= 40:
        return rng.choices((C.ACCEPTED, C.PENDING, C.PENDING_IN_PROCESS, C.PENDING_PAYER_REVIEW, C.PENDING_PROVIDER_INFO,
                            C.PENDING_PATIENT_INFO, C.REQUEST_GENERAL, C.REQUEST_DOCUMENTATION, C.FINALIZED_PAYMENT,
                            C.FINALIZED_DENIAL, C.RETURNED_UNPROCESSABLE),
                           (8, 6, 14, 8, 7, 4, 4, 6, 30, 8, 5))[0]
    if age <= 90:
        return rng.choices((C.PENDING_PAYER_REVIEW, C.REQUEST_DOCUMENTATION, C.PENDING_PROVIDER_INFO,
                            C.FINALIZED_PAYMENT, C.FINALIZED_DENIAL, C.FINALIZED_NO_PAYMENT, C.FINALIZED_REVISED),
                           (5, 4, 3, 60, 14, 9, 5))[0]
    return rng.choices((C.FINALIZED_PAYMENT, C.FINALIZED_DENIAL, C.FINALIZED_NO_PAYMENT, C.FINALIZED_REVISED),
                       (66, 16, 10, 8))[0]


def _age_range(category: ClaimStatusCategory) -> tuple[int, int]:
    if category in _AGES:
        return _AGES[category]
    if category in FINALIZED_CATEGORIES:
        return (45, 400)
    return (5, 40)


def _one_claim(rng: random.Random, as_of: date, fmt: ActivityFormat, member: MemberData, plan: PlanDesign,
               category: ClaimStatusCategory | None, account_number: str, checks: dict[date, str]) -> ClaimData | None:
    window = _window(member, as_of)
    assert window is not None
    low, high = window
    service = rng.choices(list(_ENCOUNTER_WEIGHTS), list(_ENCOUNTER_WEIGHTS.values()))[0]
    span = rng.choice((0, 0, 0, 7, 14, 21)) if service in (S.PHYSICAL_THERAPY, S.CHIROPRACTIC, S.MENTAL_HEALTH) else 0
    received: date | None = None
    last_day = high
    if category is not None:
        young, old = _age_range(category)
        received = as_of - timedelta(days=rng.randint(young, old))
        last_day = received - timedelta(days=rng.randint(1, 20))
        if not low + timedelta(days=span) <= last_day <= high:
            received = None
            category = None
    if received is None:
        last_day = _random_day(rng, low, high)
        received = min(as_of, last_day + timedelta(days=rng.randint(2, 25)))
        category = _natural_category(rng, (as_of - received).days)
    assert category is not None  # chosen with `received`: either above or from the natural mix
    first_day = max(low, last_day - timedelta(days=span))
    days = sorted({first_day, last_day} | ({_random_day(rng, first_day, last_day)} if span else set()))

    lines = _lines(rng, service, days)
    adjudicated = paid_date = check = None
    if category in FINALIZED_CATEGORIES:
        adjudicated = min(as_of, received + timedelta(days=rng.randint(7, 30)))
        lines = _adjudicate(rng, category, lines, plan, service)
        if category in (C.FINALIZED_PAYMENT, C.FINALIZED_REVISED) and sum(line.paid for line in lines) == 0:
            category = C.FINALIZED_NO_PAYMENT  # everything went to the patient: nothing paid
        if sum(line.paid for line in lines) > 0:
            paid_date = min(as_of, adjudicated + timedelta(days=rng.randint(1, 6)))
            check = checks.setdefault(paid_date, fmt.check_number(rng))
    return ClaimData(
        claim_number=fmt.claim_number(rng, received), account_number=account_number, member_id=member.member_id,
        service_type=service, status_category=category, status_code=rng.choice(STATUS_CODES[category]),
        received_date=received, adjudicated_date=adjudicated, paid_date=paid_date, check_number=check,
        lines=tuple(lines),
    )


def _lines(rng: random.Random, service: ServiceType, days: list[date]) -> list[ClaimLineData]:
    """Unpriced lines (allowed 0, paid 0, no adjustments) for an encounter on `days`."""
    wanted: list[tuple[str, int, date]] = []
    first = days[0]
    if service is S.OFFICE_VISIT:
        wanted.append((rng.choices(("99213", "99214", "99203", "99204"), (60, 25, 8, 7))[0], 1, first))
        extras = rng.sample(("36415", "85025", "80053", "83036", "81002", "93000"), rng.choice((0, 0, 1, 2, 3, 4)))
        wanted += [(code, 1, first) for code in extras]
    elif service is S.DIAGNOSTIC_LAB:
        wanted += [(code, 1, first) for code in
                   ["36415"] + rng.sample(("85025", "80053", "83036", "84443", "80061"), rng.randint(1, 4))]
    elif service is S.URGENT_CARE:
        wanted.append((rng.choice(("99213", "99214")), 1, first))
        wanted += [(code, 1, first) for code in rng.sample(("87880", "71046", "12001"), rng.randint(0, 2))]
    elif service is S.EMERGENCY_SERVICES:
        wanted.append((rng.choice(("99284", "99285")), 1, first))
        wanted += [(code, 1, first) for code in rng.sample(("71046", "70450", "93000"), rng.randint(0, 2))]
    elif service is S.MRI_CAT_SCAN:
        wanted.append((rng.choice(("70551", "70553", "72148", "72141", "73721", "74177")), 1, first))
    elif service is S.PHYSICAL_THERAPY:
        for day in days[:2]:
            wanted += [("97110", rng.randint(1, 3), day), ("97140", rng.randint(1, 2), day)]
        if len(wanted) < 4 and rng.random() < 0.5:
            wanted.append(("97112", 1, days[0]))
    elif service is S.CHIROPRACTIC:
        for day in days:
            wanted.append((rng.choice(("98940", "98941")), 1, day))
        if rng.random() < 0.4:
            wanted.append(("97012", 1, days[-1]))
    else:  # mental health
        code = rng.choice(("90837", "90834"))
        wanted += [(code, 1, day) for day in days]
        if rng.random() < 0.2:
            wanted.insert(0, ("90791", 1, days[0]))
    wanted = wanted[:5]
    lines = []
    for number, (code, units, day) in enumerate(wanted, start=1):
        billed = FEES[code] * units
        rate = Decimal(rng.randint(42, 78)) / 100  # the contracted share of the charge
        contract = (billed * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(ClaimLineData(number, code, day, units, billed, money(0), money(0), (), contract))
    return lines


def _adj(group: AdjustmentGroup, reason: AdjustmentReason, amount: Decimal) -> AdjustmentData:
    return AdjustmentData(group, reason, amount.quantize(CENT))


CO, PR, OA, PI = (AdjustmentGroup.CONTRACTUAL, AdjustmentGroup.PATIENT_RESPONSIBILITY, AdjustmentGroup.OTHER,
                  AdjustmentGroup.PAYER_INITIATED)
R = AdjustmentReason


def price_line(line: ClaimLineData, copay: Decimal, coinsurance: Decimal, deductible: Decimal) -> ClaimLineData:
    """A paid line: allowed = the fee-schedule amount; CO-45 for the rest of the charge; the patient's
    deductible (PR-1), copay (PR-3) and coinsurance (PR-2, on what is left) out of the allowed amount."""
    allowed = line.contract_allowed
    adjustments = []
    if line.billed > allowed:
        adjustments.append(_adj(CO, R.EXCEEDS_FEE_SCHEDULE, line.billed - allowed))
    left = allowed
    for reason, amount in ((R.DEDUCTIBLE, deductible), (R.COPAY, copay)):
        amount = min(amount, left)
        if amount > 0:
            adjustments.append(_adj(PR, reason, amount))
            left -= amount
    share = (left * coinsurance).quantize(CENT, rounding=ROUND_HALF_UP)
    if share > 0:
        adjustments.append(_adj(PR, R.COINSURANCE, share))
        left -= share
    return _with(line, allowed=allowed, paid=left, adjustments=tuple(adjustments))


def deny_line(line: ClaimLineData, group: AdjustmentGroup, reason: AdjustmentReason) -> ClaimLineData:
    return _with(line, allowed=money(0), paid=money(0), adjustments=(_adj(group, reason, line.billed),))


def _with(line: ClaimLineData, *, allowed: Decimal, paid: Decimal, adjustments: tuple[AdjustmentData, ...]
          ) -> ClaimLineData:
    return replace(line, allowed=allowed, paid=paid, adjustments=adjustments)


def cost_share(plan: PlanDesign, service: ServiceType) -> tuple[Decimal, Decimal]:
    """(copay per encounter, coinsurance share) in network for a service; lab and MRI have no copay."""
    tier = plan.services.get(service, {}).get(IN)
    if tier is None or not tier.covered:
        return money(0), Decimal("0.2")
    return tier.copay or money(0), tier.coinsurance or Decimal(0)


def _adjudicate(rng: random.Random, category: ClaimStatusCategory, lines: list[ClaimLineData], plan: PlanDesign,
                service: ServiceType) -> list[ClaimLineData]:
    if category is C.FINALIZED_DENIAL:
        choices: list[tuple[AdjustmentGroup, AdjustmentReason]] = [
            (CO, R.NOT_MEDICALLY_NECESSARY), (CO, R.FILING_LIMIT), (OA, R.DUPLICATE), (PR, R.NOT_COVERED_BY_PLAN)]
        if service in plan.prior_auth:
            choices += [(CO, R.AUTHORIZATION_ABSENT)] * 3
        group, reason = rng.choice(choices)
        return [deny_line(line, group, reason) for line in lines]
    if category is C.FINALIZED_NO_PAYMENT:  # all of it went to the deductible
        return [price_line(line, money(0), Decimal(0), line.contract_allowed) for line in lines]
    copay, coinsurance = cost_share(plan, service)
    deductible_left = money(0)
    if rng.random() < (0.45 if copay == 0 else 0.1):  # some of the deductible was still open
        deductible_left = money(rng.randint(15, 400))
    priced = []
    for index, line in enumerate(lines):
        if index > 0 and rng.random() < 0.12:  # a partial payment: one line refused
            group, reason = rng.choice([(CO, R.INCLUDED_IN_OTHER_SERVICE), (PI, R.FREQUENCY_NOT_SUPPORTED),
                                        (CO, R.AUTHORIZATION_EXCEEDED), (OA, R.DUPLICATE)])
            priced.append(deny_line(line, group, reason))
            continue
        deductible = min(deductible_left, line.contract_allowed)
        deductible_left -= deductible
        priced.append(price_line(line, copay if index == 0 else money(0), coinsurance, deductible))
    return priced
