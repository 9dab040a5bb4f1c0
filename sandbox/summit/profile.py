"""Summit Health Plan's sandbox data: ids, payer, plan catalogue, MFA and port (sandbox.carriers.CarrierProfile).

Change the plans to what the real carrier sells; the dataset (sandbox.dataset) makes members, groups and
accumulators from them with a random stream of this carrier's own, so no other carrier's data changes.
"""

from aggregator.models import InsuranceType
from aggregator.models import ServiceType as S
from sandbox.carriers import COPAYS_GOLD, COPAYS_HMO, COPAYS_SILVER, CarrierProfile
from sandbox.plans import PlanSpec

PROFILE = CarrierProfile(
    slug="summit",
    display_name="Summit Health Plan",
    payer_name="Summit Health Plan Insurance Company",
    payer_id="SUMM1",
    member_id_prefix="SU",
    member_id_digits=9,
    dependent_suffix=False,
    group_number_digits=7,
    mfa="totp",
    port_offset=3,  # `aggregator sandbox up --port-base B` serves this portal on B + 3
    plans=(
        PlanSpec("SUP500", "Summit Health Plan PPO 500", InsuranceType.PPO, (500, 1000), (3000, 6000),
                 COPAYS_GOLD, ("0.10", "0.30"), (30, 15), (20, 10), (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY)),
        PlanSpec("SUP2000", "Summit Health Plan PPO 2000", InsuranceType.PPO, (2000, 4000), (6000, 12000),
                 COPAYS_SILVER, ("0.20", "0.40"), (20, 10), (12, 6), (S.MRI_CAT_SCAN,)),
        PlanSpec("SUH250", "Summit Health Plan HMO 250", InsuranceType.HMO, (250, None), (2500, None),
                 COPAYS_HMO, ("0.10", "0.10"), (30, 0), (20, 0),
                 (S.MRI_CAT_SCAN, S.PHYSICAL_THERAPY, S.MENTAL_HEALTH)),
    ),
)
