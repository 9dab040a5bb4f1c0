"""`make demo`: the main job, the overnight pre-visit run, end to end on the sandbox carriers.

Starts every sandbox portal on loopback, puts their provider accounts into the data directory's
vault, writes the sandbox practice's appointment list for a day (CSV, members of every kind: active,
dependents, termed, future-effective, unknown ids, wrong dates of birth; a third of the visits need
prior authorization) and imports it, runs the batch with a progress bar, prints the worklist, and
checks every appointment's stored answer against the sandbox's ground truth. Carriers are discovered
(every sandbox carrier folder with an adapter); a carrier whose manifest lacks a capability is never asked
for it, and its items say "not available at this carrier", which the truth check (sandbox.batch_truth)
accepts only when the manifest really lacks it. The database, the evidence and the appointment file
stay in the data directory; each demo run starts the day over.

The sandbox hubs (Crossway) run too when their adapter is registered: their accounts go into the vault, and
the day gets a few visits (`HUB_VISITS_PER_PAYER` each) for every payer reached only through a hub (Harborview,
Prairie), checked against the hub's ground truth like every other item.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aggregator.settings import Settings
from sandbox.server import start_sandbox

if TYPE_CHECKING:
    from aggregator.overnight.batch import BatchSummary
    from aggregator.store import Repository
    from aggregator.store.tables import BatchItemRow
    from sandbox.dataset import Dataset

DEMO_DAY = date(2026, 12, 1)  # a Tuesday after the sandbox dataset's as-of date
HUB_VISITS_PER_PAYER = 4  # added to the day for each payer reached only through a hub


def demo_carriers() -> tuple[str, ...]:
    """Every carrier with a sandbox portal and an adapter, in the sandbox's fixed order."""
    from aggregator.scrapers.registry import all_adapters
    from sandbox.carriers import carrier_slugs

    registered = {cls.manifest.slug for cls in all_adapters()}
    return tuple(slug for slug in carrier_slugs() if slug in registered)


def demo_portals() -> tuple[str, ...]:
    """The demo's carriers, then every sandbox hub whose adapter is registered (a portal, not a payer)."""
    from aggregator.scrapers.registry import all_adapters
    from sandbox.carriers import hubs

    registered = {cls.manifest.slug for cls in all_adapters()}
    return (*demo_carriers(), *(slug for slug in hubs() if slug in registered))


def demo_hub_payers(portals: tuple[str, ...]) -> tuple[str, ...]:
    """The payers reached only through one of these hubs (no portal of their own: Harborview, Prairie) that the
    hub adapter's manifest serves."""
    from aggregator.scrapers.registry import adapter_for
    from sandbox.carriers import hub_payers, hubs

    found, only_through_a_hub = hubs(), hub_payers()
    return tuple(dict.fromkeys(
        payer for slug in portals if slug in found for payer in found[slug].payers
        if payer in only_through_a_hub and adapter_for(slug).manifest.serves(payer)))


def _not_asked(slug: str) -> str:
    """What the batch will not ask this carrier (its manifest lacks it): said up front, so the worklist's
    "not available at this carrier" items are expected, and the truth check expects them too."""
    from aggregator.scrapers.framework import Capability
    from aggregator.scrapers.registry import adapter_for

    missing = [c.value.replace("_", " ") for c in Capability if c not in adapter_for(slug).manifest.capabilities]
    return f" (not available at this carrier: {', '.join(missing)})" if missing else ""


