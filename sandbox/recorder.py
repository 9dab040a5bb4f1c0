"""Record the sandbox's pages as offline test cases, each checked live against the sandbox's ground truth.

The recorder of every carrier is `record_declared` (at the end of this module; `aggregator sandbox
record-pages`): it records the cases a carrier declares (sandbox.recorded_cases,
sandbox/<carrier>/recording.py). What follows first is Ridgeline's case selection, which its declaration
uses, and `record_pages`, Ridgeline's original entry point of the same design, kept for its tests.

`record_pages` starts the sandbox portal on loopback (ephemeral port), puts its provider accounts into
a throwaway vault in a temporary data directory, and drives the real runner and adapter with a real
Chromium through a fixed list of cases per flow (`FLOW_CASE_NAMES`: eligibility `CASE_NAMES`,
`AUTHORIZATION_CASE_NAMES`, `CLAIM_CASE_NAMES`). For every case it keeps the HTML of one captured page
exactly as the browser captured it (an evidence entry of the lookup, byte for byte) and writes

    <out_dir>/<carrier>/<flow>/<case>.html
    <out_dir>/<carrier>/<flow>/<case>.expected.json

Eligibility keeps the lookup's last page (below). An authorization or claim status lookup reads several
pages (list or results pages, then every detail page); the case names the one it keeps, and its
expected content is built from the ground truth as well (see "authorization and claim status cases").

`expected.json` is `{"query": ..., "record": ...}` where the record (or MemberNotFound) is
`sandbox.ground_truth.eligibility(...)`, never the parser's output; or `{"query": ..., "error": {"type",
"outcome", "reason"}}` for pages no record may come out of (v2 changes of meaning, the maintenance
page), where the outcome is fixed by what a correct adapter must do and only the type and the reason
wording are taken from the adapter.

A recording run is itself a check: a case whose live lookup disagrees with the ground truth (a
different record, a record where the adapter must refuse, an outcome of the wrong kind) is refused.
If any case is refused, nothing is written and `RecordingMismatch` lists every disagreement; the
temporary data directory (evidence PNG + HTML) is kept for inspection.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from aggregator.errors import AggregatorError, Outcome
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimList,
    ClaimQuery,
    ClaimStatus,
    CoverageStatus,
    EligibilityQuery,
    EligibilityRecord,
    InsuranceType,
    MemberNotFound,
    RejectReason,
    Relationship,
)
from aggregator.scrapers.registry import adapter_for

FLOW = "eligibility"
DEFAULT_SEED = 20261127  # sandbox.dataset.DEFAULT_SEED (repeated so importing this module needs no sandbox)

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


@dataclass
class RecordedCase:
    case: RecordingCase | ActivityCase
    html: bytes
    expected: dict[str, Any]
    flow: str = FLOW


class RecordingMismatch(Exception):
    """At least one live lookup disagreed with the ground truth; nothing was written."""

    def __init__(self, problems: list[str], kept_data_dir: Path | None = None) -> None:
        self.problems = problems
        self.kept_data_dir = kept_data_dir
        where = f"\nevidence of the run is kept in {kept_data_dir}" if kept_data_dir else ""
        super().__init__(f"{len(problems)} case(s) disagree with the sandbox's ground truth, nothing written:\n"
                         + "\n".join(f"  - {p}" for p in problems) + where)


# --- which members --------------------------------------------------------------------------------

def _meaning_change_function(carrier: str) -> Callable[[Any, str, str], str | None]:
    if carrier == "ridgeline":
        from sandbox.ridgeline.benefits_view import meaning_change_for

        return meaning_change_for
    raise ValueError(f"no recorded-page plan for carrier '{carrier}' (available: ridgeline)")


def plan_cases(dataset: Any, carrier: str = "ridgeline", names: Iterable[str] | None = None) -> list[RecordingCase]:
    """The cases for `dataset`, deterministic: each picks the first unused member (generation order)
    that fits, preferring the plan that makes the case most telling. A case with no fitting member is
    left out (e.g. no plan without prior-authorization services)."""
    from sandbox import names as name_lists

    wanted = list(CASE_NAMES if names is None else names)
    unknown = [n for n in wanted if n not in CASE_NAMES]
    if unknown:
        raise ValueError(f"unknown case(s): {', '.join(unknown)} (known: {', '.join(CASE_NAMES)})")
    change_for = _meaning_change_function(carrier)
    data = dataset.carrier(carrier)
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


def truth_kind(dataset: Any, carrier: str, case: RecordingCase) -> tuple[Expect, EligibilityRecord | MemberNotFound]:
    """What the sandbox's ground truth says this case is, independent of any adapter."""
    from sandbox.ground_truth import eligibility

    truth = eligibility(dataset, carrier, case.query)
    if case.maintenance:
        return "maintenance", truth
    if isinstance(truth, MemberNotFound):
        return "not_found", truth
    change = _meaning_change_function(carrier)(dataset.carrier(carrier), case.query.member_id, case.layout)
    # A change of meaning is only on the page when there are benefit tables: active coverage.
    if change is not None and truth.coverage.status is CoverageStatus.ACTIVE:
        return "refusal", truth
    return "record", truth


