"""Crossway's recorded-page cases: which pages of the hub are kept, for which payer and query, and what a
correct adapter must make of each (sandbox.recorded_cases).

    .venv/bin/python -m sandbox.crossway.recording_pages      # writes tests/recorded_pages/crossway/

A hub answers for several payers, so every case names its payer (`PAYER_OF`, by case stem) and its ground
truth is the hub's (`page_truth`: `sandbox.crossway.truth` on `crossway_dataset(dataset)`), never the parser's
output. The generic recorder (sandbox/recorder.py) drives one carrier portal with the runner; the hub's pages
are recorded in process by `recording_pages.py` (both apps over ASGI, the same HTML the hub serves).

Members are chosen deterministically from the seeded dataset (the first fitting one in generation order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aggregator.errors import Outcome
from aggregator.models import ClaimQuery, EligibilityQuery, InsuranceType
from sandbox.crossway.payers import crossway_dataset, prior_enrollments
from sandbox.crossway.results import meaning_change_for as _hub_meaning_change_for
from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED
from sandbox.recorded_cases import DeclaredCase, HandMadeCase, Refusal

__all__ = ["HAND_MADE", "PAYER_OF", "RECORDED_WITH", "SCREENS", "cases", "meaning_change_for", "page_truth"]

PORTAL = "crossway"
RECORDED_WITH: dict[str, Any] = {"seed": DEFAULT_SEED, "as_of": DEFAULT_AS_OF}
LAYOUT = {"harborview": "sections", "prairie": "pivot", "ridgeline": "standard"}

_REFUSE = {
    "meaning_change": Refusal("meaning_change", live=Outcome.NEEDS_ATTENTION, offline=Outcome.NEEDS_ATTENTION),
    "maintenance": Refusal("maintenance", live=Outcome.RETRY_LATER, offline=Outcome.RETRY_LATER,
                           type="PortalMaintenance"),
    "rate_limit": Refusal("rate_limit", live=Outcome.RETRY_LATER, offline=Outcome.RETRY_LATER, type="RateLimited"),
    "daily_limit": Refusal("maintenance", live=Outcome.RETRY_LATER, offline=Outcome.RETRY_LATER,
                           type="DailyLimitReached"),
}

# The screens on the way to an answer (sign-in, pickers, forms): no answer may come out of them.
SCREENS = ("screen_landing", "screen_idp_login", "screen_idp_mfa", "screen_idp_consent", "screen_organizations",
           "screen_providers", "screen_payers", "screen_search_form", "screen_signin_error",
           # Crossway ID's other second factors and its account pages (issue 15)
           "screen_idp_mfa_sms", "screen_idp_push", "screen_idp_account", "screen_idp_password_form")

# Pages the parser must refuse, each one edit of a recorded page (docs/recorded-pages.md, "Hand-made cases").
HAND_MADE = (
    HandMadeCase("eligibility", "edited_benefit_lines_count_off", "harborview_active_family",
                 r"<dt>Benefit Lines</dt><dd>(\d+)</dd>", r"<dt>Benefit Lines</dt><dd>1\g<1></dd>"),
    HandMadeCase("eligibility", "edited_other_payers_id", "prairie_active_subscriber",
                 r"<dd>PRMU4</dd>", "<dd>HRBVW</dd>"),
    HandMadeCase("eligibility", "edited_unknown_service_word", "ridgeline_active_subscriber",
                 r"<td>Office Visit</td>", "<td>Office Visit (Telehealth)</td>"),
    HandMadeCase("claim_status", "edited_claim_count_off", "ridgeline_claim_results",
                 r'<p id="claim-count">(\d+) claim', r'<p id="claim-count">9\g<1> claim'),
)


def meaning_change_for(data: Any, member_id: str | None, layout_version: str) -> str | None:
    """The v2 change of meaning of a member's page (only the pivot layout, Prairie Mutual, has one)."""
    if member_id is None or data.profile.slug not in LAYOUT:
        return None
    return _hub_meaning_change_for(data, member_id, LAYOUT[data.profile.slug], layout_version)  # type: ignore[arg-type]


@dataclass(frozen=True)
class HubCase:
    flow: str
    name: str
    payer: str
    query: Any
    page: str  # "answer", "candidates", "claim-results", "claim:<number>", "screen:<which>"
    faults: dict[str, Any]
    refusal: Refusal | None = None
    setup: str | None = None  # "daily_limit" | "too_fast": what the recorder does to the hub first


