"""The `aggregator` command.

Exit codes (stable, for scripts): 0 found / ok, 1 failed, 2 usage error, 3 member not found,
4 needs attention (adapter could not read the portal safely), 5 needs a human (account or portal
action), 6 retry later (portal unavailable or in maintenance).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from aggregator.cli_sandbox import sandbox_app
from aggregator.cli_vault import vault_app
from aggregator.errors import AggregatorError, Outcome
from aggregator.logging import configure_logging
from aggregator.models import EligibilityQuery, EligibilityRecord, MemberNotFound
from aggregator.settings import Settings

app = typer.Typer(help="Carrier portal aggregator: eligibility from insurance carrier portals, with evidence.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
lookup_app = typer.Typer(help="Ask a carrier portal one question now.", no_args_is_help=True)
evidence_app = typer.Typer(help="Inspect and verify captured evidence.", no_args_is_help=True)
app.add_typer(lookup_app, name="lookup")
app.add_typer(evidence_app, name="evidence")
app.add_typer(vault_app, name="vault")
app.add_typer(sandbox_app, name="sandbox")

EXIT_CODES = {
    Outcome.FOUND: 0, Outcome.FAILED: 1, Outcome.NOT_FOUND: 3, Outcome.NEEDS_ATTENTION: 4,
    Outcome.NEEDS_HUMAN: 5, Outcome.RETRY_LATER: 6,
}

# Pipes and CI logs get a wide console instead of Rich's 80 columns, so tables are not folded.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="state directory (default: AGGREGATOR_DATA_DIR or .)")]


def load_settings(data_dir: Path | None) -> Settings:
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    configure_logging(settings.log_format, settings.log_level)
    return settings


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def parse_iso_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date as YYYY-MM-DD, got '{value}'", 2) from None


@lookup_app.command("eligibility")
def lookup_eligibility(
    carrier: Annotated[str, typer.Option(help="carrier slug or display name, e.g. ridgeline")],
    member_id: Annotated[str, typer.Option("--member-id", help="member id as printed on the card")],
    dob: Annotated[str, typer.Option(help="date of birth, YYYY-MM-DD")],
    service_date: Annotated[str | None, typer.Option("--service-date", help="date of service, YYYY-MM-DD (default today)")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="optional, narrows the search")] = None,
    account: Annotated[str | None, typer.Option(help="vault account label to use (default: any active one)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the normalized answer as JSON")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Eligibility and benefits for one member on a date of service."""
    settings = load_settings(data_dir)
    try:
        query = EligibilityQuery(
            member_id=member_id, date_of_birth=parse_iso_date(dob, "--dob"),
            service_date=parse_iso_date(service_date, "--service-date") if service_date else date.today(),
            last_name=last_name or None,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}", 2) from None

    from aggregator.runner import Runner  # Playwright is imported only for commands that browse
    from aggregator.scrapers.registry import adapter_for

    try:
        adapter_for(carrier)  # an unknown carrier is named before a browser starts
    except AggregatorError as error:
        raise fail(error.reason, 1) from None

    async def run():  # type: ignore[no-untyped-def]
        async with Runner.open(settings) as runner:
            return await runner.eligibility(carrier, query, source="cli", account_label=account)

    try:
        result = asyncio.run(run())
    except AggregatorError as error:
        raise fail(error.reason, EXIT_CODES.get(error.outcome, 1)) from None

    files = settings.resolved_snapshots_dir
    evidence = [
        {"id": e.id, "url": e.url, "captured_at": e.captured_at.isoformat() + "Z", "label": e.label,
         "screenshot": str(files / e.screenshot_path), "html": str(files / e.html_path),
         "screenshot_sha256": e.screenshot_sha256}
        for e in result.evidence
    ]
    if as_json:
        payload = {
            "lookup_id": result.lookup_id, "carrier": result.carrier, "account": result.account_label,
            "outcome": result.outcome.value, "reason": result.reason, "reason_code": result.reason_code,
            "record": result.answer.model_dump(mode="json") if result.answer else None, "evidence": evidence,
        }
        console.print_json(json.dumps(payload))
    else:
        print_answer(result.answer)
        for item in evidence:
            console.print(f"evidence {item['id']}: {item['screenshot']}", highlight=False)
    if result.outcome is not Outcome.FOUND:
        reason = f"{result.outcome.value}: {result.reason}" if result.reason else result.outcome.value
        raise fail(reason, EXIT_CODES[result.outcome])


def print_answer(answer: EligibilityRecord | MemberNotFound | None) -> None:
    if answer is None:
        return
    if isinstance(answer, MemberNotFound):
        console.print(f"[yellow]No eligibility:[/yellow] {answer.reject_reason.label} (AAA03 {answer.reject_reason.value})")
        return
    m, c = answer.member, answer.coverage
    summary = Table.grid(padding=(0, 2))
    summary.add_row("Member", f"{m.first_name} {m.last_name}  ({m.member_id}, born {m.date_of_birth}, {m.relationship.label})")
    summary.add_row("Payer", f"{answer.payer.name} ({answer.payer.payer_id})")
    summary.add_row("Plan", f"{answer.plan.name} [{answer.plan.insurance_type.label}], group {answer.plan.group_number} {answer.plan.group_name}")
    ends = f" to {c.termination_date}" if c.termination_date else ""
    status = "[green]ACTIVE[/green]" if c.status.value == "1" else "[red]INACTIVE[/red]"
    summary.add_row("Coverage", f"{status} on {answer.service_date} (effective {c.effective_date}{ends})")
    if answer.prior_auth_service_types:
        summary.add_row("Prior auth", ", ".join(s.label for s in answer.prior_auth_service_types))
    console.print(summary)
    table = Table(title="Benefits", show_lines=False)
    for header in ("Service", "Benefit", "Network", "Level", "Period", "Value", "Prior auth"):
        table.add_column(header)
    for line in answer.benefits:
        if line.amount is not None:
            value = f"${line.amount:,.2f}"
        elif line.percent is not None:
            value = f"{line.percent * 100:g}%"
        else:
            value = f"{line.quantity:g} {line.quantity_qualifier.label if line.quantity_qualifier else ''}"
        table.add_row(line.service_type.label, line.kind.label, line.network.label,
                      line.coverage_level.label if line.coverage_level else "",
                      line.time_period.label if line.time_period else "", value, line.prior_auth.label)
    console.print(table)


@evidence_app.command("verify")
def evidence_verify(data_dir: DataDirOption = None) -> None:
    """Recompute every evidence file's SHA-256 and every link of the chain; report any break."""
    from aggregator.evidence import SnapshotFiles, verify_chain
    from aggregator.store import Repository

    settings = load_settings(data_dir)
    repository = Repository.open(settings.resolved_database_url)
    checked, problems = verify_chain(repository, SnapshotFiles(settings.resolved_snapshots_dir))
    for problem in problems:
        console.print(f"[red]entry {problem.seq}[/red] ({problem.evidence_id}): {problem.problem}", highlight=False)
    if problems:
        raise fail(f"{len(problems)} problem(s) in {checked} evidence entries", 1)
    console.print(f"[green]ok[/green]: {checked} evidence entries, files and chain intact")


@app.command("demo")
def demo(
    members: Annotated[int, typer.Option(help="how many sandbox members to look up")] = 20,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="where the demo keeps its state")] = Path("demo-data"),
) -> None:
    """Start the sandbox, vault its accounts, look up members of every kind, print a summary."""
    from aggregator.demo import run_demo

    settings = load_settings(data_dir)
    raise typer.Exit(run_demo(settings, members=members, console=console))


def main() -> None:  # pragma: no cover - console entry point
    app()