# --- recording ------------------------------------------------------------------------------------

def _offline(carrier: str, html: str, query: Any, flow: str = FLOW) -> dict[str, Any]:
    """Exactly what tests/test_recorded_pages.py computes for a case."""
    try:
        answer = adapter_for(carrier).parse_answer(flow, html, query)
    except AggregatorError as error:
        return {"error": {"type": type(error).__name__, "outcome": error.outcome.value, "reason": error.reason,
                          "code": error.code}}
    return {"record": answer.model_dump(mode="json")}


def _differences(actual: dict[str, Any], expected: dict[str, Any]) -> str:
    keys = sorted(k for k in set(actual) | set(expected) if actual.get(k) != expected.get(k))
    return "fields differ: " + ", ".join(keys) if keys else "no field differs"


def check_case(case: RecordingCase, expect: Expect, truth: EligibilityRecord | MemberNotFound,
               result: Any, html: str, carrier: str) -> tuple[dict[str, Any] | None, str | None]:
    """(expected-file content, None) when the live lookup agrees with the ground truth, else (None, problem)."""
    query_json = case.query.model_dump(mode="json")
    outcome = result.outcome
    offline = _offline(carrier, html, case.query)
    if expect in ("record", "not_found"):
        wanted = Outcome.FOUND if expect == "record" else Outcome.NOT_FOUND
        truth_json = truth.model_dump(mode="json")
        if outcome is not wanted or result.answer is None:
            return None, (f"{case.name}: live outcome {outcome.value} ({result.reason_code}: {result.reason}), "
                          f"ground truth is {wanted.value}")
        live = result.answer.without_provenance().model_dump(mode="json")
        if live != truth_json:
            return None, f"{case.name}: live answer differs from ground truth ({_differences(live, truth_json)})"
        if offline != {"record": truth_json}:
            return None, f"{case.name}: offline parse of the captured page differs from ground truth ({offline})"
        return {"query": query_json, "record": truth_json}, None
    if expect == "refusal":
        if outcome is not Outcome.NEEDS_ATTENTION or result.answer is not None:
            return None, (f"{case.name}: live outcome {outcome.value} ({result.reason_code}); a page with a change "
                          "of meaning must end in needs_attention with no record")
    else:  # maintenance: the live lookup must say so; the page alone is no answer either
        if outcome is not Outcome.RETRY_LATER or result.reason_code != "portal_maintenance":
            return None, (f"{case.name}: live outcome {outcome.value} ({result.reason_code}); the maintenance page "
                          "must end in retry_later (portal_maintenance)")
    error = offline.get("error")
    if error is None or error["outcome"] != Outcome.NEEDS_ATTENTION.value:
        return None, f"{case.name}: offline parse of the captured page must refuse with needs_attention, got {offline}"
    if expect == "refusal" and error["code"] != result.reason_code:
        return None, (f"{case.name}: live lookup refused with {result.reason_code}, offline parse with "
                      f"{error['code']}")
    return {"query": query_json, "error": {k: error[k] for k in ("type", "outcome", "reason")}}, None


def _write_atomic(path: Path, data: bytes) -> None:
    """Write-then-rename, readable by all (synthetic sandbox data, committed to the repository; the
    product's owner-only umask is for real data directories)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def expected_json(content: dict[str, Any]) -> bytes:
    """The same formatting as the test's update mode, so regenerating gives no spurious diff."""
    return (json.dumps(content, indent=2, sort_keys=True) + "\n").encode("utf-8")


OnCase = Callable[[str, int, int], None]  # (case name, cases done, total); name "" once all are done


# --- authorization and claim status cases ---------------------------------------------------------
#
# A lookup of these flows reads several pages (a list, or every results page, then every detail page);
# a case keeps one of them. Its expected content is built from the ground truth: the record for a detail
# page, `MemberNotFound` for a refused search, and for a list or results page the page model the parser
# returns (`AuthListing`, `ClaimResultsListing`) filled from the ground-truth records, in the order and
# the slices of 10 the portal documents (sandbox/README.md). The live lookup's whole answer must equal
# the ground truth too, and every page it read must be evidence named in its provenance.

