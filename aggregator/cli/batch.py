"""`aggregator run`, `aggregator worklist`, `aggregator schedule show` and `aggregator serve`.

With `--dispatch queue` (docs/scale-out.md) `run` enqueues the day for `aggregator worker` processes and
returns 0; with `--follow` it waits for them and exits as an inline run does (6 when items still wait).

Exit codes of `run`: 0 every appointment reached a terminal state and none failed; 1 some failed
(their reasons are listed; retryable ones are tried again by `aggregator run --retry-failed` or the
scheduler's retry pass); 6 some are deferred (a maintenance window outlasted the run); 5 a portal's canary
failed, so its items are held (pending, docs/canary.md). A visit whose
prior-auth question the carrier's portal cannot answer is not a failure: it is listed with the
call-the-payer item ("not available at this carrier").
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aggregator.cli.common import DataDirOption, app, console, fail, load_settings, parse_iso_date
from aggregator.errors import AggregatorError

if TYPE_CHECKING:
    from aggregator.overnight.batch import BatchSummary
    from aggregator.overnight.worklist import WorklistRow
    from aggregator.settings import Settings
    from aggregator.store import Repository
    from aggregator.store.tables import BatchItemRow

schedule_app = typer.Typer(help="The nightly pre-visit run and other timed jobs.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")

DateOption = Annotated[str, typer.Option("--date", help="appointment date, YYYY-MM-DD")]
NOT_AVAILABLE_CODE = "not_available_at_carrier"  # aggregator.errors.NotAvailableAtCarrier().code
STATE_STYLE = {"verified": "green", "verified_with_changes": "cyan", "not_found": "yellow", "needs_human": "red",
               "failed": "red", "deferred": "magenta"}


@app.command("run")
def run_batch(
    day: DateOption,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="also retry items that failed retryably")] = False,
    dispatch: Annotated[str | None, typer.Option(
        "--dispatch", help="inline: this process checks the day; queue: enqueue it for `aggregator worker` "
                           "processes (PostgreSQL) and return (default AGGREGATOR_DISPATCH, inline)")] = None,
    follow: Annotated[bool, typer.Option("--follow", help="with --dispatch queue: show progress until the "
                                                          "workers have finished the day")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Verify every appointment of a date: eligibility, and prior auth when the visit names procedures."""
    from aggregator.overnight.batch import BatchRun
    from aggregator.runner import Runner
    from aggregator.store import batches
    from aggregator.webhooks.deliverer import Delivering

    settings = load_settings(data_dir)
    target = parse_iso_date(day, "--date")
    mode = dispatch or settings.dispatch
    if mode not in ("inline", "queue"):
        raise fail(f"--dispatch must be inline or queue, not '{mode}'", 2)
    if mode == "queue":
        _run_on_queue(settings, target, retry_failed=retry_failed, follow=follow)
        return
    if follow:
        raise fail("--follow goes with --dispatch queue (an inline run always shows its progress)", 2)
    webhooks: list[Delivering] = []

    async def run() -> BatchSummary:
        async with Runner.open(settings) as runner:
            # Webhook events go out while the batch runs; before exit, a bounded wait for the rest (docs/webhooks.md).
            delivering = Delivering(runner.repository, settings, drain_seconds=settings.webhook_drain_seconds)
            webhooks.append(delivering)
            async with delivering:
                return await _run_with_progress(runner)

    async def _run_with_progress(runner: Runner) -> BatchSummary:
        batches.ensure_items(runner.repository, target)
        todo = len(batches.items_on(runner.repository, target, batches.UNFINISHED))
        if retry_failed:
            todo += sum(1 for i in batches.items_on(runner.repository, target, ["failed"]) if i.retryable)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        # Twice a second is enough for a run of minutes; rich's default 10 redraws a second cost about
        # 0.01 CPU-s per check of a 300-check batch (benchmarks/README.md, "Our Python in the batch").
        with Progress(*columns, console=console, transient=False, refresh_per_second=2) as progress:
            task = progress.add_task(f"checking {target}", total=todo)

            def advance(item: BatchItemRow) -> None:
                progress.update(task, advance=1, description=f"{item.carrier}: {item.state.replace('_', ' ')}")

            return await BatchRun(runner, target, trigger="cli", retry_failed=retry_failed,
                                  on_progress=advance).run()

    try:
        summary = asyncio.run(run())
    except AggregatorError as error:
        raise fail(error.reason, 1) from None
    _show_summary(settings, target, summary)
    if webhooks and webhooks[0].left_pending:
        console.print(f"{webhooks[0].left_pending} webhook deliveries are still pending: the next `aggregator serve` "
                      "or `aggregator run` sends them (see /admin/webhooks)")
    if summary.counts.get("deferred"):
        raise typer.Exit(6)
    if summary.counts.get("failed"):
        raise typer.Exit(1)
    if summary.held:
        raise typer.Exit(5)


