"""Record BluePeak screens as offline test cases, each checked live against the sandbox's ground truth.

    .venv/bin/python -m sandbox.bluepeak.recording [OUT_DIR]     # default tests/recorded_pages

Starts the BluePeak portal on loopback, puts its accounts into a throwaway vault, and drives the real
runner + adapter + Chromium through `cases()`. For each case it keeps the HTML of one captured screen
(an evidence entry of the lookup, byte for byte: the rendered DOM with every accordion open, plus the
API responses the page loaded) as `<out>/bluepeak/<flow>/<case>.html`, and writes `<case>.expected.json`
from `sandbox.ground_truth` (never from the parser), or the error a correct adapter must raise.
A case whose live lookup disagrees with the ground truth stops the recording; nothing is written.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityRecord, MemberNotFound, RejectReason
from aggregator.models.codes import ClaimStatusCategory
from sandbox import ground_truth
from sandbox.bluepeak.api_views import meaning_change_for
from sandbox.dataset import Dataset

CARRIER = "bluepeak"
QUIET_TIME = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # outside the manifest's maintenance window


@dataclass(frozen=True)
class Case:
    flow: str
    name: str
    query: Any
    keep: str  # the evidence label of the screen kept
    faults: dict[str, Any] = field(default_factory=dict)
    error: tuple[str, str] | None = None  # (type, outcome) a correct adapter must raise


def cases(dataset: Dataset) -> list[Case]:
    data = dataset.carrier(CARRIER)
    samples = ground_truth.sample_members(dataset, CARRIER, 40, kinds=(
        "active_subscriber", "dependent", "termed", "not_found", "wrong_dob", "wrong_last_name"))
    first = {s.kind: s for s in reversed(samples)}
    family = next(s for s in samples if s.kind == "active_subscriber" and s.member and s.member.family_coverage)
    hmo = next(s for s in samples if s.member and s.kind in ("active_subscriber", "dependent")
               and data.plan_for(s.member).code == "BPH300")
    changes = {meaning_change_for(data, s.query.member_id, "v2"): s for s in samples
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
        Case("eligibility", "active_family", family.query, "eligibility-result"),
        Case("eligibility", "dependent", first["dependent"].query, "eligibility-result"),
        Case("eligibility", "termed", first["termed"].query, "eligibility-result"),
        Case("eligibility", "hmo_out_of_network_not_covered", hmo.query, "eligibility-result"),
        Case("eligibility", "not_found", first["not_found"].query, "eligibility-candidates"),
        Case("eligibility", "wrong_dob", first["wrong_dob"].query, "eligibility-candidates"),
        Case("eligibility", "wrong_last_name", first["wrong_last_name"].query, "eligibility-candidates"),
        Case("eligibility", "v2_cosmetic", changes[None].query, "eligibility-result", v2),
        Case("eligibility", "v2_tier_labels", changes["tier_labels"].query, "eligibility-result", v2,
             ("UnmappedValue", "needs_attention")),
        Case("eligibility", "v2_plan_share", changes["plan_share"].query, "eligibility-result", v2,
             ("ParseError", "needs_attention")),
        Case("eligibility", "maintenance", family.query, "maintenance", {"maintenance": True},
             ("PortalMaintenance", "retry_later")),
        Case("authorization", "several", auth_query(holders[0]), "authorization-result"),
        Case("authorization", "none_on_file", auth_query(empty), "authorization-result"),
        Case("authorization", "not_found", AuthorizationQuery(member_id=data.not_found_ids[0],
                                                              date_of_birth=empty.date_of_birth), "authorization-candidates"),
        Case("authorization", "wrong_dob", auth_query(holders[1], 1), "authorization-candidates"),
        Case("authorization", "v2_several", auth_query(holders[2]), "authorization-result", v2),
        Case("authorization", "rate_limited", auth_query(holders[0]), "rate-limited", {"rate_limit": 1},
             ("RateLimited", "retry_later")),
        Case("claim_status", "member_many_claims", member_claims, "claim_status-result"),
        Case("claim_status", "claim_number_paid", ClaimQuery(claim_number=paid.claim_number), "claim_status-result"),
        Case("claim_status", "claim_number_unknown", ClaimQuery(claim_number="BP2601019999999"), "claim_status-result"),
        Case("claim_status", "not_found", member_claims.model_copy(update={"member_id": data.not_found_ids[1]}),
             "claim_status-candidates"),
        Case("claim_status", "v2_member_claims", member_claims, "claim_status-result", v2),
        Case("claim_status", "maintenance", member_claims, "maintenance", {"maintenance": True},
             ("PortalMaintenance", "retry_later")),
    ]


def truth(state: Any, case: Case) -> Any:
    if case.flow == "eligibility":
        return ground_truth.eligibility(state, CARRIER, case.query)
    if case.flow == "authorization":
        found = ground_truth.authorizations(state, CARRIER, case.query.member_id, case.query.date_of_birth)
    else:
        found = ground_truth.claims(state, CARRIER, case.query)
    if isinstance(found, RejectReason):
        return MemberNotFound(carrier=CARRIER, query=case.query, reject_reason=found)
    return found


async def record(out_dir: Path) -> list[Path]:
    from aggregator.browser import BrowserPool
    from aggregator.runner import Runner
    from aggregator.scrapers.bluepeak import BluepeakAdapter
    from aggregator.settings import Settings
    from aggregator.store import Repository
    from sandbox.accounts import vault_inputs
    from sandbox.server import start_sandbox
    from vault import MasterKey, Vault

    written: list[Path] = []
    pending: list[tuple[Path, str, dict[str, Any]]] = []
    problems: list[str] = []
    with start_sandbox(carriers=(CARRIER,)) as handle, tempfile.TemporaryDirectory() as tmp:
        state = handle.states[CARRIER]
        settings = Settings(data_dir=Path(tmp))
        key = MasterKey.generate()
        vault = Vault.create(settings.resolved_vault_path, key)
        vault.upsert_accounts(vault_inputs(handle.dataset, [CARRIER]))
        async with BrowserPool(settings) as pool:
            for case in cases(handle.dataset):
                state.reset()
                runner = Runner(settings=settings, repository=Repository.open(settings.resolved_database_url),
                                vault=vault, pool=pool, base_urls=handle.urls, clock=lambda: QUIET_TIME)
                try:
                    if case.faults.get("rate_limit") or case.faults.get("maintenance"):
                        # Signed in first: the fault then meets a lookup, not the sign-in.
                        await _lookup(runner, case)
                    state.update_faults(case.faults)
                    result = await _lookup(runner, case)
                finally:
                    await runner.close()
                kept = [e for e in result.evidence if e.label == case.keep]
                if not kept:
                    problems.append(f"{case.flow}/{case.name}: no '{case.keep}' screen captured ({result.outcome})")
                    continue
                html = (settings.resolved_snapshots_dir / kept[-1].html_path).read_text(encoding="utf-8")
                query = case.query.model_dump(mode="json")
                if case.error:
                    if (result.outcome.value != case.error[1]) or result.answer is not None:
                        problems.append(f"{case.flow}/{case.name}: live outcome {result.outcome.value}, wanted {case.error}")
                    expected = {"query": query, "error": {"type": case.error[0], "outcome": case.error[1],
                                                          "reason": result.reason}}
                else:
                    wanted = truth(state, case)
                    if result.answer is None or result.answer.without_provenance() != wanted:
                        problems.append(f"{case.flow}/{case.name}: the live answer differs from ground truth")
                    if case.keep.endswith("candidates") and isinstance(wanted, EligibilityRecord):
                        problems.append(f"{case.flow}/{case.name}: a candidates screen kept for a found member")
                    expected = {"query": query, "record": wanted.model_dump(mode="json")}
                pending.append((out_dir / CARRIER / case.flow / case.name, html, expected))
        del BluepeakAdapter  # imported to fail early when the adapter does not import
    if problems:
        raise RuntimeError("recording refused, nothing written:\n" + "\n".join(problems))
    for stem, html, expected in pending:
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".html").write_text(html, encoding="utf-8")
        stem.with_suffix(".expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
        written.append(stem)
    return written


async def _lookup(runner: Any, case: Case) -> Any:
    if case.flow == "eligibility":
        return await runner.eligibility(CARRIER, case.query)
    if case.flow == "authorization":
        return await runner.authorizations(CARRIER, case.query)
    return await runner.claims(CARRIER, case.query)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[2] / "tests" / "recorded_pages"
    for path in asyncio.run(record(target)):
        print(path)