ACTIVITY_FLOWS: tuple[str, ...] = ("authorization", "claim_status")
FLOWS: tuple[str, ...] = (FLOW, *ACTIVITY_FLOWS)

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
    FLOW: CASE_NAMES, "authorization": AUTHORIZATION_CASE_NAMES, "claim_status": CLAIM_CASE_NAMES,
}
UNKNOWN_CLAIM_NUMBER = "26001999999"  # well-formed (YYDDD + 6 digits); the recorder checks nobody has it


@dataclass(frozen=True)
class ActivityCase:
    name: str
    flow: str  # "authorization" | "claim_status"
    query: AuthorizationQuery | ClaimQuery
    page: str  # which page the case keeps: "search" (list or refusal), "results:<n>", "results:last", "detail:<number>"
    layout: str = "v1"


@dataclass(frozen=True)
class ActivityTruth:
    """What the ground truth says about a case, before any browsing."""

    answer: AuthorizationList | ClaimList | MemberNotFound  # the whole lookup's answer
    page: Any  # what the kept page must parse to (a record or a page model)
    label: str  # the evidence label the adapter gives the kept page
    url_suffix: str | None  # detail pages: how the kept page's URL path ends
    pages_read: int  # how many pages the lookup must capture (all of them answer pages)


def _activity_check_carrier(carrier: str) -> None:
    if carrier != "ridgeline":
        raise ValueError(f"no recorded-page plan for carrier '{carrier}' (available: ridgeline)")


def plan_activity_cases(dataset: Any, carrier: str, flow: str, names: Iterable[str] | None = None) -> list[ActivityCase]:
    """The authorization or claim status cases for `dataset`, deterministic (generation order, each
    member used once where the data allows). A case with no fitting record is left out."""
    from sandbox import ground_truth as gt
    from sandbox.activity import CLAIM_LOOKBACK_DAYS

    _activity_check_carrier(carrier)
    known = FLOW_CASE_NAMES.get(flow)
    if known is None or flow == FLOW:
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


def activity_truth(dataset: Any, carrier: str, case: ActivityCase) -> ActivityTruth:
    """The ground truth for a case, independent of any adapter: the lookup's answer, the kept page's
    content, and how many pages the lookup reads. A case that does not fit its truth raises ValueError."""
    from sandbox import ground_truth as gt

    _activity_check_carrier(carrier)
    member = dataset.carrier(carrier).member(getattr(case.query, "member_id", None) or "")
    if case.flow == "authorization":
        query = case.query
        assert isinstance(query, AuthorizationQuery)
        found = gt.authorizations(dataset, carrier, query.member_id, query.date_of_birth)
        if isinstance(found, RejectReason):
            return _refused(case, carrier, found, "authorization-search-result")
        pages_read = 1 + len(found.authorizations)
        if case.page == "search":
            return ActivityTruth(found, _auth_listing(found, member.date_of_birth), "authorization-search-result",
                                 None, pages_read)
        auth = _detail_of(case, found.authorizations, lambda a: a.auth_number)
        return ActivityTruth(found, auth, "authorization-detail", f"/authorizations/{auth.auth_number}", pages_read)
    query = case.query
    assert isinstance(query, ClaimQuery)
    listed = gt.claims(dataset, carrier, query)
    if isinstance(listed, RejectReason):
        return _refused(case, carrier, listed, "claim-results-page-1")
    pages = _claim_pages(listed)
    pages_read = len(pages) + len(listed.claims)
    if case.page.startswith("results:"):
        which = case.page.removeprefix("results:")
        number = len(pages) if which == "last" else int(which)
        if not 1 <= number <= len(pages) or (which == "last" and len(pages) < 2):
            raise ValueError(f"{case.name}: the search has {len(pages)} result page(s), not page {which}")
        return ActivityTruth(listed, _claim_listing(query, pages, number, len(listed.claims)),
                             f"claim-results-page-{number}", None, pages_read)
    claim = _detail_of(case, listed.claims, lambda c: c.payer_claim_number)
    return ActivityTruth(listed, claim, "claim-detail", f"/claims/{claim.payer_claim_number}", pages_read)


def _refused(case: ActivityCase, carrier: str, reason: RejectReason, label: str) -> ActivityTruth:
    if case.page != "search":
        raise ValueError(f"{case.name}: the ground truth refuses the search ({reason.label}), no {case.page} page")
    answer = MemberNotFound(carrier=carrier, query=case.query, reject_reason=reason)
    return ActivityTruth(answer, answer, label, None, 1)


