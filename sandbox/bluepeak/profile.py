"""BluePeak Health's sandbox data: ids, payer, plan catalogue, MFA, numbering and port."""

from aggregator.models import InsuranceType
from aggregator.models import ServiceType as S
from sandbox.activity import ActivityFormat, check_or_eft
from sandbox.carriers import COPAYS_EPO, COPAYS_HMO, COPAYS_POS, CarrierProfile
from sandbox.identifiers import digits
from sandbox.plans import PlanSpec

PROFILE = CarrierProfile(
    slug="bluepeak",
    display_name="BluePeak Health",
    payer_name="BluePeak Health Plans, Inc.",
    payer_id="BPKH7",
    member_id_prefix="XBP",
    member_id_digits=9,
    dependent_suffix=True,
    group_number_digits=8,
    mfa="totp",
    port_offset=1,
    plans=(
        PlanSpec("BPS1000", "BluePeak Summit PPO 1000", InsuranceType.PPO, (1000, 2000), (4500, 9000),
                 COPAYS_POS, ("0.20", "0.40"), (25, 12), (15, 8), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("BPV2500", "BluePeak Valley HDHP 2500", InsuranceType.COMMERCIAL, (2500, 5000), (6500, 13000),
                 None, ("0.25", "0.50"), (20, 10), (12, 6), (S.MRI_CAT_SCAN,)),
        PlanSpec("BPH300", "BluePeak Trailhead HMO 300", InsuranceType.HMO, (300, None), (3000, None),
                 COPAYS_HMO, ("0.10", "0.10"), (30, 0), (20, 0),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.MENTAL_HEALTH)),
        PlanSpec("BPE800", "BluePeak Ridge EPO 800", InsuranceType.EPO, (800, None), (4000, None),
                 COPAYS_EPO, ("0.15", "0.15"), (24, 0), (12, 0), (S.MRI_CAT_SCAN, S.CHIROPRACTIC)),
    ),
    activity=ActivityFormat(
        auth_number=lambda rng, day: f"BPA-{day:%Y}-{digits(rng, 6)}",
        claim_number=lambda rng, day: f"BP{day:%y%m%d}{digits(rng, 7)}",
        check_number=check_or_eft("7", 15),
    ),
)