def _run_on_queue(settings: Settings, target: date, *, retry_failed: bool, follow: bool) -> None:
    """Enqueue the day's jobs for the workers; with `follow`, the same progress bar and summary as inline."""
    from aggregator.dispatch.run import enqueue_run, follow_run
    from aggregator.store import Repository

    try:
        report = asyncio.run(enqueue_run(settings, target, retry_failed=retry_failed))
    except AggregatorError as error:
        raise fail(error.reason, 2) from None
    console.print(f"{target}: {report.queued} check(s) queued for the workers"
                  + (f", {report.already_queued} already queued" if report.already_queued else "")
                  + (f", {report.finished} need someone (no usable portal account)" if report.finished else ""))
    if not follow:
        return
    repository = Repository.open(settings.resolved_database_url)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False, refresh_per_second=2) as progress:
        task = progress.add_task(f"checking {target}", total=report.queued + report.already_queued)

        def advance(item: BatchItemRow) -> None:
            progress.update(task, advance=1, description=f"{item.carrier}: {item.state.replace('_', ' ')}")

        summary = asyncio.run(follow_run(repository, report, settings.batch_deadline_minutes * 60, advance))
    _show_summary(settings, target, summary, logins_known=False)
    if summary.counts.get("deferred") or summary.counts.get("pending") or summary.counts.get("running"):
        raise typer.Exit(6)
    if summary.counts.get("failed"):
        raise typer.Exit(1)


def _show_summary(settings: Settings, target: date, summary: BatchSummary, *, logins_known: bool = True) -> None:
    from aggregator.overnight import worklist
    from aggregator.scrapers.routing import payer_name
    from aggregator.store import Repository, batches

    # On the queue, logins happen in the workers: this process cannot count them.
    logins = f", {summary.logins} login(s)" if logins_known else ""
    table = Table(title=f"Appointments of {target}: {summary.total} in {summary.seconds:.0f} s{logins}")
    table.add_column("State")
    table.add_column("Count", justify="right")
    for state, count in sorted(summary.counts.items(), key=lambda kv: kv[0]):
        style = STATE_STYLE.get(state, "")
        table.add_row(f"[{style}]{state.replace('_', ' ')}[/{style}]" if style else state, str(count))
    console.print(table)
    repository = Repository.open(settings.resolved_database_url)
    # Verified items whose prior-auth part the portal cannot answer need a call too (not available at this carrier).
    attention = [i for i in batches.items_on(repository, target) if i.state in ("needs_human", "failed", "deferred")
                 or i.reason_code == NOT_AVAILABLE_CODE]
    if attention:
        detail = Table(title="Needs someone")
        for header in ("Appointment", "Payer", "State", "Why", "What to do"):
            detail.add_column(header, overflow="fold")
        for item in attention:
            portal = worklist.portal_name(worklist.answered_by(repository, item.eligibility_lookup_id))
            detail.add_row(item.appointment_id, worklist.via(payer_name(item.carrier), portal),
                           "deferred: daily limit" if item.reason_code == worklist.DAILY_LIMIT
                           else item.state.replace("_", " "), item.reason or "",
                           item.action or ("tried again by the retry pass" if item.retryable else ""))
        console.print(detail)
    if summary.deferred_until:
        console.print(f"Deferred items wait for a maintenance window to end at {summary.deferred_until:%Y-%m-%d %H:%M %Z}; "
                      "run again then (the scheduler does this by itself).")
    for reason in summary.held.values():  # a failed canary: that portal's items were not attempted (docs/canary.md)
        console.print(f"{reason}; its items wait, pending: see `aggregator canary`", markup=False, style="red")
    print_account_warnings(settings, repository)


def print_account_warnings(settings: Settings, repository: Repository) -> None:
    """What portals told the practice's accounts (a password expiring): one line each, no member data."""
    from aggregator.overnight import worklist

    today = datetime.now(ZoneInfo(settings.timezone)).date()
    for warning in worklist.account_warnings(repository, today):
        console.print(f"Warning: {warning.line}", markup=False, style="yellow")