def _detail_of(case: ActivityCase, records: Sequence[Any], number_of: Callable[[Any], str]) -> Any:
    number = case.page.removeprefix("detail:")
    found = [r for r in records if number_of(r) == number]
    if not case.page.startswith("detail:") or len(found) != 1:
        raise ValueError(f"{case.name}: the ground truth answer has no {case.page} page")
    return found[0]


def _auth_listing(found: AuthorizationList, date_of_birth: date) -> Any:
    from aggregator.scrapers.framework.listings import AuthListing, AuthListRow

    # The portal lists the most recently updated first (ties: higher number first).
    ordered = sorted(found.authorizations, key=lambda a: (a.last_updated, a.auth_number), reverse=True)
    return AuthListing(member_id=found.query.member_id, date_of_birth=date_of_birth, rows=tuple(
        AuthListRow(auth_number=a.auth_number, service_type=a.service_type, status=a.status,
                    effective_date=a.effective_date, expiration_date=a.expiration_date) for a in ordered))


def _claim_pages(listed: ClaimList) -> list[list[ClaimStatus]]:
    """The portal's result pages: newest service dates first (ties by claim number), 10 per page."""
    from sandbox.ridgeline.vocabulary import CLAIMS_PER_PAGE

    ordered = sorted(listed.claims, key=lambda c: c.payer_claim_number)
    ordered.sort(key=lambda c: (c.service_from, c.service_to), reverse=True)
    return [ordered[i:i + CLAIMS_PER_PAGE] for i in range(0, len(ordered), CLAIMS_PER_PAGE)] or [[]]


def _claim_listing(query: ClaimQuery, pages: list[list[ClaimStatus]], number: int, total: int) -> Any:
    from aggregator.scrapers.framework.listings import ClaimListRow
    from aggregator.scrapers.ridgeline.pages_claims import ClaimResultsListing

    criteria: dict[str, Any] = ({"claim_number": query.claim_number} if query.claim_number else
                                {"member_id": query.member_id, "service_from": query.service_from,
                                 "service_to": query.service_to})
    rows = tuple(ClaimListRow(claim_number=c.payer_claim_number, provider_account_number=c.provider_account_number,
                              service_from=c.service_from, service_to=c.service_to, billed=c.billed, paid=c.paid,
                              status_category=c.status_category) for c in pages[number - 1])
    return ClaimResultsListing(**criteria, total=total, page=number, pages=len(pages),
                               has_next=number < len(pages), rows=rows)


def check_activity_case(case: ActivityCase, truth: ActivityTruth, result: Any, html: str,
                        carrier: str) -> tuple[dict[str, Any] | None, str | None]:
    """(expected-file content, None) when the live lookup and the kept page agree with the ground truth."""
    wanted = Outcome.NOT_FOUND if isinstance(truth.answer, MemberNotFound) else Outcome.FOUND
    if result.outcome is not wanted or result.answer is None:
        return None, (f"{case.name}: live outcome {result.outcome.value} ({result.reason_code}: {result.reason}), "
                      f"ground truth is {wanted.value}")
    truth_json = truth.answer.model_dump(mode="json")
    live = result.answer.without_provenance().model_dump(mode="json")
    if live != truth_json:
        return None, f"{case.name}: live answer differs from ground truth ({_differences(live, truth_json)})"
    provenance = result.answer.provenance
    named = list(provenance.evidence_ids) if provenance is not None else []
    captured = [e.id for e in result.evidence]
    if len(named) != truth.pages_read or sorted(named) != sorted(captured):
        return None, (f"{case.name}: the lookup read {truth.pages_read} page(s); {len(captured)} were captured and "
                      f"{len(named)} named in the provenance")
    page_json = truth.page.model_dump(mode="json")
    offline = _offline(carrier, html, case.query, case.flow)
    if offline != {"record": page_json}:
        return None, f"{case.name}: offline parse of the kept page differs from ground truth ({offline})"
    return {"query": case.query.model_dump(mode="json"), "record": page_json}, None


def _kept_page(evidence: Sequence[Any], truth: ActivityTruth) -> Any | None:
    from urllib.parse import urlsplit

    matching = [e for e in evidence if e.label == truth.label
                and (truth.url_suffix is None or urlsplit(e.url).path.endswith(truth.url_suffix))]
    return matching[0] if len(matching) == 1 else None


# --- the recording run ----------------------------------------------------------------------------

def _cases_for(flow: str, cases: Sequence[str] | None) -> list[str] | None:
    return None if cases is None else [c for c in cases if c in FLOW_CASE_NAMES[flow]]


