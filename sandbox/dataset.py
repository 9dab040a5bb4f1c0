"""The sandbox dataset: one seeded generator for every carrier's members, plans, groups and accounts.

Determinism: every random choice comes from a `random.Random` seeded with a string built from the
dataset seed and a purpose (e.g. ``"20261127:ridgeline:members"``). String seeds are hashed with SHA-512
by `random`, so the streams are the same on every machine and under any PYTHONHASHSEED, and each
carrier (and its accounts) has a stream of its own: adding a carrier or a member never shifts another
carrier's data. Dates are generated relative to an explicit `as_of` date, never the clock, so there
are always active, termed (ended before `as_of`) and future-effective (starting after `as_of`) members.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import Literal

from aggregator.models import NetworkIndicator, Relationship, ServiceType
from sandbox import names
from sandbox.accounts import ProviderAccount, make_accounts
from sandbox.activity import AuthorizationData, ClaimData, generate_activity
from sandbox.carriers import CarrierProfile, profiles
from sandbox.identifiers import digits, make_npi, make_tax_id
from sandbox.plans import CENT, OUT, VISIT_LIMITED, PlanDesign, build_plan, money
from sandbox.rng import rng_for

DEFAULT_SEED = 20261127
DEFAULT_AS_OF = date(2026, 11, 27)
MIN_MEMBERS = 220  # per carrier; the brief asks for at least 200

CoverageKind = Literal["active", "termed", "future"]


@dataclass(frozen=True)
class Provider:
    practice_name: str
    npi: str
    tax_id: str
    address: str
    city: str
    state: str
    zip_code: str


@dataclass(frozen=True)
class EmployerGroup:
    number: str
    name: str
    plan_code: str


@dataclass(frozen=True)
class Accumulators:
    """What a member has used so far this calendar year (as of the dataset's `as_of`)."""

    deductible_met: Mapping[NetworkIndicator, Decimal]
    out_of_pocket_met: Mapping[NetworkIndicator, Decimal]
    visits_used: Mapping[tuple[ServiceType, NetworkIndicator], int]


@dataclass(frozen=True)
class MemberData:
    member_id: str
    subscriber_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    gender: Literal["F", "M"]
    relationship: Relationship
    group_number: str
    effective_date: date
    termination_date: date | None
    family_coverage: bool  # the household has more than one covered member: family rows apply
    accumulators: Accumulators

    @property
    def is_subscriber(self) -> bool:
        return self.relationship is Relationship.SELF

    def covered_on(self, day: date) -> bool:
        return self.effective_date <= day and (self.termination_date is None or day <= self.termination_date)

    def coverage_kind(self, on: date) -> CoverageKind:
        if self.effective_date > on:
            return "future"
        if self.termination_date is not None and self.termination_date < on:
            return "termed"
        return "active"


@dataclass(frozen=True)
class CarrierData:
    profile: CarrierProfile
    plans: Mapping[str, PlanDesign]
    groups: Mapping[str, EmployerGroup]
    members: Mapping[str, MemberData]  # by member id, in generation order
    households: Mapping[str, tuple[str, ...]]  # subscriber id -> member ids (subscriber first)
    accounts: tuple[ProviderAccount, ...]
    not_found_ids: tuple[str, ...]  # well-formed ids that belong to nobody
    # Utilization data (sandbox.activity), from streams of their own: by number, in generation order.
    authorizations: Mapping[str, AuthorizationData] = field(default_factory=dict)
    claims: Mapping[str, ClaimData] = field(default_factory=dict)

    def member(self, member_id: str) -> MemberData | None:
        return self.members.get(member_id)

    def authorizations_for(self, member_id: str) -> tuple[AuthorizationData, ...]:
        return tuple(a for a in self.authorizations.values() if a.member_id == member_id)

    def claims_for(self, member_id: str) -> tuple[ClaimData, ...]:
        return tuple(c for c in self.claims.values() if c.member_id == member_id)

    def group_for(self, member: MemberData) -> EmployerGroup:
        return self.groups[member.group_number]

    def plan_for(self, member: MemberData) -> PlanDesign:
        return self.plans[self.group_for(member).plan_code]

    def household(self, member: MemberData) -> tuple[MemberData, ...]:
        return tuple(self.members[i] for i in self.households[member.subscriber_id])


@dataclass(frozen=True)
class Dataset:
    seed: int
    as_of: date
    provider: Provider
    carriers: Mapping[str, CarrierData]

    def carrier(self, slug: str) -> CarrierData:
        try:
            return self.carriers[slug]
        except KeyError:
            raise KeyError(f"the sandbox dataset has no carrier '{slug}' (has: {', '.join(self.carriers)})") from None


def generate_dataset(seed: int = DEFAULT_SEED, as_of: date = DEFAULT_AS_OF,
                     carriers: Iterable[str] | None = None) -> Dataset:
    """Generate the whole sandbox world. Same (seed, as_of, carriers) -> equal datasets, everywhere."""
    provider = _make_provider(rng_for(seed, "provider"))
    known = profiles()
    slugs = tuple(carriers) if carriers is not None else tuple(known)
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise KeyError(f"unknown sandbox carrier(s): {', '.join(unknown)} (known: {', '.join(known)})")
    data = {slug: _generate_carrier(seed, as_of, known[slug], provider) for slug in slugs}
    return Dataset(seed=seed, as_of=as_of, provider=provider, carriers=data)


def generate_carrier_data(seed: int, as_of: date, profile: CarrierProfile, provider: Provider) -> CarrierData:
    """One carrier's data from its profile, with the streams `generate_dataset` gives it (seeded from
    `seed` and `profile.slug`), for profiles that are not carrier folders: e.g. the payers only the
    Crossway hub serves (sandbox/crossway/payers.py). Same arguments, same data."""
    return _generate_carrier(seed, as_of, profile, provider)


# --- provider -----------------------------------------------------------------------------------

def _make_provider(rng: random.Random) -> Provider:
    city, state, zip_prefix = rng.choice(names.CITIES)
    return Provider(
        practice_name=rng.choice(names.PRACTICES),
        npi=make_npi(rng),
        tax_id=make_tax_id(rng),
        address=f"{rng.randint(100, 9899)} {rng.choice(names.STREETS)}",
        city=city, state=state, zip_code=zip_prefix + digits(rng, 2),
    )


# --- one carrier --------------------------------------------------------------------------------

def _generate_carrier(seed: int, as_of: date, profile: CarrierProfile, provider: Provider) -> CarrierData:
    rng = rng_for(seed, profile.slug, "members")
    plans = {spec.code: build_plan(spec) for spec in profile.plans}
    groups = _make_groups(rng, profile)
    group_list = list(groups.values())
    used_ids: set[str] = set()
    members: dict[str, MemberData] = {}
    households: dict[str, tuple[str, ...]] = {}

    forced: tuple[CoverageKind, ...] = ("active", "termed", "future")  # every kind exists for any seed
    index = 0
    while index < profile.households or len(members) < MIN_MEMBERS:
        kind = forced[index] if index < len(forced) else _coverage_kind(rng)
        group = group_list[index % len(group_list)] if index < len(group_list) else rng.choice(group_list)
        household = _make_household(rng, as_of, profile, plans[group.plan_code], group, kind, used_ids,
                                    force_family=index == 0)
        for member in household:
            members[member.member_id] = member
        households[household[0].member_id] = tuple(m.member_id for m in household)
        index += 1

    not_found: list[str] = []
    while len(not_found) < 12:
        candidate = profile.new_member_id(rng)
        if candidate not in used_ids and candidate not in not_found:
            not_found.append(candidate)

    accounts = make_accounts(rng_for(seed, profile.slug, "accounts"), profile, provider.practice_name)
    authorizations, claims = generate_activity(seed, as_of, profile.slug, list(members.values()),
                                               lambda m: plans[groups[m.group_number].plan_code], profile.activity)
    return CarrierData(profile, plans, groups, members, households, accounts, tuple(not_found),
                       authorizations, claims)


def _make_groups(rng: random.Random, profile: CarrierProfile) -> dict[str, EmployerGroup]:
    groups: dict[str, EmployerGroup] = {}
    seen_names: set[str] = set()
    # Two employer groups per plan, so a plan is never tied to one group name.
    for plan_spec in profile.plans * 2:
        while True:
            suffix = rng.choice(names.EMPLOYER_SUFFIX)
            # The first group always carries an ampersand, so every seed makes adapters unescape HTML.
            kind = "Tool & Die" if not groups else rng.choice(names.EMPLOYER_KIND)
            name = f"{rng.choice(names.EMPLOYER_FIRST)} {kind} {suffix}".strip()
            number = profile.new_group_number(rng)
            if name not in seen_names and number not in groups:
                break
        seen_names.add(name)
        groups[number] = EmployerGroup(number, name, plan_spec.code)
    return groups


def _coverage_kind(rng: random.Random) -> CoverageKind:
    roll = rng.random()
    return "active" if roll < 0.72 else "termed" if roll < 0.86 else "future"


def _add_months(day: date, months: int) -> date:
    """First day of the month `months` away from `day`'s month."""
    total = day.year * 12 + (day.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def _month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _coverage_dates(rng: random.Random, as_of: date, kind: CoverageKind) -> tuple[date, date | None]:
    # Coverage starts on the first of a month and ends on the last day of one, as group plans do.
    if kind == "active":
        effective = _add_months(as_of, -rng.randint(1, 72))
        ends_soon = rng.random() < 0.08  # active today, with a known termination date ahead
        return effective, _month_end(_add_months(as_of, rng.randint(0, 3))) if ends_soon else None
    if kind == "termed":
        termination = _month_end(_add_months(as_of, -rng.randint(1, 13)))
        return _add_months(termination, -rng.randint(5, 60)), termination
    return _add_months(as_of, rng.randint(1, 3)), None


def _birth_date(rng: random.Random, as_of: date, age: int) -> date:
    return as_of - timedelta(days=age * 365 + rng.randint(1, 364))


def _first_name(rng: random.Random, gender: str, taken: set[str]) -> str:
    pool = names.FEMALE_FIRST if gender == "F" else names.MALE_FIRST
    while True:
        name = rng.choice(pool)
        if name not in taken:
            taken.add(name)
            return name


def _new_id(rng: random.Random, profile: CarrierProfile, used: set[str]) -> str:
    while True:
        candidate = profile.new_member_id(rng)
        if candidate not in used:
            used.add(candidate)
            return candidate


def _make_household(rng: random.Random, as_of: date, profile: CarrierProfile, plan: PlanDesign,
                    group: EmployerGroup, kind: CoverageKind, used_ids: set[str], *,
                    force_family: bool) -> list[MemberData]:
    effective, termination = _coverage_dates(rng, as_of, kind)
    subscriber_age = rng.randint(21, 66)
    subscriber_gender: Literal["F", "M"] = rng.choice(("F", "M"))
    family_name = rng.choice(names.LAST)
    has_spouse = force_family or rng.random() < 0.45
    max_children = min(3, max(0, subscriber_age - 19))
    children = 2 if force_family else min(max_children, rng.choices((0, 1, 2, 3), (50, 20, 20, 10))[0])

    # (relationship, first name, last name, gender, dob) before ids, so ids follow household order.
    taken: set[str] = set()
    people = [(Relationship.SELF, _first_name(rng, subscriber_gender, taken), family_name, subscriber_gender,
               _birth_date(rng, as_of, subscriber_age))]
    if has_spouse:
        spouse_gender: Literal["F", "M"] = ("M" if subscriber_gender == "F" else "F") if rng.random() < 0.9 \
            else subscriber_gender
        spouse_last = family_name if rng.random() < 0.75 else rng.choice(names.LAST)
        spouse_age = max(19, subscriber_age + rng.randint(-6, 6))
        people.append((Relationship.SPOUSE, _first_name(rng, spouse_gender, taken), spouse_last, spouse_gender,
                       _birth_date(rng, as_of, spouse_age)))
    for _ in range(children):
        child_gender: Literal["F", "M"] = rng.choice(("F", "M"))
        child_age = rng.randint(0, min(25, subscriber_age - 18))
        people.append((Relationship.CHILD, _first_name(rng, child_gender, taken), family_name, child_gender,
                       _birth_date(rng, as_of, child_age)))

    family = len(people) > 1
    subscriber_id = _new_id(rng, profile, used_ids)
    household: list[MemberData] = []
    for position, (relationship, first, last, gender, dob) in enumerate(people):
        if position == 0:
            member_id = subscriber_id
        elif profile.dependent_suffix:
            member_id = f"{subscriber_id}{position:02d}"
            used_ids.add(member_id)
        else:
            member_id = _new_id(rng, profile, used_ids)
        household.append(MemberData(
            member_id=member_id, subscriber_id=subscriber_id, first_name=first, last_name=last,
            date_of_birth=dob, gender=gender, relationship=relationship, group_number=group.number,
            effective_date=effective, termination_date=termination, family_coverage=family,
            accumulators=_accumulators(rng, plan, kind),
        ))
    return household


def _cents(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """A random amount of money in [low, high], to the cent."""
    cents = rng.randint(int(low * 100), int(high * 100))
    return (Decimal(cents) / 100).quantize(CENT)


def _accumulators(rng: random.Random, plan: PlanDesign, kind: CoverageKind) -> Accumulators:
    deductible_met: dict[NetworkIndicator, Decimal] = {}
    oop_met: dict[NetworkIndicator, Decimal] = {}
    visits: dict[tuple[ServiceType, NetworkIndicator], int] = {}
    for network, deductible in plan.deductible.items():
        limit, oop_limit = deductible.individual, plan.out_of_pocket[network].individual
        if kind == "future":  # nothing used before coverage starts
            met = extra = money(0)
        else:
            roll = rng.random()
            # Out-of-network spend is rare; in-network spans untouched, partly met and fully met.
            if roll < (0.75 if network is OUT else 0.25):
                met = money(0)
            elif roll < (0.85 if network is OUT else 0.45):
                met = limit
            else:
                met = _cents(rng, Decimal("0.01"), limit - Decimal("0.01"))
            extra = money(0) if met < limit or rng.random() < 0.3 else _cents(rng, money(0), oop_limit - limit)
        deductible_met[network] = met
        oop_met[network] = min(oop_limit, met + extra)  # deductible spend counts toward out-of-pocket
    for service in VISIT_LIMITED:
        for network, tier in plan.services[service].items():
            if not tier.covered or not tier.visit_limit:
                continue
            unused = kind == "future" or rng.random() < (0.85 if network is OUT else 0.4)
            visits[(service, network)] = 0 if unused else rng.randint(1, tier.visit_limit)
    return Accumulators(deductible_met, oop_met, visits)


# --- fingerprint ----------------------------------------------------------------------------------

def _canonical(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value) if f.metadata.get("fingerprint", True)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        pairs = [[_canonical(k), _canonical(v)] for k, v in value.items()]
        return sorted(pairs, key=lambda pair: json.dumps(pair[0], sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (date, Decimal)):
        return str(value)
    return value


def dataset_fingerprint(dataset: Dataset) -> str:
    """SHA-256 of a canonical JSON form: equal across machines iff the generated data is equal."""
    text = json.dumps(_canonical(dataset), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