@app.command("worklist")
def show_worklist(
    day: DateOption,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """One row per appointment: state, coverage, the patient's cost share, the auth answer, what changed."""
    from aggregator.overnight import worklist
    from aggregator.store import Repository

    if as_csv and as_json:
        raise fail("choose one of --csv and --json", 2)
    settings = load_settings(data_dir)
    target = parse_iso_date(day, "--date")
    repository = Repository.open(settings.resolved_database_url)
    rows = worklist.worklist(repository, target)
    if as_csv:
        typer.echo(worklist.as_csv(rows), nl=False)
        return
    if as_json:
        typer.echo(worklist.as_json(rows))
        return
    console.print(render_worklist(rows, target, settings.timezone))
    print_account_warnings(settings, repository)


def render_worklist(rows: list[WorklistRow], day: date, zone: str = "UTC") -> Table:
    from aggregator.overnight import worklist

    table = Table(title=f"Worklist {day}: " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                                       for k, v in worklist.state_counts(rows).items()))
    for header in ("Time", "Patient", "Payer", "State", "Coverage", "Copay", "Coins.", "Ded. left", "Auth",
                   "Changed", "To do"):
        table.add_column(header, overflow="fold")
    for row in rows:
        style = STATE_STYLE.get(row.state, "")
        state = row.state_words + (f" (can run from {row.not_before.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z})"
                                   if row.not_before else "")
        table.add_row(
            f"{row.starts_at:%H:%M}", row.patient_name, row.payer_via,
            f"[{style}]{state}[/{style}]" if style else state,
            row.coverage or "", _money(row.copay), f"{row.coinsurance * 100:.0f}%" if row.coinsurance is not None else "",
            _money(row.deductible_remaining), row.auth or "", "; ".join(row.changes),
            _to_do(row),
        )
    return table


def _to_do(row: WorklistRow) -> str:
    """The item's action, else the first thing the auth answer says is missing (and how many more); then the
    first call-the-payer item not already said (the carrier's portal cannot show it)."""
    if row.action:
        said = row.action
    elif row.auth_missing:
        more = len(row.auth_missing) - 1
        said = row.auth_missing[0] + (f" (+{more} more: see the appointment)" if more else "")
    else:
        said = ""
    calls = [c for c in row.call_the_payer if c != row.action and c not in row.auth_missing]
    if not calls:
        return said
    call = calls[0] + (f" (+{len(calls) - 1} more calls: see --json)" if len(calls) > 1 else "")
    return f"{said}; {call}" if said else call


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"${value:,.2f}"


@schedule_app.command("show")
def schedule_show(data_dir: DataDirOption = None) -> None:
    """List the scheduled jobs and when each runs next (practice-local time)."""
    from aggregator.overnight.schedule import scheduled_jobs

    settings = load_settings(data_dir)
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    jobs, installed = scheduled_jobs(settings)
    table = Table(title=f"Scheduled jobs ({settings.timezone})" + ("" if installed else
                  " - not installed yet: `aggregator serve` installs them"), caption=_who_starts_runs(settings))
    for header in ("Job", "When", "Next run"):
        table.add_column(header)
    for job in jobs:
        table.add_row(job.id, job.trigger, f"{job.next_run:%Y-%m-%d %H:%M %Z}" if job.next_run else "paused")
    console.print(table)


def _who_starts_runs(settings: Settings) -> str | None:
    """On the queue the workers' tick starts the nightly run and the retry pass at these times, not `serve`."""
    if settings.dispatch != "queue":
        return None
    if settings.queue_scheduled_runs:
        return "Dispatch queue: the queue workers start these runs at these times (`aggregator serve` stands aside)."
    return ("Dispatch queue with AGGREGATOR_QUEUE_SCHEDULED_RUNS=false: no run starts on its own; "
            "only `aggregator run` starts one.")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on (default AGGREGATOR_WEB_HOST, 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (default AGGREGATOR_WEB_PORT, 8000)")] = None,
    web: Annotated[bool, typer.Option("--web/--no-web", help="serve the web app beside the scheduler")] = True,
    data_dir: DataDirOption = None,
) -> None:
    """Run the scheduler (nightly run, retry pass) and the web app until interrupted."""
    from aggregator.cli.serve import serve_forever

    settings = load_settings(data_dir)
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    host, port = host or settings.web_host, port or settings.web_port
    console.print(f"scheduler on ({settings.timezone}); " + (f"web app on http://{host}:{port}" if web else "no web app"))
    try:
        asyncio.run(serve_forever(settings, host=host, port=port, web=web))
    except KeyboardInterrupt:
        console.print("stopped")
