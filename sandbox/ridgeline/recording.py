"""Ridgeline's recorded-page cases, declared for the one recorder (sandbox.recorder.record_declared) and
the ground-truth check (sandbox.recorded_cases).

    .venv/bin/aggregator sandbox record-pages --carrier ridgeline

Which members the cases use is chosen here, deterministically, from the seeded dataset (`plan_cases` for
eligibility, `plan_activity_cases` for authorizations and claims: each case picks the first unused member
or record, in generation order, that fits, preferring the one that makes the case most telling). Each
case says which captured page is kept (its evidence label, and for detail pages the URL it ends with)
and, for a page no record may come out of, what a correct adapter must do with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from aggregator.errors import Outcome
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery, InsuranceType, Relationship
from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED
from sandbox.recorded_cases import DeclaredCase, HandMadeCase, Refusal
from sandbox.ridgeline.benefits_view import meaning_change_for

__all__ = ["HAND_MADE", "RECORDED_WITH", "cases", "meaning_change_for"]

CARRIER = "ridgeline"
RECORDED_WITH = {"seed": DEFAULT_SEED, "as_of": DEFAULT_AS_OF}
ACTIVITY_FLOWS: tuple[str, ...] = ("authorization", "claim_status")

_REFUSALS = {
    "refusal": Refusal("meaning_change", live=Outcome.NEEDS_ATTENTION, offline=Outcome.NEEDS_ATTENTION),
    # parse_answer classifies result pages only: the maintenance page offline is an unexpected page.
    "maintenance": Refusal("maintenance", live=Outcome.RETRY_LATER, offline=Outcome.NEEDS_ATTENTION),
}

# Pages the parser must refuse, each one edit of a recorded page (docs/recorded-pages.md, "Hand-made cases").
HAND_MADE = (
    HandMadeCase("authorization", "edited_unknown_status_word", "detail_approved",
                 r"<b>Approved</b>", "<b>Approved - Provisional</b>"),
    HandMadeCase("claim_status", "edited_total_billed_disagrees_with_lines", "detail_paid_multi_line",
                 r"(Total Billed:.*?&nbsp;)\$[\d,.]+", r"\g<1>$9,999.00", re.DOTALL),
    HandMadeCase("claim_status", "edited_unknown_adjustment_group", "detail_paid_multi_line", r"CO-45 ", "XY-45 "),
    HandMadeCase("claim_status", "edited_pager_without_prev_link", "results_last_page",
                 r'<a href="[^"]*">&lt; Prev</a>', "&nbsp;"),
)


def cases(dataset: Any) -> list[DeclaredCase]:
    declared = [
        DeclaredCase("eligibility", c.name, c.query, "answer", EVIDENCE_LABELS[c.expect],
                     faults={"layout_version": c.layout, "maintenance": c.maintenance},
                     refusal=_REFUSALS.get(c.expect))
        for c in plan_cases(dataset)
    ]
    for flow in ACTIVITY_FLOWS:
        for case in plan_activity_cases(dataset, flow):
            label, marker = _kept_capture(dataset, case)
            declared.append(DeclaredCase(flow, case.name, case.query, _page(flow, case.page), label,
                                         marker=marker, faults={"layout_version": case.layout}))
    return declared


def _page(flow: str, page: str) -> str:
    """This module's page names -> sandbox.ground_truth.recorded_page's."""
    if page == "search":
        return "auth-list" if flow == "authorization" else "answer"
    if page.startswith("results:"):
        return "claim-results:" + page.removeprefix("results:")
    return ("auth:" if flow == "authorization" else "claim:") + page.removeprefix("detail:")


def _kept_capture(dataset: Any, case: ActivityCase) -> tuple[str, str | None]:
    """The evidence label of the page the case keeps, and for a detail page how its URL path ends."""
    from aggregator.scrapers.ridgeline.pages_claims import ClaimResultsListing
    from sandbox import ground_truth

    if case.page.startswith("detail:"):
        number = case.page.removeprefix("detail:")
        return (("authorization-detail", f"/authorizations/{number}") if case.flow == "authorization"
                else ("claim-detail", f"/claims/{number}"))
    if case.flow == "authorization":
        return "authorization-search-result", None
    if case.page == "search":  # a refused claim search: the first (only) results page says so
        return "claim-results-page-1", None
    listing = ground_truth.recorded_page(dataset, CARRIER, case.flow, case.query, _page(case.flow, case.page))
    if not isinstance(listing, ClaimResultsListing):
        raise TypeError(f"{case.page}: the ground truth of a results page is a {type(listing).__name__}")
    return f"claim-results-page-{listing.page}", None


# --- eligibility: which members ------------------------------------------------------------------------

# The committed cases, in recording order (v1 first, then v2, maintenance last). Names are file stems.
CASE_NAMES: tuple[str, ...] = (
    "active_subscriber_individual",
    "active_subscriber_family",
    "dependent_spouse",
    "dependent_child",
    "active_with_termination_date",
    "last_name_with_apostrophe",
    "group_name_with_ampersand",
    "termed",
    "future_effective",
    "hmo_out_of_network_not_covered",
    "epo_no_prior_auth",
    "not_found",
    "wrong_dob",
    "wrong_last_name",
    "v2_cosmetic_ppo_family",
    "v2_cosmetic_hmo",
    "v2_termed_tier_swap_plan",
    "v2_tier_swap",
    "v2_plan_share",
    "maintenance_page",
)

Expect = Literal["record", "not_found", "refusal", "maintenance"]
# The evidence label the adapter gives the page each kind of case ends on.
EVIDENCE_LABELS: dict[Expect, str] = {
    "record": "eligibility-result", "not_found": "eligibility-result", "refusal": "eligibility-result",
    "maintenance": "maintenance",
}


@dataclass(frozen=True)
class RecordingCase:
    name: str
    query: EligibilityQuery
    expect: Expect  # what the case was chosen to show; checked against the ground truth before browsing
    layout: str = "v1"
    maintenance: bool = False



def plan_cases(dataset: Any, names: Iterable[str] | None = None) -> list[RecordingCase]:
    """The cases for `dataset`, deterministic: each picks the first unused member (generation order)
    that fits, preferring the plan that makes the case most telling. A case with no fitting member is
    left out (e.g. no plan without prior-authorization services)."""
    from sandbox import names as name_lists

    wanted = list(CASE_NAMES if names is None else names)
    unknown = [n for n in wanted if n not in CASE_NAMES]
    if unknown:
        raise ValueError(f"unknown case(s): {', '.join(unknown)} (known: {', '.join(CASE_NAMES)})")
    change_for = meaning_change_for
    data = dataset.carrier(CARRIER)
    day: date = dataset.as_of
    used: set[str] = set()

    def kind(m: Any) -> str:
        return m.coverage_kind(day)

    def active(m: Any) -> bool:
        return kind(m) == "active"

    def plan(m: Any) -> Any:
        return data.plan_for(m)

    def change(m: Any) -> str | None:
        return change_for(data, m.member_id, "v2")

    def pick(fits: Callable[[Any], bool], prefer: Callable[[Any], bool] | None = None) -> Any | None:
        members = [m for m in data.members.values() if m.member_id not in used and fits(m)]
        preferred = [m for m in members if prefer(m)] if prefer else []
        chosen = (preferred or members or [None])[0]
        if chosen is not None:
            used.add(chosen.member_id)
        return chosen

    def query(m: Any, *, last_name: bool = False, overrides: dict[str, Any] | None = None) -> EligibilityQuery:
        fields = {"member_id": m.member_id, "date_of_birth": m.date_of_birth, "service_date": day,
                  "last_name": m.last_name if last_name else None}
        return EligibilityQuery.model_validate({**fields, **(overrides or {})})

    def other_last_name(m: Any) -> str:
        return next(n for n in name_lists.LAST if n.casefold() != m.last_name.casefold())

    def ppo(m: Any) -> bool:
        return plan(m).insurance_type is InsuranceType.PPO

    builders: dict[str, Callable[[], RecordingCase | None]] = {
        "active_subscriber_individual": lambda: _found(
            "active_subscriber_individual", pick(lambda m: active(m) and m.is_subscriber and not m.family_coverage,
                                                 lambda m: ppo(m) and change(m) is None), query),
        # The high-deductible plan: coinsurance instead of every copay, plan type "Commercial".
        "active_subscriber_family": lambda: _found(
            "active_subscriber_family", pick(lambda m: active(m) and m.is_subscriber and m.family_coverage,
                                             lambda m: plan(m).insurance_type is InsuranceType.COMMERCIAL), query),
        # v1 page of the plan whose v2 page shows the plan's share (the v1 reading is the reference).
        "dependent_spouse": lambda: _found(
            "dependent_spouse", pick(lambda m: active(m) and m.relationship is Relationship.SPOUSE,
                                     lambda m: change(m) == "plan_share"), query, last_name=True),
        # v1 page of the plan whose v2 page swaps the network tiers.
        "dependent_child": lambda: _found(
            "dependent_child", pick(lambda m: active(m) and m.relationship is Relationship.CHILD,
                                    lambda m: change(m) == "tier_swap"), query),
        "active_with_termination_date": lambda: _found(
            "active_with_termination_date", pick(lambda m: active(m) and m.termination_date is not None), query),
        "last_name_with_apostrophe": lambda: _found(
            "last_name_with_apostrophe", pick(lambda m: active(m) and any(c in m.last_name for c in "'- "),
                                              lambda m: "'" in m.last_name), query, last_name=True),
        "group_name_with_ampersand": lambda: _found(
            "group_name_with_ampersand", pick(lambda m: active(m) and "&" in data.group_for(m).name), query),
        "termed": lambda: _found("termed", pick(lambda m: kind(m) == "termed", lambda m: m.is_subscriber), query),
        "future_effective": lambda: _found("future_effective", pick(lambda m: kind(m) == "future"), query),
        "hmo_out_of_network_not_covered": lambda: _found(
            "hmo_out_of_network_not_covered",
            pick(lambda m: active(m) and not plan(m).has_out_of_network,
                 lambda m: plan(m).insurance_type is InsuranceType.HMO), query),
        "epo_no_prior_auth": lambda: _found(
            "epo_no_prior_auth", pick(lambda m: active(m) and not plan(m).prior_auth,
                                      lambda m: plan(m).insurance_type is InsuranceType.EPO), query),
        "not_found": lambda: RecordingCase(
            "not_found", EligibilityQuery(member_id=data.not_found_ids[0], date_of_birth=date(1980, 1, 1),
                                          service_date=day), "not_found"),
        "wrong_dob": lambda: _found(
            "wrong_dob", pick(active), query, expect="not_found",
            date_of_birth_shift=timedelta(days=31)),
        "wrong_last_name": lambda: _found(
            "wrong_last_name", pick(active), query, expect="not_found", wrong_last_name=other_last_name),
        "v2_cosmetic_ppo_family": lambda: _found(
            "v2_cosmetic_ppo_family", pick(lambda m: active(m) and m.family_coverage and change(m) is None
                                           and plan(m).has_out_of_network, lambda m: ppo(m) and m.is_subscriber),
            query, layout="v2"),
        "v2_cosmetic_hmo": lambda: _found(
            "v2_cosmetic_hmo", pick(lambda m: active(m) and change(m) is None and not plan(m).has_out_of_network,
                                    lambda m: plan(m).insurance_type is InsuranceType.HMO),
            query, layout="v2", last_name=True),
        # A plan with a change of meaning, but inactive coverage shows no benefit tables: ground truth.
        "v2_termed_tier_swap_plan": lambda: _found(
            "v2_termed_tier_swap_plan", pick(lambda m: kind(m) == "termed" and change(m) is not None,
                                             lambda m: change(m) == "tier_swap"), query, layout="v2"),
        "v2_tier_swap": lambda: _found(
            "v2_tier_swap", pick(lambda m: active(m) and change(m) == "tier_swap"), query, layout="v2",
            expect="refusal"),
        "v2_plan_share": lambda: _found(
            "v2_plan_share", pick(lambda m: active(m) and change(m) == "plan_share"), query, layout="v2",
            expect="refusal"),
        "maintenance_page": lambda: _found(
            "maintenance_page", pick(active), query, expect="maintenance", maintenance=True),
    }
    cases = [builders[name]() for name in CASE_NAMES if name in wanted]
    return [c for c in cases if c is not None]


def _found(name: str, member: Any, query: Callable[..., EligibilityQuery], *, expect: Expect = "record",
           layout: str = "v1", maintenance: bool = False, last_name: bool = False,
           date_of_birth_shift: timedelta | None = None,
           wrong_last_name: Callable[[Any], str] | None = None) -> RecordingCase | None:
    if member is None:
        return None
    changes: dict[str, Any] = {}
    if date_of_birth_shift is not None:
        changes["date_of_birth"] = member.date_of_birth + date_of_birth_shift
    if wrong_last_name is not None:
        changes["last_name"] = wrong_last_name(member)
    return RecordingCase(name, query(member, last_name=last_name, overrides=changes), expect, layout, maintenance)



# --- authorizations and claims: which records -----------------------------------------------------------

AUTHORIZATION_CASE_NAMES: tuple[str, ...] = (
    "list_several",
    "list_empty",
    "detail_approved",
    "detail_partially_approved",
    "detail_denied_with_reason",
    "detail_pending",
    "detail_modified",
    "detail_cancelled",
    "detail_contact_payer",
    "detail_exhausted",
    "v2_detail_exhausted",
    "not_found",
    "wrong_dob",
)
CLAIM_CASE_NAMES: tuple[str, ...] = (
    "results_first_page",
    "results_last_page",
    "results_empty",
    "claim_number_search",
    "claim_number_unknown",
    "detail_paid_multi_line",
    "detail_denied",
    "detail_pending",
    "detail_no_payment",
    "detail_received",
    "v2_detail_paid",
    "not_found",
    "wrong_dob",
)
FLOW_CASE_NAMES: dict[str, tuple[str, ...]] = {
    "eligibility": CASE_NAMES, "authorization": AUTHORIZATION_CASE_NAMES, "claim_status": CLAIM_CASE_NAMES,
}
UNKNOWN_CLAIM_NUMBER = "26001999999"  # well-formed (YYDDD + 6 digits); the ground truth shows nobody has it


@dataclass(frozen=True)
class ActivityCase:
    name: str
    flow: str  # "authorization" | "claim_status"
    query: AuthorizationQuery | ClaimQuery
    page: str  # which page the case keeps: "search" (list or refusal), "results:<n>", "results:last", "detail:<number>"
    layout: str = "v1"


def plan_activity_cases(dataset: Any, flow: str, names: Iterable[str] | None = None) -> list[ActivityCase]:
    """The authorization or claim status cases for `dataset`, deterministic (generation order, each
    member used once where the data allows). A case with no fitting record is left out."""
    from sandbox import ground_truth as gt
    from sandbox.activity import CLAIM_LOOKBACK_DAYS

    carrier = CARRIER
    known = FLOW_CASE_NAMES.get(flow)
    if known is None or flow == "eligibility":
        raise ValueError(f"unknown activity flow '{flow}' (known: {', '.join(ACTIVITY_FLOWS)})")
    wanted = list(known if names is None else names)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown {flow} case(s): {', '.join(unknown)} (known: {', '.join(known)})")
    data = dataset.carrier(carrier)
    used: set[str] = set()
    start, end = dataset.as_of - timedelta(days=CLAIM_LOOKBACK_DAYS), dataset.as_of

    def take(items: Iterable[Any], fits: Callable[[Any], bool], prefer: Callable[[Any], bool] | None = None) -> Any:
        """The first fitting item (by generation order) whose member is unused, preferring `prefer`."""
        fitting = [i for i in items if fits(i)]
        fresh = [i for i in fitting if i.member_id not in used] or fitting
        chosen = ([i for i in fresh if prefer(i)] if prefer else []) or fresh or [None]
        if chosen[0] is not None:
            used.add(chosen[0].member_id)
        return chosen[0]

    def member_query(member_id: str, dob: date) -> AuthorizationQuery | ClaimQuery:
        if flow == "authorization":
            return AuthorizationQuery(member_id=member_id, date_of_birth=dob)
        return ClaimQuery(member_id=member_id, date_of_birth=dob, service_from=start, service_to=end)

    def member_case(name: str, member: Any, page: str = "search", dob_shift: int = 0) -> ActivityCase | None:
        if member is None:
            return None
        used.add(member.member_id)
        return ActivityCase(name, flow, member_query(member.member_id,
                                                     member.date_of_birth + timedelta(days=dob_shift)), page)

    def not_found() -> ActivityCase:
        return ActivityCase("not_found", flow, member_query(data.not_found_ids[0], date(1980, 1, 1)), "search")

    if flow == "authorization":
        auths = list(data.authorizations.values())

        def exhausted(a: Any) -> bool:
            return any(s.approved and not s.remaining for s in a.services)

        def detail(name: str, fits: Callable[[Any], bool], prefer: Callable[[Any], bool] | None = None,
                   layout: str = "v1") -> ActivityCase | None:
            auth = take(auths, fits, prefer)
            if auth is None:
                return None
            member = data.member(auth.member_id)
            return ActivityCase(name, flow, member_query(member.member_id, member.date_of_birth),
                                f"detail:{auth.auth_number}", layout)

        def status(code: str) -> Callable[[Any], bool]:
            return lambda a: a.status.value == code

        with_reason: Callable[[Any], bool] = lambda a: a.decision_reason is not None  # noqa: E731
        builders: dict[str, Callable[[], ActivityCase | None]] = {
            "list_several": lambda: member_case(
                "list_several", next(iter(gt.members_with_authorizations(dataset, carrier, 3)), None)),
            "list_empty": lambda: member_case(
                "list_empty", next((m for m in gt.members_without_authorizations(dataset, carrier)
                                    if m.member_id not in used), None)),
            "detail_approved": lambda: detail("detail_approved", lambda a: status("A1")(a) and not exhausted(a)),
            "detail_partially_approved": lambda: detail("detail_partially_approved", status("A2"), with_reason),
            "detail_denied_with_reason": lambda: detail(
                "detail_denied_with_reason", lambda a: status("A3")(a) and with_reason(a)),
            "detail_pending": lambda: detail("detail_pending", status("A4"), with_reason),
            "detail_modified": lambda: detail("detail_modified", status("A6")),
            "detail_cancelled": lambda: detail("detail_cancelled", status("C")),
            "detail_contact_payer": lambda: detail("detail_contact_payer", status("CT")),
            "detail_exhausted": lambda: detail("detail_exhausted", exhausted, status("A1")),
            "v2_detail_exhausted": lambda: detail("v2_detail_exhausted", exhausted,
                                                  lambda a: a.status.value in ("A2", "A6"), layout="v2"),
            "not_found": not_found,
            "wrong_dob": lambda: member_case(
                "wrong_dob", next((m for m in gt.members_with_authorizations(dataset, carrier)
                                   if m.member_id not in used), None), dob_shift=31),
        }
    else:
        claims = list(data.claims.values())
        many = gt.members_with_many_claims(dataset, carrier)

        def detail(name: str, fits: Callable[[Any], bool], prefer: Callable[[Any], bool] | None = None,
                   layout: str = "v1") -> ActivityCase | None:
            claim = take(claims, fits, prefer)
            if claim is None:
                return None
            return ActivityCase(name, flow, ClaimQuery(claim_number=claim.claim_number),
                                f"detail:{claim.claim_number}", layout)

        def category(*codes: str) -> Callable[[Any], bool]:
            return lambda c: c.status_category.value in codes

        def multi_line_paid(c: Any) -> bool:
            groups = {a.group.value for line in c.lines for a in line.adjustments}
            return category("F1")(c) and len(c.lines) > 1 and {"CO", "PR"} <= groups

        def number_case(name: str, number: str | None) -> ActivityCase | None:
            return None if number is None else ActivityCase(name, flow, ClaimQuery(claim_number=number), "results:1")

        builders = {
            "results_first_page": lambda: member_case("results_first_page", many[0] if many else None, "results:1"),
            "results_last_page": lambda: member_case("results_last_page", many[1] if len(many) > 1 else None,
                                                     "results:last"),
            "results_empty": lambda: member_case(
                "results_empty", next((m for m in data.members.values() if m.member_id not in used
                                       and not data.claims_for(m.member_id)), None), "results:1"),
            "claim_number_search": lambda: number_case(
                "claim_number_search", getattr(take(claims, category("F3")), "claim_number", None)),
            "claim_number_unknown": lambda: number_case(
                "claim_number_unknown", None if UNKNOWN_CLAIM_NUMBER in data.claims else UNKNOWN_CLAIM_NUMBER),
            "detail_paid_multi_line": lambda: detail("detail_paid_multi_line", multi_line_paid),
            "detail_denied": lambda: detail("detail_denied", category("F2"), lambda c: len(c.lines) > 1),
            "detail_pending": lambda: detail("detail_pending", category("P0", "P1", "P2", "P3", "P4"),
                                             category("P0")),
            "detail_no_payment": lambda: detail("detail_no_payment", category("F4")),
            "detail_received": lambda: detail("detail_received", category("A1")),
            "v2_detail_paid": lambda: detail("v2_detail_paid", multi_line_paid, layout="v2"),
            "not_found": not_found,
            "wrong_dob": lambda: member_case(
                "wrong_dob", next((m for m in data.members.values() if m.member_id not in used
                                   and data.claims_for(m.member_id)), None), "search", dob_shift=31),
        }
    cases = [builders[name]() for name in known if name in wanted]
    return [c for c in cases if c is not None]

