"""`aggregator sandbox ...`: run the sandbox carrier portals and export their provider accounts.

The sandbox is local imitation portals with generated data (see sandbox/README.md); its accounts are
sandbox data, so exporting their passwords and TOTP seeds to a file for `aggregator vault import` is
fine. The terminal only ever shows usernames.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

sandbox_app = typer.Typer(help="Local imitation carrier portals for the demo, tests and benchmarks.",
                          no_args_is_help=True)
console = Console()

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
    port_base: Annotated[int, typer.Option("--port-base", help="first port; carriers take consecutive ports "
                                           "in a fixed order (ridgeline, bluepeak, cascade)")] = 8101,
    seed: SeedOption = _DEFAULT_SEED,
    as_of: AsOfOption = _DEFAULT_AS_OF,
    host: Annotated[str, typer.Option(help="loopback address to bind")] = "127.0.0.1",
    accounts_file: Annotated[Path | None, typer.Option("--accounts-file", help="where to write the "
                             "accounts export (default: a file in the system temp directory)")] = None,
    exit_after: Annotated[float | None, typer.Option("--exit-after", hidden=True,
                          help="stop after N seconds (smoke tests)")] = None,
) -> None:
    """Start every sandbox portal in the foreground until Ctrl-C."""
    from sandbox.accounts import export_accounts
    from sandbox.carriers import CARRIER_ORDER
    from sandbox.server import PORTALS, start_sandbox

    carriers = tuple(slug for slug in CARRIER_ORDER if slug in PORTALS)
    ports = {slug: port_base + CARRIER_ORDER.index(slug) for slug in carriers}
    try:
        handle = start_sandbox(carriers, host=host, ports=ports, seed=seed, as_of=_as_of(as_of))
    except (ValueError, RuntimeError) as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None
    with handle:
        dataset = handle.dataset
        export = export_accounts((a for slug in carriers for a in dataset.carrier(slug).accounts),
                                 accounts_file or _default_accounts_file(seed))
        console.print(f"Sandbox (seed {seed}, today {dataset.as_of.isoformat()}):", highlight=False)
        for slug in carriers:
            data = dataset.carrier(slug)
            users = ", ".join(a.username for a in data.accounts)
            console.print(f"  {data.profile.display_name:<18} {handle.urls[slug]}/login   accounts: {users}",
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
    carrier: Annotated[list[str] | None, typer.Option("--carrier", help="only these carriers (repeatable); "
                       "default: every carrier with a running portal implementation")] = None,
) -> None:
    """Write the sandbox's provider accounts, with secrets, for `aggregator vault import`."""
    from sandbox.accounts import export_accounts
    from sandbox.carriers import CARRIER_ORDER, PROFILES
    from sandbox.dataset import generate_dataset
    from sandbox.server import PORTALS

    slugs = tuple(carrier) if carrier else tuple(s for s in CARRIER_ORDER if s in PORTALS)
    unknown = [s for s in slugs if s not in PROFILES]
    if unknown:
        raise typer.BadParameter(f"unknown carrier(s): {', '.join(unknown)}", param_hint="--carrier")
    # Accounts do not depend on the reference date; any as_of gives the same ones.
    dataset = generate_dataset(seed=seed, carriers=slugs)
    rows = [a for slug in slugs for a in dataset.carrier(slug).accounts]
    path = export_accounts(rows, export)
    console.print(f"wrote {len(rows)} sandbox account(s) to {path}", highlight=False)


def _record_bluepeak(out: Path) -> None:
    import asyncio

    from sandbox.bluepeak.recording import record

    asyncio.run(record(out))


def _record_cascade(out: Path) -> None:
    from sandbox.cascade.recording import record_all

    record_all(out / "cascade")  # its recorder writes <root>/<flow>/<case>


OWN_RECORDERS = {"bluepeak": _record_bluepeak, "cascade": _record_cascade}