async def record_pages(out_dir: Path, *, carrier: str = "ridgeline", seed: int = DEFAULT_SEED,
                       cases: Sequence[str] | None = None, on_case: OnCase | None = None,
                       flows: Sequence[str] = FLOWS) -> list[Path]:
    """Record the cases live (see the module docstring); returns the HTML paths written, in case order.

    `cases` names cases of any of the `flows` (a name several flows have, such as `not_found`, is
    recorded in each); a name no selected flow has is an error.
    """
    from sandbox.server import start_sandbox

    out_dir = Path(out_dir)
    unknown_flows = [f for f in flows if f not in FLOWS]
    if unknown_flows or not flows:
        raise ValueError(f"unknown flow(s): {', '.join(unknown_flows) or 'none given'} (known: {', '.join(FLOWS)})")
    if cases is not None:
        unknown = [c for c in cases if not any(c in FLOW_CASE_NAMES[f] for f in flows)]
        if unknown:
            raise ValueError(f"unknown case(s) for {', '.join(flows)}: {', '.join(unknown)}")
    _meaning_change_function(carrier)  # unknown carrier: fail before starting anything
    data_dir = Path(tempfile.mkdtemp(prefix="aggregator-record-pages-"))
    keep = False
    try:
        with start_sandbox(carriers=(carrier,), seed=seed) as handle:
            plan: list[RecordingCase] = []
            kinds: list[tuple[Expect, EligibilityRecord | MemberNotFound]] = []
            if FLOW in flows and _cases_for(FLOW, cases) != []:
                plan = plan_cases(handle.dataset, carrier, _cases_for(FLOW, cases))
                kinds = [truth_kind(handle.dataset, carrier, case) for case in plan]
            wrong = [f"{c.name}: chosen as {c.expect}, but the ground truth makes it {k}"
                     for c, (k, _) in zip(plan, kinds, strict=True) if k != c.expect]
            activity: list[tuple[ActivityCase, ActivityTruth]] = []
            for flow in (f for f in ACTIVITY_FLOWS if f in flows and _cases_for(f, cases) != []):
                for case in plan_activity_cases(handle.dataset, carrier, flow, _cases_for(flow, cases)):
                    try:
                        activity.append((case, activity_truth(handle.dataset, carrier, case)))
                    except ValueError as error:
                        wrong.append(f"{flow}/{error}")
            if wrong:
                raise RecordingMismatch(wrong)
            recorded, problems = await _record_live(handle, carrier, plan, kinds, activity, data_dir, on_case)
        if problems:
            keep = True
            raise RecordingMismatch(problems, kept_data_dir=data_dir)
        written: list[Path] = []
        for item in recorded:
            html_path = out_dir / carrier / item.flow / f"{item.case.name}.html"
            _write_atomic(html_path, item.html)
            _write_atomic(html_path.with_suffix(".expected.json"), expected_json(item.expected))
            written.append(html_path)
        if on_case is not None:
            total = len(plan) + len(activity)
            on_case("", total, total)
        return written
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class _Live:
    recorded: list[RecordedCase] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _throwaway_environment(handle: Any, carrier: str, data_dir: Path) -> tuple[Any, Any, Any]:
    """Settings, a vault holding the sandbox carrier's accounts, and a repository, all in `data_dir`.

    Every path is explicit: nothing from the user's AGGREGATOR_* environment (a real database or vault)
    is touched. Browser settings (executable, headless) still come from the environment."""
    from aggregator.settings import Settings
    from aggregator.store import Repository
    from sandbox.accounts import vault_inputs
    from vault import MasterKey, Vault

    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'aggregator.db'}",
                        snapshots_dir=data_dir / "snapshots", vault_path=data_dir / "vault.json")
    key = MasterKey.generate()
    key.write_key_file(data_dir / "vault.key")
    vault = Vault.create(settings.resolved_vault_path, key)
    vault.upsert_accounts(vault_inputs(handle.dataset, [carrier]))
    return settings, vault, Repository.open(settings.resolved_database_url)