def run_demo(settings: Settings, *, appointments: int, console: Console) -> int:
    from aggregator.overnight.appointments import import_appointments
    from aggregator.store import Repository
    from aggregator.store import batches as store
    from sandbox.appointments import appointment_list, hub_day, with_hub_visits, write_csv

    settings = settings.model_copy(update={"respect_maintenance_windows": False})  # the sandbox has no hours
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    carriers = demo_carriers()
    portals = demo_portals()
    with start_sandbox(carriers=portals) as handle:
        for slug, url in handle.urls.items():
            console.print(f"sandbox portal [bold]{slug}[/bold] at {url}{_not_asked(slug)}")
        vault_accounts(settings, handle.dataset, console, carriers=portals)
        repository = Repository.open(settings.resolved_database_url)
        rows = appointment_list(handle.dataset, DEMO_DAY, appointments, carriers=carriers)
        payers = demo_hub_payers(portals)
        if payers:
            rows = with_hub_visits(rows, hub_day(handle.dataset, DEMO_DAY, HUB_VISITS_PER_PAYER * len(payers), payers))
        path = write_csv(rows, settings.resolved_data_dir / f"appointments-{DEMO_DAY}.csv")
        report = import_appointments(repository, path)
        console.print(f"imported {path}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged"
                      + (f", {len(report.problems)} rows with problems" if report.problems else ""))
        cleared = store.clear_day(repository, DEMO_DAY)
        if cleared:
            console.print(f"starting {DEMO_DAY} over: {cleared} item(s) of a previous demo run cleared")
        summary = asyncio.run(_batch(settings, handle.urls, len(rows), console))
        problems = _truth_check(repository, handle.dataset)
    from aggregator.cli.batch import render_worklist
    from aggregator.overnight import worklist

    console.print(render_worklist(worklist.worklist(repository, DEMO_DAY), DEMO_DAY))
    console.print(f"{summary.total} appointments in {summary.seconds:.0f} s with {summary.logins} login(s): "
                  + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(summary.counts.items())))
    for appointment_id, found in problems.items():
        console.print(f"[red]{appointment_id}[/red]: {'; '.join(found)}")
    matched = summary.total - len(problems)
    console.print(f"\n{matched} of {summary.total} appointments equal the sandbox's ground truth.")
    data = settings.resolved_data_dir
    console.print(
        "Results are kept in [bold]" + str(data) + "[/bold]:\n"
        f"  worklist  .venv/bin/aggregator worklist --date {DEMO_DAY} --data-dir {data}   (--csv / --json)\n"
        f"  verify    .venv/bin/aggregator evidence verify --data-dir {data}\n"
        f"  export    .venv/bin/aggregator export --date {DEMO_DAY} --format fhir --data-dir {data}   (x12-json / csv)\n"
        f"  evidence  {settings.resolved_snapshots_dir} (full-page PNG + HTML per page read)\n"
        f"  web app   .venv/bin/aggregator serve --data-dir {data}   (after `aggregator users add`)"
    )
    return 0 if not problems else 1


def vault_accounts(settings: Settings, dataset: Dataset, console: Console,
                   carriers: tuple[str, ...] | None = None) -> None:
    from sandbox.accounts import vault_inputs
    from vault import MasterKey, Vault

    key_file = settings.resolved_data_dir / "vault.key"
    if not settings.resolved_vault_path.exists():
        key = MasterKey.generate()
        key.write_key_file(key_file, overwrite=True)
        Vault.create(settings.resolved_vault_path, key)
    vault = Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings))
    added, updated = vault.upsert_accounts(vault_inputs(dataset, carriers or demo_portals()))
    for account in vault.accounts():
        if account.is_frozen:  # a previous demo run may have frozen one; the sandbox restarts clean
            vault.update_account(account.account_id, unfreeze=True)
        vault.clear_session(account.account_id)  # the restarted sandbox knows no old session
    console.print(f"vault {settings.resolved_vault_path}: {added} account(s) added, {updated} updated")


async def _batch(settings: Settings, urls: dict[str, str], total: int, console: Console) -> BatchSummary:
    from aggregator.overnight.batch import BatchRun
    from aggregator.runner import Runner

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    async with Runner.open(settings, base_urls=urls) as runner:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"overnight run for {DEMO_DAY}", total=total)

            def advance(item: BatchItemRow) -> None:
                progress.update(task, advance=1, description=f"{item.carrier}: {item.state.replace('_', ' ')}")

            return await BatchRun(runner, DEMO_DAY, trigger="demo", on_progress=advance).run()


def _truth_check(repository: Repository, dataset: Dataset) -> dict[str, list[str]]:
    from aggregator.store import batches as store
    from sandbox.batch_truth import item_problems

    problems = {}
    for item in store.items_on(repository, DEMO_DAY):
        found = item_problems(repository, dataset, item, store.get_appointment(repository, item.appointment_id))
        if found:
            problems[item.appointment_id] = found
    return problems

