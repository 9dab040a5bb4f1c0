"""Plan designs: what each service costs per network tier, built from a compact per-plan spec.

A carrier's catalogue is a handful of `PlanSpec` rows; `build_plan` expands one into a `PlanDesign`
with the same rules for every carrier, so the benefit grid is regular enough to reason about and
varied enough (PPO, HMO, EPO, POS, high-deductible) to exercise an adapter.

Rules (documented in sandbox/README.md):
- Plans without out-of-network benefits (HMO, EPO) have no out-of-network deductible or out-of-pocket
  and every service is *not covered* out of network, except Emergency Services, which pay at the
  in-network level on every plan.
- High-deductible plans (no copays in the spec) charge coinsurance for every service.
- Family deductible and out-of-pocket are twice the individual amounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from aggregator.models import InsuranceType, NetworkIndicator, ServiceType

IN = NetworkIndicator.IN_NETWORK
OUT = NetworkIndicator.OUT_OF_NETWORK
NETWORKS = (IN, OUT)

# The service types every sandbox plan describes (besides plan-level 30), in carrier display order.
SERVICES: tuple[ServiceType, ...] = (
    ServiceType.OFFICE_VISIT,
    ServiceType.URGENT_CARE,
    ServiceType.EMERGENCY_SERVICES,
    ServiceType.MRI_CAT_SCAN,
    ServiceType.DIAGNOSTIC_LAB,
    ServiceType.PHYSICAL_THERAPY,
    ServiceType.MENTAL_HEALTH,
    ServiceType.CHIROPRACTIC,
)
VISIT_LIMITED: tuple[ServiceType, ...] = (ServiceType.PHYSICAL_THERAPY, ServiceType.CHIROPRACTIC)

CENT = Decimal("0.01")


def money(value: int | str | Decimal) -> Decimal:
    """Dollars with exactly two decimals, the way the adapters' money parser returns them."""
    return Decimal(value).quantize(CENT)


def share(value: str) -> Decimal:
    """A patient share 0-1 normalized the way the adapters' percent parser returns it (0.2, not 0.20)."""
    normalized = Decimal(value).normalize()
    return normalized if normalized != 0 else Decimal(0)


@dataclass(frozen=True)
class TierBenefit:
    """One service at one network tier. `covered=False` means the tier pays nothing (EB01=I)."""

    covered: bool = True
    copay: Decimal | None = None
    coinsurance: Decimal | None = None  # patient share, 0-1
    visit_limit: int | None = None  # visits per calendar year


NOT_COVERED = TierBenefit(covered=False)


@dataclass(frozen=True)
class CostShare:
    individual: Decimal
    family: Decimal


@dataclass(frozen=True)
class PlanDesign:
    code: str
    name: str
    insurance_type: InsuranceType
    deductible: Mapping[NetworkIndicator, CostShare]  # a network missing here has no deductible line
    out_of_pocket: Mapping[NetworkIndicator, CostShare]
    services: Mapping[ServiceType, Mapping[NetworkIndicator, TierBenefit]]
    prior_auth: tuple[ServiceType, ...]  # in carrier display order

    @property
    def has_out_of_network(self) -> bool:
        return OUT in self.deductible


@dataclass(frozen=True)
class PlanSpec:
    """One catalogue row. Amounts in whole dollars; `copays=None` makes a high-deductible plan."""

    code: str
    name: str
    insurance_type: InsuranceType
    deductible: tuple[int, int | None]  # individual in-network, out-of-network (None: no OON benefits)
    out_of_pocket: tuple[int, int | None]
    copays: Mapping[str, int] | None  # keys: office, urgent, emergency, therapy, mental, chiro
    coinsurance: tuple[str, str]  # patient share in-network, out-of-network
    therapy_visits: tuple[int, int]  # physical therapy visits per calendar year: in, out
    chiro_visits: tuple[int, int]
    prior_auth: tuple[ServiceType, ...]


def _cost_share(individual: int) -> CostShare:
    return CostShare(money(individual), money(individual * 2))


def build_plan(spec: PlanSpec) -> PlanDesign:
    oon = spec.deductible[1] is not None
    coins_in, coins_out = share(spec.coinsurance[0]), share(spec.coinsurance[1])

    def in_network(copay_key: str | None, *, with_coinsurance: bool = False, visits: int | None = None) -> TierBenefit:
        if spec.copays is None or copay_key is None:  # high-deductible plans: coinsurance only
            return TierBenefit(coinsurance=coins_in, visit_limit=visits)
        copay = money(spec.copays[copay_key]) if copay_key != "lab" else money(0)
        return TierBenefit(copay=copay, coinsurance=coins_in if with_coinsurance else None, visit_limit=visits)

    def out_of_network(visits: int | None = None) -> TierBenefit:
        return TierBenefit(coinsurance=coins_out, visit_limit=visits) if oon else NOT_COVERED

    emergency = in_network("emergency", with_coinsurance=True)
    services = {
        ServiceType.OFFICE_VISIT: {IN: in_network("office"), OUT: out_of_network()},
        ServiceType.URGENT_CARE: {IN: in_network("urgent"), OUT: out_of_network()},
        # Emergencies are paid at the in-network level wherever they happen (prudent layperson rule).
        ServiceType.EMERGENCY_SERVICES: {IN: emergency, OUT: emergency},
        ServiceType.MRI_CAT_SCAN: {IN: TierBenefit(coinsurance=coins_in), OUT: out_of_network()},
        ServiceType.DIAGNOSTIC_LAB: {IN: in_network("lab"), OUT: out_of_network()},
        ServiceType.PHYSICAL_THERAPY: {
            IN: in_network("therapy", visits=spec.therapy_visits[0]),
            OUT: out_of_network(visits=spec.therapy_visits[1]),
        },
        ServiceType.MENTAL_HEALTH: {IN: in_network("mental"), OUT: out_of_network()},
        ServiceType.CHIROPRACTIC: {
            IN: in_network("chiro", visits=spec.chiro_visits[0]),
            OUT: out_of_network(visits=spec.chiro_visits[1]),
        },
    }
    deductible = {IN: _cost_share(spec.deductible[0])}
    out_of_pocket = {IN: _cost_share(spec.out_of_pocket[0])}
    if oon:
        oon_deductible, oon_out_of_pocket = spec.deductible[1], spec.out_of_pocket[1]
        assert oon_deductible is not None and oon_out_of_pocket is not None  # out-of-network benefits: both
        deductible[OUT] = _cost_share(oon_deductible)
        out_of_pocket[OUT] = _cost_share(oon_out_of_pocket)
    return PlanDesign(
        code=spec.code, name=spec.name, insurance_type=spec.insurance_type,
        deductible=deductible, out_of_pocket=out_of_pocket, services=services,
        prior_auth=tuple(s for s in SERVICES if s in spec.prior_auth),
    )
