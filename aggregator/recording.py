"""Record the sandbox's pages as offline test cases, each checked live against the sandbox's ground truth.

`record_pages` starts the sandbox portal on loopback (ephemeral port), puts its provider accounts into
a throwaway vault in a temporary data directory, and drives the real runner and adapter with a real
Chromium through a fixed list of cases (`CASE_NAMES`). For every case it keeps the HTML exactly as the
browser captured it (the lookup's last evidence entry, byte for byte) and writes

    <out_dir>/<carrier>/eligibility/<case>.html
    <out_dir>/<carrier>/eligibility/<case>.expected.json

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
    CoverageStatus,
    EligibilityQuery,
    EligibilityRecord,
    InsuranceType,
    MemberNotFound,
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
    case: RecordingCase
    html: bytes
    expected: dict[str, Any]


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

def _offline(carrier: str, html: str, query: EligibilityQuery) -> dict[str, Any]:
    """Exactly what tests/test_recorded_pages.py computes for a case."""
    try:
        answer = adapter_for(carrier).parse_answer(FLOW, html, query)
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
    """Write-then-rename, with the umask's ordinary mode (these files are committed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def expected_json(content: dict[str, Any]) -> bytes:
    """The same formatting as the test's update mode, so regenerating gives no spurious diff."""
    return (json.dumps(content, indent=2, sort_keys=True) + "\n").encode("utf-8")


OnCase = Callable[[str, int, int], None]  # (case name, cases done, total); name "" once all are done


async def record_pages(out_dir: Path, *, carrier: str = "ridgeline", seed: int = DEFAULT_SEED,
                       cases: Sequence[str] | None = None, on_case: OnCase | None = None) -> list[Path]:
    """Record the cases live (see the module docstring); returns the HTML paths written, in case order."""
    from sandbox.server import start_sandbox

    out_dir = Path(out_dir)
    _meaning_change_function(carrier)  # unknown carrier: fail before starting anything
    data_dir = Path(tempfile.mkdtemp(prefix="aggregator-record-pages-"))
    keep = False
    try:
        with start_sandbox(carriers=(carrier,), seed=seed) as handle:
            plan = plan_cases(handle.dataset, carrier, cases)
            kinds = [truth_kind(handle.dataset, carrier, case) for case in plan]
            wrong = [f"{c.name}: chosen as {c.expect}, but the ground truth makes it {k}"
                     for c, (k, _) in zip(plan, kinds, strict=True) if k != c.expect]
            if wrong:
                raise RecordingMismatch(wrong)
            recorded, problems = await _record_live(handle, carrier, plan, kinds, data_dir, on_case)
        if problems:
            keep = True
            raise RecordingMismatch(problems, kept_data_dir=data_dir)
        written: list[Path] = []
        target = out_dir / carrier / FLOW
        for item in recorded:
            html_path = target / f"{item.case.name}.html"
            _write_atomic(html_path, item.html)
            _write_atomic(html_path.with_suffix(".expected.json"), expected_json(item.expected))
            written.append(html_path)
        if on_case is not None:
            on_case("", len(plan), len(plan))
        return written
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class _Live:
    recorded: list[RecordedCase] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def _record_live(handle: Any, carrier: str, plan: list[RecordingCase],
                       kinds: list[tuple[Expect, EligibilityRecord | MemberNotFound]], data_dir: Path,
                       on_case: OnCase | None) -> tuple[list[RecordedCase], list[str]]:
    from aggregator.browser import BrowserPool
    from aggregator.runner import Runner
    from aggregator.settings import Settings
    from aggregator.store import Repository
    from vault import MasterKey, Vault

    # Every path explicit: nothing from the user's AGGREGATOR_* environment (a real database or vault)
    # is touched. Browser settings (executable, headless) still come from the environment.
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'aggregator.db'}",
                        snapshots_dir=data_dir / "snapshots", vault_path=data_dir / "vault.json")
    key = MasterKey.generate()
    key.write_key_file(data_dir / "vault.key")
    vault = Vault.create(settings.resolved_vault_path, key)
    for account in handle.dataset.carrier(carrier).accounts:
        vault.add_account(carrier=account.carrier, label=account.label, username=account.username,
                          password=account.password, totp_secret=account.totp_secret)
    repository = Repository.open(settings.resolved_database_url)
    state = handle.states[carrier]
    live = _Live()
    try:
        async with BrowserPool(settings) as pool:
            runner = Runner(settings=settings, repository=repository, vault=vault, pool=pool,
                            base_urls=handle.urls, respect_maintenance_windows=False)
            try:
                for index, (case, (expect, truth)) in enumerate(zip(plan, kinds, strict=True)):
                    if on_case is not None:
                        on_case(case.name, index, len(plan))
                    state.update_faults({"layout_version": case.layout, "maintenance": case.maintenance})
                    result = await runner.eligibility(carrier, case.query, source="record-pages")
                    page = result.evidence[-1] if result.evidence else None
                    if page is None or page.label != EVIDENCE_LABELS[expect]:
                        live.problems.append(
                            f"{case.name}: live outcome {result.outcome.value} ({result.reason_code}) ended on "
                            f"evidence {page.label if page else 'none'}, expected a '{EVIDENCE_LABELS[expect]}' page")
                        continue
                    html = (settings.resolved_snapshots_dir / page.html_path).read_bytes()
                    if hashlib.sha256(html).hexdigest() != page.html_sha256:
                        live.problems.append(f"{case.name}: evidence HTML does not match its recorded hash")
                        continue
                    expected, problem = check_case(case, expect, truth, result, html.decode("utf-8"), carrier)
                    if problem is not None:
                        live.problems.append(problem)
                        continue
                    assert expected is not None
                    live.recorded.append(RecordedCase(case, html, expected))
            finally:
                state.update_faults({"layout_version": "v1", "maintenance": False})
                await runner.close()
    finally:
        repository.engine.dispose()
    return live.recorded, live.problems
