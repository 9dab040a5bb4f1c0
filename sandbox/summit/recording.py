"""Summit Health Plan's recorded-page cases, declared for the one recorder (sandbox.recorder.record_declared) and the
ground-truth check (sandbox.recorded_cases):

    .venv/bin/aggregator sandbox record-pages --carrier summit

Each case is a real lookup in Chromium against the sandbox portal; the kept page is the capture the case
names, and its expected file is the sandbox's ground truth (or the refusal a correct adapter must give).
Members are picked from the dataset in generation order, so the cases are the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aggregator.errors import Outcome
from aggregator.models import EligibilityQuery, InsuranceType, Relationship
from sandbox import names
from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED, Dataset, MemberData
from sandbox.recorded_cases import DeclaredCase, HandMadeCase, Refusal

from .views import meaning_change_for

__all__ = ["HAND_MADE", "RECORDED_WITH", "cases", "meaning_change_for"]

CARRIER = "summit"
RECORDED_WITH = {"seed": DEFAULT_SEED, "as_of": DEFAULT_AS_OF}
RESULT = "eligibility-result"  # the evidence label the adapter gives the search's result page
V1: dict[str, Any] = {"layout_version": "v1"}
V2: dict[str, Any] = {"layout_version": "v2"}
PLAN_SHARE = Refusal("meaning_change", live=Outcome.NEEDS_ATTENTION, offline=Outcome.NEEDS_ATTENTION,
                     type="UnmappedValue")
# The maintenance page says so itself: retry later, live and offline.
MAINTENANCE = Refusal("maintenance", live=Outcome.RETRY_LATER, offline=Outcome.RETRY_LATER, type="PortalMaintenance")

# Pages the parser must refuse, each one edit of a recorded page (docs/recorded-pages.md, "Hand-made cases").
HAND_MADE = (
    HandMadeCase("eligibility", "edited_unknown_benefit_word", "active_subscriber", r"<td>Copay</td>",
                 "<td>Copay (Tier 2)</td>"),
)


def cases(dataset: Dataset) -> list[DeclaredCase]:
    data = dataset.carrier(CARRIER)
    day = dataset.as_of
    used: set[str] = set()

    def pick(fits: Callable[[MemberData], bool]) -> MemberData:
        """The first member (generation order) not used by another case that fits."""
        member = next((m for m in data.members.values() if m.member_id not in used and fits(m)), None)
        if member is None:
            raise ValueError(f"{CARRIER}: no member of the dataset fits a recorded-page case (see cases())")
        used.add(member.member_id)
        return member

    def active(m: MemberData) -> bool:
        return m.coverage_kind(day) == "active"

    def query(m: MemberData, **changes: object) -> EligibilityQuery:
        fields = {"member_id": m.member_id, "date_of_birth": m.date_of_birth, "service_date": day, **changes}
        return EligibilityQuery.model_validate(fields)

    def case(name: str, member_query: EligibilityQuery, keep: str = RESULT, faults: dict[str, Any] | None = None,
             refusal: Refusal | None = None) -> DeclaredCase:
        return DeclaredCase("eligibility", name, member_query, "answer", keep, faults=faults or V1, refusal=refusal)

    def plain(m: MemberData) -> bool:
        return active(m) and meaning_change_for(data, m.member_id, "v2") is None

    subscriber = pick(lambda m: plain(m) and m.is_subscriber and not m.family_coverage)
    family = pick(lambda m: plain(m) and m.is_subscriber and m.family_coverage)
    spouse = pick(lambda m: active(m) and m.relationship is Relationship.SPOUSE)
    child = pick(lambda m: active(m) and m.relationship is Relationship.CHILD)
    hmo = pick(lambda m: plain(m) and data.plan_for(m).insurance_type is InsuranceType.HMO)
    termed = pick(lambda m: m.coverage_kind(day) == "termed")
    future = pick(lambda m: m.coverage_kind(day) == "future")
    wrong_dob, wrong_name, cosmetic = pick(active), pick(active), pick(plain)
    plan_share = pick(lambda m: active(m) and meaning_change_for(data, m.member_id, "v2") is not None)
    other_name = next(n for n in names.LAST if n.casefold() != wrong_name.last_name.casefold())
    return [
        case("active_subscriber", query(subscriber)),
        case("active_family", query(family)),
        case("dependent_spouse", query(spouse, last_name=spouse.last_name)),
        case("dependent_child", query(child)),
        case("hmo_out_of_network_not_covered", query(hmo)),
        case("termed", query(termed)),
        case("future_effective", query(future)),
        case("not_found", EligibilityQuery(member_id=data.not_found_ids[0], date_of_birth=subscriber.date_of_birth,
                                           service_date=day)),
        case("wrong_dob", query(wrong_dob, date_of_birth=wrong_dob.date_of_birth + timedelta(days=31))),
        case("wrong_last_name", query(wrong_name, last_name=other_name)),
        case("v2_cosmetic", query(cosmetic), faults=V2),
        case("v2_plan_share", query(plan_share), faults=V2, refusal=PLAN_SHARE),
        case("maintenance", query(subscriber), keep="maintenance", faults={"maintenance": True}, refusal=MAINTENANCE),
    ]
