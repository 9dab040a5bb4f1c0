"""`make demo`: the main job end to end on the sandbox carriers.

Starts the sandbox portals on loopback, puts their provider accounts into the data directory's vault,
looks up members of every kind (active, dependent, termed, future-effective, not found, wrong DOB,
wrong last name) with a progress bar, prints a summary that also says whether each answer equals the
sandbox's ground truth, then stops the sandbox. The records, the evidence and the database stay in the
data directory.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aggregator.errors import Outcome
from aggregator.models import EligibilityRecord
from aggregator.settings import Settings
from sandbox.ground_truth import MemberSample, sample_members
from sandbox.server import start_sandbox

DEMO_KINDS = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob", "wrong_last_name")
CARRIERS = ("ridgeline",)


def run_demo(settings: Settings, *, members: int, console: Console) -> int:
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    with start_sandbox(carriers=CARRIERS) as handle:
        for slug, url in handle.urls.items():
            console.print(f"sandbox portal [bold]{slug}[/bold] at {url}")
        vault_accounts(settings, handle.dataset, console)
        samples = {slug: sample_members(handle.dataset, slug, members, kinds=DEMO_KINDS) for slug in CARRIERS}
        rows = asyncio.run(_lookups(settings, handle.urls, samples, console))
    _summary(rows, console)
    matched = sum(1 for *_, ok in rows if ok)
    console.print(f"\n{matched} of {len(rows)} answers equal the sandbox's ground truth.")
    data = settings.resolved_data_dir
    console.print(
        "Results are kept in [bold]" + str(data) + "[/bold]:\n"
        f"  database  {settings.resolved_database_url}\n"
        f"  evidence  {settings.resolved_snapshots_dir} (full-page PNG + HTML per answer)\n"
        f"  verify    .venv/bin/aggregator evidence verify --data-dir {data}\n"
        f"  look up   .venv/bin/aggregator sandbox up   # then, in another shell:\n"
        f"            .venv/bin/aggregator lookup eligibility --data-dir {data} --carrier ridgeline "
        "--member-id <id> --dob YYYY-MM-DD"
    )
    return 0 if matched == len(rows) else 1


def vault_accounts(settings: Settings, dataset, console: Console) -> None:  # type: ignore[no-untyped-def]
    from sandbox.accounts import vault_inputs
    from vault import MasterKey, Vault

    key_file = settings.resolved_data_dir / "vault.key"
    if not settings.resolved_vault_path.exists():
        key = MasterKey.generate()
        key.write_key_file(key_file, overwrite=True)
        Vault.create(settings.resolved_vault_path, key)
    vault = Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings))
    added, updated = vault.upsert_accounts(vault_inputs(dataset, CARRIERS))
    for account in vault.accounts():
        if account.is_frozen:  # a previous demo run may have frozen one; the sandbox restarts clean
            vault.update_account(account.account_id, unfreeze=True)
    console.print(f"vault {settings.resolved_vault_path}: {added} account(s) added, {updated} updated")


async def _lookups(settings: Settings, urls: dict[str, str], samples: dict[str, list[MemberSample]],
                   console: Console) -> list[tuple[str, MemberSample, object, bool]]:
    from aggregator.runner import Runner

    rows = []
    total = sum(len(s) for s in samples.values())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    async with Runner.open(settings, base_urls=urls, respect_maintenance_windows=False) as runner:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("looking up members", total=total)
            for slug, carrier_samples in samples.items():
                for sample in carrier_samples:
                    progress.update(task, description=f"{slug}: {sample.kind.replace('_', ' ')}")
                    result = await runner.eligibility(slug, sample.query, source="demo")
                    stored = runner.repository.records_for_lookup(result.lookup_id)
                    ok = len(stored) == 1 and stored[0].without_provenance() == sample.expected
                    rows.append((slug, sample, result, ok))
                    progress.advance(task)
    return rows


def _summary(rows, console: Console) -> None:  # type: ignore[no-untyped-def]
    table = Table(title="Eligibility lookups")
    for header in ("Carrier", "Kind", "Member ID", "Outcome", "Coverage", "Plan", "Evidence", "Matches truth"):
        table.add_column(header)
    for slug, sample, result, ok in rows:
        answer = result.answer
        coverage = plan = ""
        if isinstance(answer, EligibilityRecord):
            coverage = "active" if answer.coverage.status.value == "1" else "inactive"
            plan = answer.plan.name
        outcome = result.outcome.value + (f" ({result.reason_code})" if result.outcome is Outcome.NOT_FOUND else "")
        table.add_row(slug, sample.kind.replace("_", " "), sample.query.member_id, outcome, coverage, plan,
                      str(len(result.evidence)), "[green]yes[/green]" if ok else "[red]NO[/red]")
    console.print(table)
    counts = Counter(result.outcome.value for *_, result, _ok in rows)
    console.print("Outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
