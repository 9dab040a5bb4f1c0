"""Carrier profiles: what makes each sandbox carrier's data its own (ids, payer, plan catalogue, MFA).

A profile is pure description; `dataset.generate_dataset` turns it into members with a random stream
of its own (seeded from the dataset seed and the slug), so adding a carrier never changes another
carrier's data.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from aggregator.models import InsuranceType
from aggregator.models import ServiceType as S
from sandbox.identifiers import digits
from sandbox.plans import PlanSpec


@dataclass(frozen=True)
class CarrierProfile:
    slug: str
    display_name: str
    payer_name: str
    payer_id: str
    member_id_prefix: str
    member_id_digits: int
    # True: dependents get the subscriber's id plus a two-digit suffix (01, 02, ...), as many Blues do.
    # False: every member has an id of their own and the portal shows the subscriber id separately.
    dependent_suffix: bool
    group_number_digits: int
    plans: tuple[PlanSpec, ...]
    mfa: Literal["totp", "security_questions"]
    account_roles: tuple[str, ...] = ("frontdesk", "billing")
    households: int = 110  # enough households for >= 200 members with the household mix used

    def new_member_id(self, rng: random.Random) -> str:
        return self.member_id_prefix + digits(rng, self.member_id_digits)

    def new_group_number(self, rng: random.Random) -> str:
        # Leading zeros on purpose: group numbers are strings and adapters must keep them.
        return "00" + digits(rng, self.group_number_digits - 2)

    def looks_like_member_id(self, value: str) -> bool:
        suffix = r"(\d{2})?" if self.dependent_suffix else ""
        return re.fullmatch(rf"{self.member_id_prefix}\d{{{self.member_id_digits}}}{suffix}", value) is not None


_COPAYS_GOLD = {"office": 20, "urgent": 40, "emergency": 200, "therapy": 30, "mental": 20, "chiro": 25}
_COPAYS_SILVER = {"office": 30, "urgent": 60, "emergency": 300, "therapy": 40, "mental": 30, "chiro": 35}
_COPAYS_HMO = {"office": 15, "urgent": 35, "emergency": 150, "therapy": 25, "mental": 15, "chiro": 20}
_COPAYS_POS = {"office": 25, "urgent": 50, "emergency": 250, "therapy": 35, "mental": 25, "chiro": 30}
_COPAYS_EPO = {"office": 20, "urgent": 45, "emergency": 250, "therapy": 30, "mental": 20, "chiro": 25}

RIDGELINE = CarrierProfile(
    slug="ridgeline",
    display_name="Ridgeline Mutual",
    payer_name="Ridgeline Mutual Insurance Company",
    payer_id="RDGM1",
    member_id_prefix="RM",
    member_id_digits=9,
    dependent_suffix=False,
    group_number_digits=7,
    mfa="totp",
    plans=(
        PlanSpec("RGP500", "Ridgeline Gold PPO 500", InsuranceType.PPO, (500, 1000), (3000, 6000),
                 _COPAYS_GOLD, ("0.10", "0.30"), (30, 15), (20, 10), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("RSP1500", "Ridgeline Silver PPO 1500", InsuranceType.PPO, (1500, 3000), (5000, 10000),
                 _COPAYS_SILVER, ("0.20", "0.40"), (20, 10), (12, 6),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.CHIROPRACTIC)),
        PlanSpec("RBH3000", "Ridgeline Bronze HDHP 3000", InsuranceType.COMMERCIAL, (3000, 6000), (7000, 14000),
                 None, ("0.30", "0.50"), (20, 20), (10, 5), (S.MRI_CAT_SCAN,)),
        PlanSpec("RSH250", "Ridgeline Select HMO 250", InsuranceType.HMO, (250, None), (2500, None),
                 _COPAYS_HMO, ("0.10", "0.10"), (30, 0), (20, 0),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.MENTAL_HEALTH, S.CHIROPRACTIC)),
        PlanSpec("RCP1000", "Ridgeline Choice POS 1000", InsuranceType.POS, (1000, 2500), (4000, 9000),
                 _COPAYS_POS, ("0.20", "0.40"), (25, 12), (15, 8), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        # No prior-auth list at all: the edge case of an empty "required for" paragraph.
        PlanSpec("RAE750", "Ridgeline Access EPO 750", InsuranceType.EPO, (750, None), (3500, None),
                 _COPAYS_EPO, ("0.15", "0.15"), (24, 0), (12, 0), ()),
    ),
)

BLUEPEAK = CarrierProfile(
    slug="bluepeak",
    display_name="BluePeak Health",
    payer_name="BluePeak Health Plans, Inc.",
    payer_id="BPKH7",
    member_id_prefix="XBP",
    member_id_digits=9,
    dependent_suffix=True,
    group_number_digits=8,
    mfa="totp",
    plans=(
        PlanSpec("BPS1000", "BluePeak Summit PPO 1000", InsuranceType.PPO, (1000, 2000), (4500, 9000),
                 _COPAYS_POS, ("0.20", "0.40"), (25, 12), (15, 8), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("BPV2500", "BluePeak Valley HDHP 2500", InsuranceType.COMMERCIAL, (2500, 5000), (6500, 13000),
                 None, ("0.25", "0.50"), (20, 10), (12, 6), (S.MRI_CAT_SCAN,)),
        PlanSpec("BPH300", "BluePeak Trailhead HMO 300", InsuranceType.HMO, (300, None), (3000, None),
                 _COPAYS_HMO, ("0.10", "0.10"), (30, 0), (20, 0),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.MENTAL_HEALTH)),
        PlanSpec("BPE800", "BluePeak Ridge EPO 800", InsuranceType.EPO, (800, None), (4000, None),
                 _COPAYS_EPO, ("0.15", "0.15"), (24, 0), (12, 0), (S.MRI_CAT_SCAN, S.CHIROPRACTIC)),
    ),
)

CASCADE = CarrierProfile(
    slug="cascade",
    display_name="Cascade Care",
    payer_name="Cascade Care Benefit Administrators",
    payer_id="CSCD3",
    member_id_prefix="CC",
    member_id_digits=10,
    dependent_suffix=False,
    group_number_digits=6,
    mfa="security_questions",
    plans=(
        PlanSpec("CCP750", "Cascade Classic PPO 750", InsuranceType.PPO, (750, 1500), (3500, 7000),
                 _COPAYS_GOLD, ("0.15", "0.35"), (30, 15), (20, 10), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("CCP2000", "Cascade Value PPO 2000", InsuranceType.PPO, (2000, 4000), (6000, 12000),
                 _COPAYS_SILVER, ("0.25", "0.50"), (20, 10), (12, 6), (S.MRI_CAT_SCAN,)),
        PlanSpec("CCH150", "Cascade Community HMO 150", InsuranceType.HMO, (150, None), (2000, None),
                 _COPAYS_HMO, ("0.10", "0.10"), (30, 0), (20, 0),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.MENTAL_HEALTH, S.CHIROPRACTIC)),
        PlanSpec("CCS1200", "Cascade Select POS 1200", InsuranceType.POS, (1200, 3000), (4500, 10000),
                 _COPAYS_POS, ("0.20", "0.40"), (25, 12), (15, 8), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
    ),
)

PROFILES: dict[str, CarrierProfile] = {p.slug: p for p in (RIDGELINE, BLUEPEAK, CASCADE)}
# Stable order (also the port order of `aggregator sandbox up`): never reorder, only append.
CARRIER_ORDER: tuple[str, ...] = tuple(PROFILES)