@sandbox_app.command("record-pages")
def record_pages_command(
    out: Annotated[Path, typer.Option("--out", help="recorded-pages root; cases go to <out>/<carrier>/<flow>/")]
        = Path("tests/recorded_pages"),
    carrier: Annotated[str, typer.Option("--carrier", help="sandbox carrier to record")] = "ridgeline",
    seed: SeedOption = _DEFAULT_SEED,
    flow: Annotated[list[str] | None, typer.Option(
        "--flow", help="eligibility, authorization or claim_status (repeatable); default: all three")] = None,
    case: Annotated[list[str] | None, typer.Option(
        "--case", help="only this case (repeatable; recorded in every selected flow that has it); default: all")]
        = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="show the runner's log lines")] = False,
) -> None:
    """Regenerate the recorded-page test cases from the sandbox, checked live against its ground truth.

    Starts the sandbox on loopback, logs in with a throwaway vault and a real Chromium, looks up each
    case through the real runner and adapter, and writes the captured HTML plus the sandbox's ground
    truth (or the expected refusal). Any live answer that disagrees with the ground truth is printed,
    nothing is written, and the exit code is 1.
    """
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from aggregator.errors import AggregatorError
    from aggregator.logging import configure_logging
    from aggregator.recording import FLOW_CASE_NAMES, FLOWS, RecordingMismatch, record_pages

    configure_logging("console", "INFO" if verbose else "ERROR")
    if carrier in OWN_RECORDERS:
        # BluePeak and Cascade record every case of theirs in one go (each checked against the ground
        # truth before anything is written); --flow and --case select Ridgeline cases only.
        if flow or case:
            raise typer.BadParameter("--flow and --case apply to ridgeline only", param_hint="--carrier")
        try:
            OWN_RECORDERS[carrier](out)
        except (ValueError, RuntimeError, AggregatorError, AssertionError) as error:
            console.print(f"[red]refused:[/red] {error}", highlight=False)
            raise typer.Exit(1) from None
        console.print(f"recorded {carrier} cases in {out / carrier}", highlight=False)
        return
    flows = tuple(dict.fromkeys(flow)) if flow else FLOWS
    unknown = [f for f in flows if f not in FLOWS]
    if unknown:
        raise typer.BadParameter(f"unknown flow(s): {', '.join(unknown)} (known: {', '.join(FLOWS)})",
                                 param_hint="--flow")
    total = sum(len([c for c in FLOW_CASE_NAMES[f] if not case or c in case]) for f in flows)
    columns = (TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("starting sandbox", total=total)

        def on_case(name: str, done: int, of: int) -> None:
            progress.update(task, description=name or "written", completed=done, total=of)

        try:
            written = asyncio.run(record_pages(out, carrier=carrier, seed=seed, cases=case, on_case=on_case,
                                               flows=flows))
        except RecordingMismatch as mismatch:
            progress.stop()
            console.print(f"[red]refused:[/red] {mismatch}", highlight=False)
            raise typer.Exit(1) from None
        except (ValueError, RuntimeError, AggregatorError) as error:
            progress.stop()
            console.print(f"[red]error:[/red] {error}", highlight=False)
            raise typer.Exit(1) from None
    where = ", ".join(str(out / carrier / f) for f in flows)
    console.print(f"recorded {len(written)} case(s) for {carrier} in {where}", highlight=False)


@sandbox_app.command("appointments")
def appointments_command(
    day: Annotated[str, typer.Option("--date", help="the appointments' date, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option("--out", help="file to write")],
    count: Annotated[int, typer.Option("--count", min=1, help="how many appointments")] = 40,
    file_format: Annotated[str, typer.Option("--format", help="csv or fhir (a FHIR R4 Bundle)")] = "csv",
    carrier: Annotated[list[str] | None, typer.Option("--carrier", help="only these carriers (repeatable); "
                       "default: every carrier in the dataset")] = None,
    seed: SeedOption = _DEFAULT_SEED,
    as_of: AsOfOption = _DEFAULT_AS_OF,
) -> None:
    """Write an appointment list pointing at sandbox members (for `aggregator appointments import`)."""
    from sandbox.appointments import appointment_list, write_csv, write_fhir_bundle
    from sandbox.carriers import PROFILES
    from sandbox.dataset import generate_dataset

    if file_format not in ("csv", "fhir"):
        raise typer.BadParameter(f"expected csv or fhir, got '{file_format}'", param_hint="--format")
    unknown = [s for s in carrier or () if s not in PROFILES]
    if unknown:
        raise typer.BadParameter(f"unknown carrier(s): {', '.join(unknown)}", param_hint="--carrier")
    visit_day = _as_of(day)
    rows = appointment_list(generate_dataset(seed=seed, as_of=_as_of(as_of)), visit_day, count,
                            carriers=tuple(carrier) if carrier else None)
    path = write_csv(rows, out) if file_format == "csv" else write_fhir_bundle(rows, out)
    console.print(f"wrote {len(rows)} appointment(s) on {visit_day} to {path}", highlight=False)