def hub_cases(dataset: Any) -> list[HubCase]:
    hub = crossway_dataset(dataset)
    day: date = dataset.as_of
    found: list[HubCase] = []
    used: set[str] = set()

    def pick(payer: str, fits: Any) -> Any:
        data = hub.carrier(payer)
        member = next((m for m in data.members.values() if m.member_id not in used and fits(m, data)), None)
        if member is not None:
            used.add(member.member_id)
        return member

    def eq(member: Any, **change: Any) -> EligibilityQuery:
        fields = {"member_id": member.member_id, "date_of_birth": member.date_of_birth, "service_date": day}
        return EligibilityQuery.model_validate({**fields, **change})

    def add(name: str, payer: str, query: Any, page: str = "answer", flow: str = "eligibility",
            faults: dict[str, Any] | None = None, refusal: str | None = None, setup: str | None = None) -> None:
        found.append(HubCase(flow, name, payer, query, page, faults or {}, _REFUSE.get(refusal or ""), setup))

    def active(m: Any, data: Any) -> bool:
        return bool(m.coverage_kind(day) == "active")

    for payer in LAYOUT:
        add(f"{payer}_active_subscriber", payer,
            eq(pick(payer, lambda m, d: active(m, d) and m.is_subscriber and not m.family_coverage)))
        add(f"{payer}_active_family", payer, eq(pick(payer, lambda m, d: active(m, d) and m.family_coverage)))
        add(f"{payer}_dependent", payer, eq(pick(payer, lambda m, d: active(m, d) and not m.is_subscriber)))
        add(f"{payer}_termed", payer, eq(pick(payer, lambda m, d: m.coverage_kind(day) == "termed")))
        add(f"{payer}_not_found", payer, EligibilityQuery(member_id=hub.carrier(payer).not_found_ids[0],
                                                          date_of_birth=date(1980, 1, 1), service_date=day))
        wrong = pick(payer, active)
        add(f"{payer}_wrong_dob", payer, eq(wrong, date_of_birth=wrong.date_of_birth + timedelta(days=31)))
    add("prairie_hmo_or_epo", "prairie", eq(pick("prairie", lambda m, d: active(m, d) and d.plan_for(m).insurance_type
                                                  in (InsuranceType.EPO, InsuranceType.HMO))))
    # Prairie v2: cosmetic for every plan but PMH1500, whose co-insurance states the plan's share.
    prairie = hub.carrier("prairie")
    cosmetic = pick("prairie", lambda m, d: active(m, d) and meaning_change_for(d, m.member_id, "v2") is None)
    add("prairie_v2_cosmetic", "prairie", eq(cosmetic), faults={"layout_version": "v2"})
    changed = pick("prairie", lambda m, d: active(m, d) and meaning_change_for(d, m.member_id, "v2") is not None)
    add("prairie_v2_plan_share", "prairie", eq(changed), faults={"layout_version": "v2"}, refusal="meaning_change")
    del prairie
    # Harborview by name: one match (the result directly), and a person with a prior enrollment (two).
    harbor = hub.carrier("harborview")
    pairs = prior_enrollments(harbor)
    twins = {m.member_id for pair in pairs for m in pair}
    single = pick("harborview", lambda m, d: active(m, d) and m.member_id not in twins and sum(
        (o.first_name, o.last_name, o.date_of_birth) == (m.first_name, m.last_name, m.date_of_birth)
        for o in d.members.values()) == 1)
    add("harborview_by_name", "harborview", EligibilityQuery(first_name=single.first_name, last_name=single.last_name,
                                                             date_of_birth=single.date_of_birth, service_date=day))
    _, current = pairs[0]
    add("harborview_candidates", "harborview", EligibilityQuery(
        first_name=current.first_name, last_name=current.last_name, date_of_birth=current.date_of_birth,
        service_date=day), page="candidates")
    limited = pick("ridgeline", active)
    add("daily_limit", "ridgeline", eq(limited), setup="daily_limit", refusal="daily_limit")
    add("too_many_requests", "ridgeline", eq(limited), setup="too_fast", refusal="rate_limit")
    add("maintenance", "ridgeline", eq(limited), faults={"maintenance": True}, refusal="maintenance")
    for screen in SCREENS:
        add(screen, "ridgeline", eq(limited), page=f"screen:{screen}")

    # Claim status: a results list and a detail page per payer, an empty list, a member not found.
    from sandbox import ground_truth

    for payer in LAYOUT:
        many = ground_truth.members_with_many_claims(hub, payer, 3)
        member = many[0]
        query = ground_truth.member_claims_query(hub, payer, member.member_id)
        add(f"{payer}_claim_results", payer, query, page="claim-results", flow="claim_status")
        listed = ground_truth.claims(hub, payer, query)
        first = sorted(listed.claims, key=lambda c: c.payer_claim_number)[0]  # type: ignore[union-attr]
        add(f"{payer}_claim_detail", payer, query, page=f"claim:{first.payer_claim_number}", flow="claim_status")
    ridge = hub.carrier("ridgeline")
    quiet = next(m for m in ridge.members.values() if not ridge.claims_for(m.member_id))
    add("ridgeline_claims_none", "ridgeline", ground_truth.member_claims_query(hub, "ridgeline", quiet.member_id),
        page="claim-results", flow="claim_status")
    add("prairie_claims_not_found", "prairie", ClaimQuery(
        member_id=hub.carrier("prairie").not_found_ids[0], date_of_birth=date(1980, 1, 1),
        service_from=day - timedelta(days=365), service_to=day), flow="claim_status")
    return found