async def _record_live(handle: Any, carrier: str, plan: list[RecordingCase],
                       kinds: list[tuple[Expect, EligibilityRecord | MemberNotFound]],
                       activity: list[tuple[ActivityCase, ActivityTruth]], data_dir: Path,
                       on_case: OnCase | None) -> tuple[list[RecordedCase], list[str]]:
    from aggregator.browser import BrowserPool
    from aggregator.runner import Runner

    settings, vault, repository = _throwaway_environment(handle, carrier, data_dir)
    state = handle.states[carrier]
    live = _Live()
    total = len(plan) + len(activity)

    def kept_html(name: str, page: Any) -> bytes | None:
        html = (settings.resolved_snapshots_dir / page.html_path).read_bytes()
        if hashlib.sha256(html).hexdigest() != page.html_sha256:
            live.problems.append(f"{name}: evidence HTML does not match its recorded hash")
            return None
        return html

    try:
        async with BrowserPool(settings) as pool:
            runner = Runner(settings=settings, repository=repository, vault=vault, pool=pool,
                            base_urls=handle.urls, respect_maintenance_windows=False)
            try:
                for index, (case, (expect, truth)) in enumerate(zip(plan, kinds, strict=True)):
                    if on_case is not None:
                        on_case(case.name, index, total)
                    state.update_faults({"layout_version": case.layout, "maintenance": case.maintenance})
                    result = await runner.eligibility(carrier, case.query, source="record-pages")
                    page = result.evidence[-1] if result.evidence else None
                    if page is None or page.label != EVIDENCE_LABELS[expect]:
                        live.problems.append(
                            f"{case.name}: live outcome {result.outcome.value} ({result.reason_code}) ended on "
                            f"evidence {page.label if page else 'none'}, expected a '{EVIDENCE_LABELS[expect]}' page")
                        continue
                    html = kept_html(case.name, page)
                    if html is None:
                        continue
                    expected, problem = check_case(case, expect, truth, result, html.decode("utf-8"), carrier)
                    if problem is not None:
                        live.problems.append(problem)
                        continue
                    assert expected is not None
                    live.recorded.append(RecordedCase(case, html, expected))
                for index, (activity_case, activity_expected) in enumerate(activity, start=len(plan)):
                    name = f"{activity_case.flow}/{activity_case.name}"
                    if on_case is not None:
                        on_case(name, index, total)
                    state.update_faults({"layout_version": activity_case.layout, "maintenance": False})
                    lookup = runner.authorizations if activity_case.flow == "authorization" else runner.claims
                    result = await lookup(carrier, activity_case.query, source="record-pages")  # type: ignore[operator]
                    page = _kept_page(result.evidence, activity_expected)
                    if page is None:
                        live.problems.append(
                            f"{name}: live outcome {result.outcome.value} ({result.reason_code}) has no single "
                            f"'{activity_expected.label}' page{' for ' + activity_expected.url_suffix if activity_expected.url_suffix else ''}")
                        continue
                    html = kept_html(name, page)
                    if html is None:
                        continue
                    expected, problem = check_activity_case(activity_case, activity_expected, result,
                                                            html.decode("utf-8"), carrier)
                    if problem is not None:
                        live.problems.append(f"{activity_case.flow}/{problem}")
                        continue
                    assert expected is not None
                    live.recorded.append(RecordedCase(activity_case, html, expected, activity_case.flow))
            finally:
                state.update_faults({"layout_version": "v1", "maintenance": False})
                await runner.close()
    finally:
        repository.engine.dispose()
    return live.recorded, live.problems


# --- the one recorder: declared cases of any carrier ------------------------------------------------
#
# A carrier declares its cases (sandbox/<carrier>/recording.py, see sandbox.recorded_cases); this
# drives each one live: sandbox portal on loopback, a throwaway vault, the real runner + adapter + a real
# Chromium, one fresh sign-in per case (state reset: a portal's one-session-per-account rule and its
# counters start clean). The captured page the case names is kept byte for byte (a document case keeps
# the document the capture carries); the expected file is the ground truth of that page, or the refusal
# the declaration says a correct adapter must give. Nothing is written unless every case agrees:
# live answer == ground truth, offline parse of the kept page == ground truth (or the declared refusal).

