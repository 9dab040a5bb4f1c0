"""The `aggregator` command.

Exit codes (stable, for scripts): 0 found / ok, 1 failed, 2 usage error, 3 member not found,
4 needs attention (adapter could not read the portal safely), 5 needs a human (account or portal
action), 6 retry later (portal unavailable or in maintenance).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from aggregator.cli.appointments import appointments_app
from aggregator.cli.output import show_authorization_answer, show_result
from aggregator.cli.vault import vault_app
from aggregator.errors import AggregatorError, Outcome
from aggregator.logging import configure_logging
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery, ServiceType
from aggregator.settings import Settings, private_dirs, private_umask
from sandbox.cli import sandbox_app

if TYPE_CHECKING:  # Playwright is imported only by commands that browse
    from aggregator.runner import LookupResult, Runner

app = typer.Typer(help="Carrier portal aggregator: eligibility from insurance carrier portals, with evidence.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
lookup_app = typer.Typer(help="Ask a carrier portal one question now.", no_args_is_help=True)
evidence_app = typer.Typer(help="Inspect and verify captured evidence.", no_args_is_help=True)
app.add_typer(lookup_app, name="lookup")
app.add_typer(evidence_app, name="evidence")
app.add_typer(vault_app, name="vault")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(appointments_app, name="appointments")
app.add_typer(__import__("aggregator.cli.users", fromlist=["users_app"]).users_app, name="users")  # web users


@app.callback()
def _private_files(ctx: typer.Context) -> None:
    """Every command creates its files 0600 and folders 0700 (database, WAL, evidence, exports), whatever
    the shell's umask: they hold patients' names, dates of birth and member ids."""
    previous = private_umask()
    ctx.call_on_close(lambda: os.umask(previous))  # a test calling the CLI in-process gets its umask back


EXIT_CODES = {
    Outcome.FOUND: 0, Outcome.FAILED: 1, Outcome.NOT_FOUND: 3, Outcome.NEEDS_ATTENTION: 4,
    Outcome.NEEDS_HUMAN: 5, Outcome.RETRY_LATER: 6,
}

# Pipes and CI logs get a wide console instead of Rich's 80 columns, so tables are not folded.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="state directory (default: AGGREGATOR_DATA_DIR or .)")]
CarrierOption = Annotated[str, typer.Option(help="carrier slug or display name, e.g. ridgeline")]
MemberIdOption = Annotated[str, typer.Option("--member-id", help="member id as printed on the card")]
DobOption = Annotated[str, typer.Option(help="date of birth, YYYY-MM-DD")]
AccountOption = Annotated[str | None, typer.Option(help="vault account label to use (default: any active one)")]
JsonOption = Annotated[bool, typer.Option("--json", help="print the normalized answer as JSON")]
T = TypeVar("T")


def load_settings(data_dir: Path | None) -> Settings:
    """The settings, logging configured, and the data directory made (0700) or refused if others can use it."""
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        private_dirs(settings)
    except AggregatorError as error:
        raise fail(error.reason, 2) from None
    return settings


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def parse_iso_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date as YYYY-MM-DD, got '{value}'", 2) from None


def build_query(model: type[BaseModel], **fields: object) -> BaseModel:
    """Validate a query, naming the option at fault in the error (exit 2)."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = f"--{str(first['loc'][0]).replace('_', '-')}: " if first["loc"] else ""
        raise fail(f"{where}{first['msg'].removeprefix('Value error, ')}", 2) from None


def run_lookups(settings: Settings, carrier: str, calls: Callable[[Runner], Awaitable[T]]) -> T:
    """Run lookups in one runner (one browser, warm sessions); configuration errors exit with one line."""
    from aggregator.runner import Runner
    from aggregator.scrapers.registry import adapter_for

    try:
        adapter_for(carrier)  # an unknown carrier is named before a browser starts
    except AggregatorError as error:
        raise fail(error.reason, 1) from None

    async def run() -> T:
        async with Runner.open(settings) as runner:
            return await calls(runner)

    try:
        return asyncio.run(run())
    except AggregatorError as error:
        raise fail(error.reason, EXIT_CODES.get(error.outcome, 1)) from None


def finish(result: LookupResult, settings: Settings, as_json: bool, extra: dict | None = None) -> None:
    show_result(console, result, settings.resolved_snapshots_dir, as_json=as_json, extra=extra)
    if result.outcome is not Outcome.FOUND:
        reason = f"{result.outcome.value}: {result.reason}" if result.reason else result.outcome.value
        raise fail(reason, EXIT_CODES[result.outcome])


