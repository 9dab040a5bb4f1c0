"""The one recorder of the sandbox: every carrier's declared cases, recorded from Chromium and checked
against the sandbox's ground truth (`aggregator sandbox record-pages [--carrier X]`).

A carrier declares its cases in sandbox/<slug>/recording.py (see sandbox.recorded_cases): per case its
flow, name, query, which captured page to keep, the portal faults to set, and for a page no record may
come out of, the refusal a correct adapter must give. `record_declared` drives each case live: the
sandbox portal on loopback (ephemeral port), a throwaway vault holding the portal's sandbox accounts in a
temporary data directory, the real runner and adapter with a real Chromium. The kept page is the
lookup's capture, byte for byte (aggregator.recording.capture, checked against the evidence chain's
hashes); its expected file is the ground truth of that page (sandbox.ground_truth.recorded_page), never
the parser's output, or the declared refusal (of the adapter only the error type, when the declaration
does not pin it, and the reason wording are kept).

A recording run is itself a check: a case whose live lookup disagrees with the ground truth (a different
answer, an offline parse of the kept page that differs, a record where the adapter must refuse) is
refused. If any case is refused, nothing of that carrier is written and `RecordingMismatch` lists every
disagreement (value-free); the temporary data directory (evidence PNG + HTML) is kept for inspection.

Recording from a real portal (no ground truth: scrubbed pages, reviewed by a person) is the product's
`aggregator record` (aggregator/recording/live.py).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aggregator.errors import Outcome
from aggregator.models import MemberNotFound
from aggregator.recording.capture import captured_pages, lookup, pick_capture
from aggregator.recording.cases import expected_content, expected_json, offline_parse, write_case
from aggregator.scrapers.registry import adapter_for

__all__ = ["OnCase", "RecordingMismatch", "check_declared_case", "derive_hand_made", "expected_json",
           "record_declared"]

OnCase = Callable[[str, int, int], None]  # (case stem, cases done, total); stem "" once all are done


class RecordingMismatch(Exception):
    """At least one live lookup disagreed with the ground truth; nothing was written."""

    def __init__(self, problems: list[str], kept_data_dir: Path | None = None) -> None:
        self.problems = problems
        self.kept_data_dir = kept_data_dir
        where = f"\nevidence of the run is kept in {kept_data_dir}" if kept_data_dir else ""
        super().__init__(f"{len(problems)} case(s) disagree with the sandbox's ground truth, nothing written:\n"
                         + "\n".join(f"  - {p}" for p in problems) + where)



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
        written = [write_case(out_dir, carrier, case.flow, case.name, content, expected, suffix=case.suffix)
                   for case, content, expected in recorded]
        for stem, page, expected in derived:
            flow, name = stem.split("/")
            written.append(write_case(out_dir, carrier, flow, name, page, expected))
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
    return await lookup(runner, carrier, case.lookup_flow, case.query, source="record-pages")


def _declared_kept(case: Any, result: Any, snapshots: Path) -> tuple[bytes | None, str | None]:
    """The bytes of the capture the case keeps (its document for a document case), as the evidence chain
    hashed them; or why there is no single such capture."""
    page, problem = pick_capture(captured_pages(result, snapshots), case.keep, case.marker)
    if page is None:
        return None, f"live outcome {result.outcome.value} ({result.reason_code}) {problem}"
    if case.suffix != ".html":
        if page.document is None:
            return None, f"the '{case.keep}' capture carries no document"
        return page.document, None
    return page.html, None


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
        return expected_content(query_json, offline), None
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
    return offline_parse(adapter_for(carrier), case.flow, kept, case.query, document=case.suffix != ".html")


def _summary(offline: dict[str, Any], truth: dict[str, Any] | None = None) -> str:
    """Value-free: which error, or which fields of the record differ."""
    from sandbox.recorded_cases import differing_fields

    if "error" in offline:
        return f"{offline['error']['type']} ({offline['error']['outcome']})"
    if truth is None:
        return "a record"
    return "fields differ: " + ", ".join(differing_fields(offline["record"], truth)[:12])


def _differences(actual: dict[str, Any], expected: dict[str, Any]) -> str:
    keys = sorted(k for k in set(actual) | set(expected) if actual.get(k) != expected.get(k))
    return "fields differ: " + ", ".join(keys) if keys else "no field differs"
