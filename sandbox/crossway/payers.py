"""The payers the Crossway hub lists, and the data the hub serves for them.

Two payers exist only inside the hub (Harborview Health, Prairie Mutual): their `CarrierProfile`s live
here, not in a carrier folder, so `sandbox.carriers.profiles()` never lists them (no portal of their own,
no adapter of their own). Their members, plans, authorizations and claims come from the same generator as
every carrier's (`sandbox.dataset.generate_carrier_data`, streams seeded from the dataset seed and the
payer's slug). The third payer is a carrier with a portal of its own (Ridgeline Mutual): the hub shows the
very same members and records, taken from the dataset the caller passes.

`crossway_dataset(dataset)` is a `Dataset` whose carriers are the hub's payers, so every function of
`sandbox.ground_truth` answers for the hub with the payer's slug as the carrier:
`ground_truth.eligibility(crossway_dataset(ds), "harborview", query)`.

Payers that allow a name + DOB search also carry a few *prior enrollments* (from a seeded stream of their
own): the same person (name, DOB) under an older member id whose coverage ended the day before the current
one started, as happens when a payer re-issues ids. A name + DOB search for such a person lists two
candidates; every other name search lists one or none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from typing import Literal

from aggregator.models import InsuranceType, Relationship
from aggregator.models import ServiceType as S
from sandbox.activity import ActivityFormat, check_or_eft, julian
from sandbox.carriers import COPAYS_EPO, COPAYS_GOLD, COPAYS_HMO, COPAYS_POS, COPAYS_SILVER, CarrierProfile, profile
from sandbox.dataset import CarrierData, Dataset, MemberData, Provider, generate_carrier_data
from sandbox.identifiers import digits
from sandbox.plans import PlanSpec
from sandbox.rng import rng_for

# The result layouts of the hub (sandbox/crossway/results.py): "standard" is the hub's own rendering of a
# 271 response; "sections" and "pivot" are payer-specific layouts the hub shows for those payers.
Layout = Literal["standard", "sections", "pivot"]

HARBORVIEW = CarrierProfile(
    slug="harborview",
    display_name="Harborview Health",
    payer_name="Harborview Health Plan, Inc.",
    payer_id="HRBVW",
    member_id_prefix="HVH",
    member_id_digits=9,
    dependent_suffix=True,  # dependents: the subscriber's id + 01, 02, ...
    group_number_digits=6,
    mfa="totp",  # unused: members only, no portal of its own
    port_offset=0,  # unused: not a carrier folder, never served on a port of its own
    plans=(
        PlanSpec("HVG750", "Harborview Gold PPO 750", InsuranceType.PPO, (750, 1500), (3500, 7000),
                 COPAYS_GOLD, ("0.10", "0.30"), (30, 15), (20, 10), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("HVN2000", "Harborview Navigator HDHP 2000", InsuranceType.COMMERCIAL, (2000, 4000),
                 (6000, 12000), None, ("0.20", "0.40"), (20, 10), (12, 6), (S.MRI_CAT_SCAN,)),
        PlanSpec("HVC300", "Harborview Coastal HMO 300", InsuranceType.HMO, (300, None), (3000, None),
                 COPAYS_HMO, ("0.10", "0.10"), (30, 0), (20, 0),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.MENTAL_HEALTH)),
    ),
    activity=ActivityFormat(
        auth_number=lambda rng, day: f"HA{day:%y}{digits(rng, 7)}",
        claim_number=lambda rng, day: f"HV{julian(day)}{digits(rng, 5)}",
        check_number=check_or_eft("7", 15),
    ),
)

PRAIRIE = CarrierProfile(
    slug="prairie",
    display_name="Prairie Mutual",
    payer_name="Prairie Mutual Health Insurance Company",
    payer_id="PRMU4",
    member_id_prefix="PMU",
    member_id_digits=8,
    dependent_suffix=False,
    group_number_digits=7,
    mfa="totp",  # unused, as above
    port_offset=0,  # unused, as above
    plans=(
        PlanSpec("PMS1000", "Prairie Mutual Select POS 1000", InsuranceType.POS, (1000, 2000), (4500, 9000),
                 COPAYS_POS, ("0.20", "0.40"), (25, 12), (15, 8), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("PMH1500", "Prairie Mutual Heartland PPO 1500", InsuranceType.PPO, (1500, 3000), (5000, 10000),
                 COPAYS_SILVER, ("0.20", "0.40"), (20, 10), (12, 6), (S.MRI_CAT_SCAN, S.CHIROPRACTIC)),
        PlanSpec("PME500", "Prairie Mutual Essential EPO 500", InsuranceType.EPO, (500, None), (3000, None),
                 COPAYS_EPO, ("0.15", "0.15"), (24, 0), (12, 0), ()),
    ),
    activity=ActivityFormat(
        auth_number=lambda rng, day: f"PM-{day:%y}-{digits(rng, 6)}",
        claim_number=lambda rng, day: f"{day:%Y}{digits(rng, 8)}",
        check_number=check_or_eft("PM", 12),
    ),
)

# The payer the hub shares with a carrier portal of its own (the same members and records as that portal).
SHARED_PAYER = "ridgeline"
PRIOR_ENROLLMENTS = 6  # per name-searchable payer


@dataclass(frozen=True)
class HubPayer:
    slug: str  # the carrier slug of the records (EligibilityRecord.carrier) and of ground truth
    display_name: str
    layout: Layout  # the eligibility result layout inside the hub
    name_search: bool  # may a patient be searched by first + last name + DOB (no member id)?
    profile: CarrierProfile | None  # None: a carrier folder's own profile (discovered)

    @property
    def carrier_profile(self) -> CarrierProfile:
        return self.profile or profile(self.slug)


# The hub's payer list, in the order it shows them (alphabetical, as hubs do).
PAYERS: tuple[HubPayer, ...] = (
    HubPayer(HARBORVIEW.slug, HARBORVIEW.display_name, "sections", True, HARBORVIEW),
    HubPayer(PRAIRIE.slug, PRAIRIE.display_name, "pivot", False, PRAIRIE),
    HubPayer(SHARED_PAYER, "Ridgeline Mutual", "standard", False, None),
)


def hub_payer(slug: str) -> HubPayer | None:
    return next((p for p in PAYERS if p.slug == slug), None)


def crossway_dataset(dataset: Dataset) -> Dataset:
    """The data the hub serves: one `CarrierData` per hub payer (same seed, same `as_of`, same provider).
    A payer with a portal of its own comes from `dataset` when it has it (so both show the same records)."""
    carriers: dict[str, CarrierData] = {}
    for payer in PAYERS:
        if payer.profile is None and payer.slug in dataset.carriers:
            carriers[payer.slug] = dataset.carriers[payer.slug]
        else:
            carriers[payer.slug] = _payer_data(dataset.seed, dataset.as_of, dataset.provider, payer.slug)
    return Dataset(seed=dataset.seed, as_of=dataset.as_of, provider=dataset.provider, carriers=carriers)


@cache  # generating a payer's activity takes a while; same arguments, same data
def _payer_data(seed: int, as_of: date, provider: Provider, slug: str) -> CarrierData:
    payer = hub_payer(slug)
    assert payer is not None
    data = generate_carrier_data(seed, as_of, payer.carrier_profile, provider)
    return _with_prior_enrollments(seed, as_of, data) if payer.name_search else data


def _with_prior_enrollments(seed: int, as_of: date, data: CarrierData) -> CarrierData:
    """Add PRIOR_ENROLLMENTS older member ids for active subscribers (termed the day before the current
    coverage began), from a stream of their own: the rest of the payer's data is unchanged."""
    rng = rng_for(seed, data.profile.slug, "crossway-prior-enrollments")
    chosen = [m for m in data.members.values() if m.is_subscriber and m.coverage_kind(as_of) == "active"]
    rng.shuffle(chosen)
    used = set(data.members) | set(data.not_found_ids)
    members, households = dict(data.members), dict(data.households)
    for current in chosen[:PRIOR_ENROLLMENTS]:
        while (old_id := data.profile.new_member_id(rng)) in used:
            pass
        used.add(old_id)
        ended = current.effective_date - timedelta(days=1)
        began = date(ended.year - rng.randint(1, 4), ended.month, 1)
        members[old_id] = replace(current, member_id=old_id, subscriber_id=old_id, relationship=Relationship.SELF,
                                  effective_date=began, termination_date=ended, family_coverage=False)
        households[old_id] = (old_id,)
    return replace(data, members=members, households=households)


def prior_enrollments(data: CarrierData) -> list[tuple[MemberData, MemberData]]:
    """(older id, current id) pairs of the same person: the name searches that list two candidates."""
    pairs = []
    for member in data.members.values():
        if member.termination_date is None:
            continue
        twin = next((m for m in data.members.values() if m.member_id != member.member_id
                     and (m.first_name, m.last_name, m.date_of_birth) ==
                     (member.first_name, member.last_name, member.date_of_birth)
                     and m.effective_date == member.termination_date + timedelta(days=1)), None)
        if twin is not None:
            pairs.append((member, twin))
    return pairs