@lookup_app.command("eligibility")
def lookup_eligibility(
    carrier: CarrierOption,
    member_id: MemberIdOption,
    dob: DobOption,
    service_date: Annotated[str | None, typer.Option("--service-date", help="date of service, YYYY-MM-DD (default today)")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="optional, narrows the search")] = None,
    account: AccountOption = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Eligibility and benefits for one member on a date of service."""
    settings = load_settings(data_dir)
    query = build_query(EligibilityQuery, member_id=member_id, date_of_birth=parse_iso_date(dob, "--dob"),
                        service_date=parse_iso_date(service_date, "--service-date") if service_date else date.today(),
                        last_name=last_name or None)
    result = run_lookups(settings, carrier, lambda r: r.eligibility(carrier, query, account_label=account))
    finish(result, settings, as_json)


@lookup_app.command("authorizations")
def lookup_authorizations(
    carrier: CarrierOption,
    member_id: MemberIdOption,
    dob: DobOption,
    service_date: Annotated[str | None, typer.Option("--service-date", help="with --service-type/--procedure: answer "
                                                     "whether this visit needs an authorization and has one")] = None,
    service_type: Annotated[str | None, typer.Option("--service-type", help="X12 service type code, e.g. 62")] = None,
    procedure: Annotated[str | None, typer.Option("--procedure", help="CPT/HCPCS code, e.g. 70551")] = None,
    account: AccountOption = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Prior authorizations on file for a member; with a visit, whether it needs one and has one."""
    from aggregator.flows.authorization import answer_authorization

    settings = load_settings(data_dir)
    query = build_query(AuthorizationQuery, member_id=member_id, date_of_birth=parse_iso_date(dob, "--dob"))
    if (service_type or procedure) and not service_date:
        raise fail("--service-type/--procedure need --service-date (the visit to check)", 2)
    visit_type = None
    if service_type:
        try:
            visit_type = ServiceType(service_type.strip().upper())
        except ValueError:
            raise fail(f"--service-type: '{service_type}' is not an X12 service type code this product knows", 2) from None
    if not service_date:
        result = run_lookups(settings, carrier, lambda r: r.authorizations(carrier, query, account_label=account))
        finish(result, settings, as_json)
        return
    visit = parse_iso_date(service_date, "--service-date")
    eligibility_query = build_query(EligibilityQuery, member_id=member_id, date_of_birth=query.date_of_birth,
                                    service_date=visit)

    async def both(runner: Runner) -> tuple[LookupResult, LookupResult]:
        coverage = await runner.eligibility(carrier, eligibility_query, account_label=account)
        return coverage, await runner.authorizations(carrier, query, account_label=account)

    coverage, auths = run_lookups(settings, carrier, both)
    for part in (coverage, auths):
        if part.outcome is not Outcome.FOUND:
            finish(part, settings, as_json)
    answer = answer_authorization(coverage.answer, auths.answer, service_date=visit,  # type: ignore[arg-type]
                                  service_type=visit_type, procedure_code=procedure.strip().upper() if procedure else None)
    finish(auths, settings, as_json, extra={"authorization_answer": answer.model_dump(mode="json")})
    if not as_json:
        show_authorization_answer(console, answer)


@lookup_app.command("claims")
def lookup_claims(
    carrier: CarrierOption,
    claim_number: Annotated[str | None, typer.Option("--claim-number", help="the payer's claim number")] = None,
    member_id: Annotated[str | None, typer.Option("--member-id", help="member id (with --dob, --from, --to)")] = None,
    dob: Annotated[str | None, typer.Option(help="date of birth, YYYY-MM-DD")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first date of service, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last date of service, YYYY-MM-DD (default today)")] = None,
    account: AccountOption = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Claim status by claim number, or every claim of a member in a date range (all result pages)."""
    settings = load_settings(data_dir)
    query = build_query(
        ClaimQuery, claim_number=claim_number.strip() if claim_number else None, member_id=member_id,
        date_of_birth=parse_iso_date(dob, "--dob") if dob else None,
        service_from=parse_iso_date(date_from, "--from") if date_from else None,
        service_to=parse_iso_date(date_to, "--to") if date_to else (date.today() if member_id else None),
    )
    result = run_lookups(settings, carrier, lambda r: r.claims(carrier, query, account_label=account))
    finish(result, settings, as_json)


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
    appointments: Annotated[int, typer.Option(help="how many sandbox appointments the demo day has")] = 24,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="where the demo keeps its state")] = Path("demo-data"),
) -> None:
    """Start the sandbox, import a day's appointments, run the overnight batch, print the worklist."""
    from sandbox.demo import run_demo

    if data_dir.is_dir() and data_dir.stat().st_mode & 0o077 and data_dir.stat().st_uid == os.getuid():
        # The demo's folder holds only the sandbox's invented patients; one made by an older version
        # (0755) is closed rather than refused, so `make demo` keeps working on a machine that ran it before.
        data_dir.chmod(0o700)
        console.print(f"{data_dir}: closed to other users (chmod 700)", highlight=False)
    settings = load_settings(data_dir)
    raise typer.Exit(run_demo(settings, appointments=appointments, console=console))


def main() -> None:  # pragma: no cover - console entry point
    app()


# Commands defined in their own modules register on `app` when imported (after everything above exists).
from aggregator.cli import batch as cli_batch  # noqa: E402,F401
