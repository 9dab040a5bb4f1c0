"""Cascade Care's sandbox data: ids, payer, plan catalogue, MFA, numbering and port."""

from aggregator.models import InsuranceType
from aggregator.models import ServiceType as S
from sandbox.activity import ActivityFormat, check_or_eft, julian
from sandbox.carriers import COPAYS_GOLD, COPAYS_HMO, COPAYS_POS, COPAYS_SILVER, CarrierProfile
from sandbox.identifiers import digits
from sandbox.plans import PlanSpec

PROFILE = CarrierProfile(
    slug="cascade",
    display_name="Cascade Care",
    payer_name="Cascade Care Benefit Administrators",
    payer_id="CSCD3",
    member_id_prefix="CC",
    member_id_digits=10,
    dependent_suffix=False,
    group_number_digits=6,
    mfa="security_questions",
    port_offset=2,
    plans=(
        PlanSpec("CCP750", "Cascade Classic PPO 750", InsuranceType.PPO, (750, 1500), (3500, 7000),
                 COPAYS_GOLD, ("0.15", "0.35"), (30, 15), (20, 10), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("CCP2000", "Cascade Value PPO 2000", InsuranceType.PPO, (2000, 4000), (6000, 12000),
                 COPAYS_SILVER, ("0.25", "0.50"), (20, 10), (12, 6), (S.MRI_CAT_SCAN,)),
        PlanSpec("CCH150", "Cascade Community HMO 150", InsuranceType.HMO, (150, None), (2000, None),
                 COPAYS_HMO, ("0.10", "0.10"), (30, 0), (20, 0),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.MENTAL_HEALTH, S.CHIROPRACTIC)),
        PlanSpec("CCS1200", "Cascade Select POS 1200", InsuranceType.POS, (1200, 3000), (4500, 10000),
                 COPAYS_POS, ("0.20", "0.40"), (25, 12), (15, 8), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
    ),
    activity=ActivityFormat(
        auth_number=lambda rng, day: f"CCA{digits(rng, 8)}",
        claim_number=lambda rng, day: f"C{julian(day)}{digits(rng, 7)}",
        check_number=check_or_eft("5", 10),
    ),
)
