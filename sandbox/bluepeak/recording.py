"""BluePeak's recorded-page cases, declared for the one recorder (sandbox.recorder.record_declared)
and the ground-truth check (sandbox.recorded_cases).

    .venv/bin/aggregator sandbox record-pages --carrier bluepeak

Each case keeps one captured screen of a real lookup in Chromium (the rendered DOM with every accordion
open, plus the API responses the page loaded) as `<out>/bluepeak/<flow>/<case>.html`; its expected file
is the sandbox's ground truth of the whole answer (`page="answer"`: a single-page app's result screen
shows everything the lookup returns), or the refusal a correct adapter must give.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aggregator.errors import Outcome
from aggregator.models import AuthorizationQuery, ClaimQuery
from aggregator.models.codes import ClaimStatusCategory
from sandbox import ground_truth
from sandbox.bluepeak.api_views import meaning_change_for
from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED, Dataset
from sandbox.recorded_cases import DeclaredCase, Refusal

__all__ = ["HAND_MADE", "RECORDED_WITH", "cases", "meaning_change_for"]

CARRIER = "bluepeak"
RECORDED_WITH = {"seed": DEFAULT_SEED, "as_of": DEFAULT_AS_OF}
HAND_MADE = ()  # no edited pages: the mutation suites cover BluePeak's refusals
NEEDS_ATTENTION, RETRY_LATER = Outcome.NEEDS_ATTENTION, Outcome.RETRY_LATER


def _case(flow: str, name: str, query: Any, keep: str, faults: dict[str, Any] | None = None,
          refusal: Refusal | None = None) -> DeclaredCase:
    return DeclaredCase(flow, name, query, "answer", keep, faults=faults or {}, refusal=refusal)


def _meaning(error_type: str) -> Refusal:
    return Refusal("meaning_change", live=NEEDS_ATTENTION, offline=NEEDS_ATTENTION, type=error_type)


# The maintenance page and the rate-limit screen say so themselves: retry later, live and offline.
MAINTENANCE = Refusal("maintenance", live=RETRY_LATER, offline=RETRY_LATER, type="PortalMaintenance")
RATE_LIMITED = Refusal("rate_limit", live=RETRY_LATER, offline=RETRY_LATER, type="RateLimited")


def cases(dataset: Dataset) -> list[DeclaredCase]:
    data = dataset.carrier(CARRIER)
    samples = ground_truth.sample_members(dataset, CARRIER, 40, kinds=(
        "active_subscriber", "dependent", "termed", "not_found", "wrong_dob", "wrong_last_name"))
    first = {s.kind: s for s in reversed(samples)}
    family = next(s for s in samples if s.kind == "active_subscriber" and s.member and s.member.family_coverage)
    hmo = next(s for s in samples if s.member and s.kind in ("active_subscriber", "dependent")
               and data.plan_for(s.member).code == "BPH300")
    changes = {meaning_change_for(data, s.query.required_member_id, "v2"): s for s in samples
               if s.kind in ("active_subscriber", "dependent")}
    holders = ground_truth.members_with_authorizations(dataset, CARRIER, minimum=2)
    empty = ground_truth.members_without_authorizations(dataset, CARRIER)[0]
    heavy = ground_truth.members_with_many_claims(dataset, CARRIER)[0]
    paid = ground_truth.claims_by_category(dataset, CARRIER)[ClaimStatusCategory.FINALIZED_PAYMENT][0]

    def auth_query(member: Any, shift: int = 0) -> AuthorizationQuery:
        return AuthorizationQuery(member_id=member.member_id, date_of_birth=member.date_of_birth + timedelta(days=shift))

    member_claims = ground_truth.member_claims_query(dataset, CARRIER, heavy.member_id)
    v2 = {"layout_version": "v2"}
    return [
        _case("eligibility", "active_family", family.query, "eligibility-result"),
        _case("eligibility", "dependent", first["dependent"].query, "eligibility-result"),
        _case("eligibility", "termed", first["termed"].query, "eligibility-result"),
        _case("eligibility", "hmo_out_of_network_not_covered", hmo.query, "eligibility-result"),
        _case("eligibility", "not_found", first["not_found"].query, "eligibility-candidates"),
        _case("eligibility", "wrong_dob", first["wrong_dob"].query, "eligibility-candidates"),
        _case("eligibility", "wrong_last_name", first["wrong_last_name"].query, "eligibility-candidates"),
        _case("eligibility", "v2_cosmetic", changes[None].query, "eligibility-result", v2),
        _case("eligibility", "v2_tier_labels", changes["tier_labels"].query, "eligibility-result", v2,
             _meaning("UnmappedValue")),
        _case("eligibility", "v2_plan_share", changes["plan_share"].query, "eligibility-result", v2,
             _meaning("ParseError")),
        _case("eligibility", "maintenance", family.query, "maintenance", {"maintenance": True}, MAINTENANCE),
        _case("authorization", "several", auth_query(holders[0]), "authorization-result"),
        _case("authorization", "none_on_file", auth_query(empty), "authorization-result"),
        _case("authorization", "not_found", AuthorizationQuery(member_id=data.not_found_ids[0],
                                                              date_of_birth=empty.date_of_birth), "authorization-candidates"),
        _case("authorization", "wrong_dob", auth_query(holders[1], 1), "authorization-candidates"),
        _case("authorization", "v2_several", auth_query(holders[2]), "authorization-result", v2),
        _case("authorization", "rate_limited", auth_query(holders[0]), "rate-limited", {"rate_limit": 1}, RATE_LIMITED),
        _case("claim_status", "member_many_claims", member_claims, "claim_status-result"),
        _case("claim_status", "claim_number_paid", ClaimQuery(claim_number=paid.claim_number), "claim_status-result"),
        _case("claim_status", "claim_number_unknown", ClaimQuery(claim_number="BP2601019999999"), "claim_status-result"),
        _case("claim_status", "not_found", member_claims.model_copy(update={"member_id": data.not_found_ids[1]}),
             "claim_status-candidates"),
        _case("claim_status", "v2_member_claims", member_claims, "claim_status-result", v2),
        _case("claim_status", "maintenance", member_claims, "maintenance", {"maintenance": True}, MAINTENANCE),
    ]