async def record_declared(out_dir: Path, carrier: str, *, names: Sequence[str] | None = None,
                          on_case: OnCase | None = None) -> list[Path]:
    """Record the declared cases of `carrier` (all, or those whose name or flow/name is in `names`) into
    <out_dir>/<carrier>/<flow>/; returns the page or document paths written. RecordingMismatch when any
    case disagrees with the ground truth (nothing written)."""
    from sandbox.recorded_cases import declared_cases, recorded_with, refusal_problem
    from sandbox.server import start_sandbox

    seed, as_of = recorded_with(carrier)
    data_dir = Path(tempfile.mkdtemp(prefix="aggregator-record-pages-"))
    keep = False
    try:
        with start_sandbox(carriers=(carrier,), seed=seed, as_of=as_of) as handle:
            cases = declared_cases(carrier, handle.dataset)
            if names is not None:
                unknown = [n for n in names if not any(n in (c.name, c.stem) for c in cases)]
                if unknown:
                    raise ValueError(f"unknown {carrier} case(s): {', '.join(unknown)}")
                cases = [c for c in cases if c.name in names or c.stem in names]
            wrong = [f"{c.stem}: {p}" for c in cases if (p := refusal_problem(handle.dataset, carrier, c))]
            if wrong:
                raise RecordingMismatch(wrong)
            recorded, problems = await _record_declared_live(handle, carrier, cases, data_dir, on_case)
        derived, derive_problems = derive_hand_made(carrier, {c.stem: (c, kept, e) for c, kept, e in recorded})
        problems += derive_problems
        if problems:
            keep = True
            raise RecordingMismatch(problems, kept_data_dir=data_dir)
        written: list[Path] = []
        for case, content, expected in recorded:
            path = out_dir / carrier / case.flow / f"{case.name}{case.suffix}"
            _write_atomic(path, content)
            _write_atomic(path.with_name(f"{case.name}.expected.json"), expected_json(expected))
            written.append(path)
        for stem, page, expected in derived:
            path = out_dir / carrier / f"{stem}.html"
            _write_atomic(path, page)
            _write_atomic(path.with_name(f"{path.stem}.expected.json"), expected_json(expected))
            written.append(path)
        if on_case is not None:
            on_case("", len(cases), len(cases))
        return written
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def derive_hand_made(carrier: str, recorded: dict[str, tuple[Any, bytes, dict[str, Any]]]
                     ) -> tuple[list[tuple[str, bytes, dict[str, Any]]], list[str]]:
    """The hand-made pages (sandbox.recorded_cases.HandMadeCase) whose base case is in `recorded`
    ({stem: (case, page, expected)}), re-derived from the fresh base page: (stem, page, expected) each,
    and the problems (an edit that no longer applies, an edited page the parser does not refuse with
    needs_attention). The expected error's type and reason are the adapter's; the outcome is fixed."""
    from sandbox.recorded_cases import hand_made_cases

    derived: list[tuple[str, bytes, dict[str, Any]]] = []
    problems: list[str] = []
    for made in hand_made_cases(carrier):
        base = recorded.get(f"{made.flow}/{made.base}")
        if base is None:
            continue
        case, page, expected = base
        edited = made.edit(page.decode("utf-8"))
        if edited is None:
            problems.append(f"{made.stem}: the declared edit no longer applies to '{made.base}'")
            continue
        offline = _offline_declared(carrier, case, edited.encode("utf-8"))
        error = offline.get("error")
        if error is None or error["outcome"] != Outcome.NEEDS_ATTENTION.value:
            problems.append(f"{made.stem}: offline parse must refuse with needs_attention, got {_summary(offline)}")
            continue
        derived.append((made.stem, edited.encode("utf-8"),
                        {"query": expected["query"], "error": {k: error[k] for k in ("type", "outcome", "reason")}}))
    return derived, problems


async def _record_declared_live(handle: Any, carrier: str, cases: Sequence[Any], data_dir: Path,
                                on_case: OnCase | None) -> tuple[list[tuple[Any, bytes, dict[str, Any]]], list[str]]:
    from aggregator.browser import BrowserPool
    from aggregator.runner import Runner

    settings, vault, repository = _throwaway_environment(handle, carrier, data_dir)
    state = handle.states[carrier]
    recorded: list[tuple[Any, bytes, dict[str, Any]]] = []
    problems: list[str] = []
    runner: Any = None
    try:
        async with BrowserPool(settings) as pool:
            for index, case in enumerate(cases):
                if on_case is not None:
                    on_case(case.stem, index, len(cases))
                # One signed-in session serves case after case (a sign-in may wait for a fresh TOTP
                # window); a case with a maintenance or rate-limit fault is followed by a clean portal.
                fresh = runner is None
                if fresh:
                    state.reset()
                    runner = Runner(settings=settings, repository=repository, vault=vault, pool=pool,
                                    base_urls=handle.urls, respect_maintenance_windows=False)
                disruptive = bool(case.faults.get("maintenance") or case.faults.get("rate_limit"))
                state.update_faults({"layout_version": "v1", "maintenance": False, "rate_limit": None})
                try:
                    if disruptive and fresh:
                        # Signed in first, so the fault meets a lookup rather than the sign-in.
                        await _declared_lookup(runner, carrier, case)
                    state.update_faults(case.faults)
                    result = await _declared_lookup(runner, carrier, case)
                finally:
                    if disruptive:
                        await runner.close()
                        runner = None
                kept, problem = _declared_kept(case, result, settings.resolved_snapshots_dir)
                if problem is None:
                    assert kept is not None
                    expected, problem = check_declared_case(handle.dataset, carrier, case, result, kept)
                if problem is not None:
                    problems.append(f"{case.stem}: {problem}")
                    continue
                assert kept is not None and expected is not None
                recorded.append((case, kept, expected))
    finally:
        if runner is not None:
            await runner.close()
        state.reset()
        repository.engine.dispose()
    return recorded, problems


