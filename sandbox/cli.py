"""`aggregator sandbox ...`: run the sandbox carrier portals and export their provider accounts.

The sandbox is local imitation portals with generated data (see sandbox/README.md); its accounts are
sandbox data, so exporting their passwords and TOTP seeds to a file for `aggregator vault import` is
fine. The terminal only ever shows usernames.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

sandbox_app = typer.Typer(help="Local imitation carrier portals for the demo, tests and benchmarks.",
                          no_args_is_help=True)
console = Console()

if TYPE_CHECKING:
    from rich.progress import TaskID

_DEFAULT_SEED = 20261127  # sandbox.dataset.DEFAULT_SEED; repeated so --help needs no sandbox import
_DEFAULT_AS_OF = "2026-11-27"

SeedOption = Annotated[int, typer.Option(help="dataset seed: same seed, same members and accounts")]
AsOfOption = Annotated[str, typer.Option("--as-of", help="the sandbox's 'today' (YYYY-MM-DD): coverage is "
                                         "active, termed or future relative to it")]


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got '{value}'", param_hint="--as-of") from None


def _default_accounts_file(seed: int) -> Path:
    return Path(tempfile.gettempdir()) / f"aggregator-sandbox-accounts-{seed}.json"


@sandbox_app.command("up")
def up(
    port_base: Annotated[int, typer.Option("--port-base", help="base port; each carrier is served on base + "
                                           "the port_offset its sandbox/<slug>/profile.py declares, a hub on base + "
                                           "its own two offsets (sandbox/<slug>/server.py HUB); 0: free ports")] = 8101,
    seed: SeedOption = _DEFAULT_SEED,
    as_of: AsOfOption = _DEFAULT_AS_OF,
    host: Annotated[str, typer.Option(help="loopback address to bind")] = "127.0.0.1",
    accounts_file: Annotated[Path | None, typer.Option("--accounts-file", help="where to write the "
                             "accounts export (default: a file in the system temp directory)")] = None,
    exit_after: Annotated[float | None, typer.Option("--exit-after", hidden=True,
                          help="stop after N seconds (smoke tests)")] = None,
) -> None:
    """Start every sandbox portal (the carriers' own and the hubs) in the foreground until Ctrl-C."""
    from sandbox.accounts import export_accounts, portal_accounts
    from sandbox.carriers import hubs, portal_slugs, profiles
    from sandbox.server import ports_from, start_sandbox

    try:
        portals = portal_slugs()
        handle = start_sandbox(portals, host=host, ports=ports_from(port_base, portals), seed=seed,
                               as_of=_as_of(as_of))
    except (ValueError, RuntimeError) as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None
    with handle:
        dataset = handle.dataset
        export = export_accounts((a for slug in portals for a in portal_accounts(dataset, slug)),
                                 accounts_file or _default_accounts_file(seed))
        console.print(f"Sandbox (seed {seed}, today {dataset.as_of.isoformat()}):", highlight=False)
        for slug in portals:
            users = ", ".join(a.username for a in portal_accounts(dataset, slug))
            if slug in handle.hubs:
                running = handle.hubs[slug]
                console.print(f"  {hubs()[slug].display_name:<18} {running.hub_url}/   accounts: {users}", highlight=False)
                console.print(f"  {'':<18} identity provider: {running.idp_url}   payers: "
                              f"{', '.join(hubs()[slug].payers)}", highlight=False)
                console.print(f"  {'':<18} controls: {running.hub_url}/_sandbox/settings  /_sandbox/stats  "
                              "/_sandbox/reset-all", highlight=False)
                continue
            console.print(f"  {profiles()[slug].display_name:<18} {handle.urls[slug]}/login   accounts: {users}",
                          highlight=False)
            console.print(f"  {'':<18} controls: {handle.urls[slug]}/_sandbox/faults  /_sandbox/stats", highlight=False)
        console.print(f"Accounts export (with secrets): {export}", highlight=False)
        console.print(f"  load them with: aggregator vault import {export}", highlight=False)
        console.print("Press Ctrl-C to stop.")
        try:
            deadline = time.monotonic() + exit_after if exit_after is not None else None
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            console.print("stopping")


@sandbox_app.command("accounts")
def accounts(
    export: Annotated[Path, typer.Option("--export", help="file to write (JSON, owner-readable only)")],
    seed: SeedOption = _DEFAULT_SEED,
    carrier: Annotated[list[str] | None, typer.Option("--carrier", help="only these portals (repeatable): carrier "
                       "or hub slugs; default: every sandbox portal")] = None,
) -> None:
    """Write the sandbox's provider accounts, with secrets, for `aggregator vault import`."""
    from sandbox.accounts import export_accounts, portal_accounts
    from sandbox.carriers import carrier_slugs, portal_slugs
    from sandbox.dataset import generate_dataset

    slugs = tuple(carrier) if carrier else portal_slugs()
    unknown = [s for s in slugs if s not in portal_slugs()]
    if unknown:
        raise typer.BadParameter(f"unknown carrier(s): {', '.join(unknown)}", param_hint="--carrier")
    # Accounts do not depend on the reference date; any as_of gives the same ones. A hub's accounts come from
    # the seed alone (and the practice's tax id and NPI, which every carrier's data shares).
    dataset = generate_dataset(seed=seed, carriers=[s for s in slugs if s in carrier_slugs()])
    rows = [a for slug in slugs for a in portal_accounts(dataset, slug)]
    path = export_accounts(rows, export)
    console.print(f"wrote {len(rows)} sandbox account(s) to {path}", highlight=False)


@sandbox_app.command("record-pages")
def record_pages_command(
    out: Annotated[Path, typer.Option("--out", help="recorded-pages root; cases go to <out>/<carrier>/<flow>/")]
        = Path("tests/recorded_pages"),
    carrier: Annotated[list[str] | None, typer.Option(
        "--carrier", help="a sandbox carrier slug (repeatable); default: every carrier")] = None,
    flow: Annotated[list[str] | None, typer.Option(
        "--flow", help="eligibility, authorization, claim_status or eob (repeatable); default: all")] = None,
    case: Annotated[list[str] | None, typer.Option(
        "--case", help="only this case, NAME or FLOW/NAME (repeatable); default: all")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="show the runner's log lines")] = False,
) -> None:
    """Regenerate the recorded-page test cases from the sandbox, checked live against its ground truth.

    For each carrier's declared cases (sandbox/<carrier>/recording.py): starts the sandbox on loopback,
    signs in with a throwaway vault and a real Chromium, looks the case up through the real runner and
    adapter, and writes the captured page plus the sandbox's ground truth (or the refusal a correct
    adapter must give). Any disagreement is printed, nothing of that carrier is written, exit code 1.
    """
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from aggregator.errors import AggregatorError
    from aggregator.logging import configure_logging
    from sandbox.recorded_cases import CARRIERS, declared_cases
    from sandbox.recorder import RecordingMismatch, record_declared

    configure_logging("console", "INFO" if verbose else "ERROR")
    carriers = tuple(dict.fromkeys(carrier)) if carrier else CARRIERS
    unknown = [c for c in carriers if c not in CARRIERS]
    if unknown:
        raise typer.BadParameter(f"unknown carrier(s): {', '.join(unknown)} (known: {', '.join(CARRIERS)})",
                                 param_hint="--carrier")
    selected = {slug: [c for c in declared_cases(slug) if (not flow or c.flow in flow)
                       and (not case or c.name in case or c.stem in case)] for slug in carriers}
    matched = {n for cases in selected.values() for c in cases for n in (c.name, c.stem, c.flow)}
    unmatched = [n for n in (*(case or ()), *(flow or ())) if n not in matched]
    if unmatched:
        raise typer.BadParameter(f"no declared case of {', '.join(carriers)} matches: {', '.join(unmatched)}",
                                 param_hint="--case/--flow")
    failed = False
    for slug, declared in selected.items():
        if not declared:
            continue
        columns = (TextColumn(f"{slug:<10}" + " {task.description:<38}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("starting sandbox", total=len(declared))

            def on_case(name: str, done: int, of: int, task: TaskID = task, progress: Progress = progress) -> None:
                progress.update(task, description=name or "written", completed=done, total=of)

            try:
                written = asyncio.run(record_declared(out, slug, names=[c.stem for c in declared], on_case=on_case))
            except RecordingMismatch as mismatch:
                progress.stop()
                console.print(f"[red]refused ({slug}):[/red] {mismatch}", highlight=False)
                failed = True
                continue
            except (ValueError, RuntimeError, AggregatorError) as error:
                progress.stop()
                console.print(f"[red]error ({slug}):[/red] {error}", highlight=False)
                failed = True
                continue
        console.print(f"recorded {len(written)} case(s) for {slug} in {out / slug}", highlight=False)
    if failed:
        raise typer.Exit(1)


@sandbox_app.command("appointments")
def appointments_command(
    day: Annotated[str, typer.Option("--date", help="the appointments' date, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option("--out", help="file to write")],
    count: Annotated[int, typer.Option("--count", min=1, help="how many appointments")] = 40,
    file_format: Annotated[str, typer.Option("--format", help="csv or fhir (a FHIR R4 Bundle)")] = "csv",
    carrier: Annotated[list[str] | None, typer.Option("--carrier", help="only these payers (repeatable): carriers, "
                       "or payers only a sandbox hub serves; default: every carrier in the dataset")]
        = None,
    seed: SeedOption = _DEFAULT_SEED,
    as_of: AsOfOption = _DEFAULT_AS_OF,
) -> None:
    """Write an appointment list pointing at sandbox members (for `aggregator appointments import`)."""
    from sandbox.appointments import appointment_list, write_csv, write_fhir_bundle
    from sandbox.carriers import hub_payers, unknown_carriers
    from sandbox.dataset import generate_dataset

    if file_format not in ("csv", "fhir"):
        raise typer.BadParameter(f"expected csv or fhir, got '{file_format}'", param_hint="--format")
    unknown = [c for c in unknown_carriers(carrier or []) if c not in hub_payers()]
    if unknown:
        raise typer.BadParameter(f"unknown carrier(s): {', '.join(unknown)}", param_hint="--carrier")
    visit_day = _as_of(day)
    rows = appointment_list(generate_dataset(seed=seed, as_of=_as_of(as_of)), visit_day, count,
                            carriers=tuple(carrier) if carrier else None)
    path = write_csv(rows, out) if file_format == "csv" else write_fhir_bundle(rows, out)
    console.print(f"wrote {len(rows)} appointment(s) on {visit_day} to {path}", highlight=False)


def demo(
    appointments: Annotated[int, typer.Option(help="how many appointments at the carriers' own portals the demo "
                                              "day has (a hub's payers add 4 each)")] = 24,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="where the demo keeps its state")] = Path("demo-data"),
) -> None:
    """Start the sandbox, import a day's appointments, run the overnight batch, print the worklist."""
    from aggregator.cli.common import console, load_settings  # the product CLI's console: wide in pipes and CI logs
    from sandbox.demo import run_demo

    if data_dir.is_dir() and data_dir.stat().st_mode & 0o077 and data_dir.stat().st_uid == os.getuid():
        # The demo's folder holds only the sandbox's invented patients; one made by an older version
        # (0755) is closed rather than refused, so `make demo` keeps working on a machine that ran it before.
        data_dir.chmod(0o700)
        console.print(f"{data_dir}: closed to other users (chmod 700)", highlight=False)
    settings = load_settings(data_dir)
    raise typer.Exit(run_demo(settings, appointments=appointments, console=console))


def register(root: typer.Typer) -> None:
    """The `aggregator.commands` entry point (sandbox/pyproject.toml): `aggregator sandbox ...` and `aggregator demo`
    exist where the sandbox is installed (a source checkout after `make setup`), not in the product's wheel."""
    root.add_typer(sandbox_app, name="sandbox")
    root.command("demo")(demo)