def cases(dataset: Any) -> list[DeclaredCase]:
    """The declared cases (sandbox.recorded_cases); their payer is `PAYER_OF[case.stem]`."""
    declared = []
    for case in hub_cases(dataset):
        keep = {"answer": f"{case.flow}-result", "candidates": "candidates", "claim-results": "claim-results"}.get(
            case.page, case.page.replace(":", "-"))
        declared.append(DeclaredCase(case.flow, case.name, case.query, case.page, keep, faults=case.faults,
                                     refusal=case.refusal))
    return declared


def payer_of(dataset: Any) -> dict[str, str]:
    return {f"{c.flow}/{c.name}": c.payer for c in hub_cases(dataset)}


PAYER_OF = payer_of  # stem -> payer, for a dataset: `PAYER_OF(dataset)[case.stem]`


def page_truth(dataset: Any, payer: str, case: DeclaredCase) -> Any:
    """The ground truth of a kept hub page: a record, a page model, or None for a screen (no answer)."""
    from aggregator.scrapers.crossway.claims import ClaimResultsListing
    from aggregator.scrapers.crossway.pages import Candidate, CandidateListing
    from sandbox import ground_truth
    from sandbox.crossway import truth

    hub = crossway_dataset(dataset)
    if case.page.startswith("screen:"):
        return None
    if case.flow == "eligibility" and case.page == "candidates":
        query = case.query
        rows = []
        for m in truth.name_candidates(hub, payer, query.first_name, query.last_name, query.date_of_birth):
            kind = m.coverage_kind(dataset.as_of)
            rows.append(Candidate(
                member_id=m.member_id, last_name=m.last_name, first_name=m.first_name, date_of_birth=m.date_of_birth,
                relationship=m.relationship,
                coverage="Active" if kind == "active" else
                f"{kind.title()} ({m.effective_date:%m/%d/%Y} - "
                f"{m.termination_date.strftime('%m/%d/%Y') if m.termination_date else '—'})",
                coverage_from=None if kind == "active" else m.effective_date,
                coverage_to=None if kind == "active" else m.termination_date))
        return CandidateListing(carrier=payer, rows=tuple(rows))
    if case.flow == "eligibility":
        query = case.query
        if query.by_name:
            (member,) = truth.name_candidates(hub, payer, query.first_name, query.last_name, query.date_of_birth)
            query = EligibilityQuery(member_id=member.member_id, date_of_birth=query.date_of_birth,
                                     service_date=query.service_date)
            return truth.eligibility(hub, payer, query)
        return truth.eligibility(hub, payer, query)
    found = truth.claims(hub, payer, case.query)
    if not hasattr(found, "claims"):
        from aggregator.models import MemberNotFound

        return MemberNotFound(carrier=payer, query=case.query, reject_reason=found)
    if case.page == "claim-results":
        ordered = sorted(found.claims, key=lambda c: (c.service_from, c.payer_claim_number), reverse=True)
        return ClaimResultsListing(
            carrier=payer, member_id=case.query.member_id, date_of_birth=case.query.date_of_birth,
            service_from=case.query.service_from, service_to=case.query.service_to, total=len(ordered),
            rows=tuple(ground_truth.claim_row(c) for c in ordered))
    return ground_truth.record_on_page(found.claims, case.page, "claim:", lambda c: c.payer_claim_number)