async def _declared_lookup(runner: Any, carrier: str, case: Any) -> Any:
    lookup = {"eligibility": runner.eligibility, "authorization": runner.authorizations,
              "claim_status": runner.claims}[case.lookup_flow]
    return await lookup(carrier, case.query, source="record-pages")


def _declared_kept(case: Any, result: Any, snapshots: Path) -> tuple[bytes | None, str | None]:
    """The bytes of the capture the case keeps (its document for a document case), checked against the
    hash the evidence chain recorded; or why there is no single such capture."""
    candidates = [e for e in result.evidence if e.label == case.keep]
    if case.marker is not None:
        candidates = [e for e in candidates if case.marker in e.url
                      or case.marker.encode() in (snapshots / e.html_path).read_bytes()]
    where = f" holding '{case.marker}'" if case.marker else ""
    if not candidates or (case.marker is not None and len(candidates) != 1):
        return None, (f"live outcome {result.outcome.value} ({result.reason_code}) captured "
                      f"{len(candidates)} '{case.keep}' page(s){where}, the case keeps exactly one")
    entry = candidates[-1]
    path, digest = ((entry.document_path, entry.document_sha256) if case.suffix == ".pdf"
                    else (entry.html_path, entry.html_sha256))
    if path is None:
        return None, f"the '{case.keep}' capture carries no document"
    data = (snapshots / path).read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        return None, "the kept capture does not match the hash its evidence entry recorded"
    return data, None


def check_declared_case(dataset: Any, carrier: str, case: Any, result: Any,
                        kept: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(expected-file content, None) when the live lookup and the kept page agree with the ground truth
    (or give the declared refusal); else (None, why). The content is built from the ground truth and the
    declaration; of the adapter only an undeclared refusal's error type and its reason wording are kept."""
    from sandbox.recorded_cases import answer_truth, page_truth

    refusal = case.refusal
    query_json = case.query_json()
    offline = _offline_declared(carrier, case, kept)
    if refusal is not None:
        if result.outcome is not refusal.live or result.answer is not None:
            return None, (f"live outcome {result.outcome.value} ({result.reason_code}); a correct adapter gives "
                          f"{refusal.live.value} with no record ({refusal.why})")
        error = offline.get("error")
        if error is None or error["outcome"] != refusal.offline.value:
            return None, f"offline parse must refuse with {refusal.offline.value}, got {_summary(offline)}"
        if refusal.type is not None and error["type"] != refusal.type:
            return None, f"offline parse refused with {error['type']}, the case declares {refusal.type}"
        return {"query": query_json, "error": {k: error[k] for k in ("type", "outcome", "reason")}}, None
    answer = answer_truth(dataset, carrier, case)
    wanted = Outcome.NOT_FOUND if isinstance(answer, MemberNotFound) else Outcome.FOUND
    if result.outcome is not wanted or result.answer is None:
        return None, (f"live outcome {result.outcome.value} ({result.reason_code}: {result.reason}), "
                      f"ground truth is {wanted.value}")
    live = result.answer.without_provenance().model_dump(mode="json")
    truth_json = answer.model_dump(mode="json")
    if live != truth_json:
        return None, f"live answer differs from ground truth ({_differences(live, truth_json)})"
    page_json = page_truth(dataset, carrier, case).model_dump(mode="json")
    if offline != {"record": page_json}:
        return None, f"offline parse of the kept page differs from ground truth ({_summary(offline, page_json)})"
    return {"query": query_json, "record": page_json}, None


def _offline_declared(carrier: str, case: Any, kept: bytes) -> dict[str, Any]:
    adapter = adapter_for(carrier)
    try:
        if case.suffix == ".pdf":
            answer = adapter.parse_document(case.flow, kept)
        else:
            answer = adapter.parse_answer(case.flow, kept.decode("utf-8"), case.query)
    except AggregatorError as error:
        return {"error": {"type": type(error).__name__, "outcome": error.outcome.value, "reason": error.reason,
                          "code": error.code}}
    return {"record": answer.model_dump(mode="json")}


def _summary(offline: dict[str, Any], truth: dict[str, Any] | None = None) -> str:
    """Value-free: which error, or which fields of the record differ."""
    from sandbox.recorded_cases import differing_fields

    if "error" in offline:
        return f"{offline['error']['type']} ({offline['error']['outcome']})"
    if truth is None:
        return "a record"
    return "fields differ: " + ", ".join(differing_fields(offline["record"], truth)[:12])
