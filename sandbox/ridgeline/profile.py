"""Ridgeline Mutual's sandbox data: ids, payer, plan catalogue, MFA, numbering and port."""

from aggregator.models import InsuranceType
from aggregator.models import ServiceType as S
from sandbox.activity import ActivityFormat, check_or_eft, julian
from sandbox.carriers import COPAYS_EPO, COPAYS_GOLD, COPAYS_HMO, COPAYS_POS, COPAYS_SILVER, CarrierProfile
from sandbox.identifiers import digits
from sandbox.plans import PlanSpec

PROFILE = CarrierProfile(
    slug="ridgeline",
    display_name="Ridgeline Mutual",
    payer_name="Ridgeline Mutual Insurance Company",
    payer_id="RDGM1",
    member_id_prefix="RM",
    member_id_digits=9,
    dependent_suffix=False,
    group_number_digits=7,
    mfa="totp",
    port_offset=0,
    plans=(
        PlanSpec("RGP500", "Ridgeline Gold PPO 500", InsuranceType.PPO, (500, 1000), (3000, 6000),
                 COPAYS_GOLD, ("0.10", "0.30"), (30, 15), (20, 10), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("RSP1500", "Ridgeline Silver PPO 1500", InsuranceType.PPO, (1500, 3000), (5000, 10000),
                 COPAYS_SILVER, ("0.20", "0.40"), (20, 10), (12, 6),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.CHIROPRACTIC)),
        PlanSpec("RBH3000", "Ridgeline Bronze HDHP 3000", InsuranceType.COMMERCIAL, (3000, 6000), (7000, 14000),
                 None, ("0.30", "0.50"), (20, 20), (10, 5), (S.MRI_CAT_SCAN,)),
        PlanSpec("RSH250", "Ridgeline Select HMO 250", InsuranceType.HMO, (250, None), (2500, None),
                 COPAYS_HMO, ("0.10", "0.10"), (30, 0), (20, 0),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.MENTAL_HEALTH, S.CHIROPRACTIC)),
        PlanSpec("RCP1000", "Ridgeline Choice POS 1000", InsuranceType.POS, (1000, 2500), (4000, 9000),
                 COPAYS_POS, ("0.20", "0.40"), (25, 12), (15, 8), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        # No prior-auth list at all: the edge case of an empty "required for" paragraph.
        PlanSpec("RAE750", "Ridgeline Access EPO 750", InsuranceType.EPO, (750, None), (3500, None),
                 COPAYS_EPO, ("0.15", "0.15"), (24, 0), (12, 0), ()),
    ),
    # Auth "RA" + year + 6 digits; claim = Julian receipt date (YYDDD) + 6 digits.
    activity=ActivityFormat(
        auth_number=lambda rng, day: f"RA{day:%y}{digits(rng, 6)}",
        claim_number=lambda rng, day: julian(day) + digits(rng, 6),
        check_number=check_or_eft("00", 12),
    ),
)
