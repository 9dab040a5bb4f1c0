"""What every `aggregator` command shares: the root Typer app, consoles, options, settings loading, errors
and the exit codes.

Exit codes (stable, for scripts): 0 found / ok, 1 failed, 2 usage error, 3 member not found,
4 needs attention (adapter could not read the portal safely), 5 needs a human (account or portal
action), 6 retry later (portal unavailable or in maintenance), 7 not available at this carrier (its
manifest does not declare that question: the portal is not asked; the message says whom to call),
8 the portals disagree (`aggregator reconcile`: the portals of one payer answered differently).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from aggregator.errors import AggregatorError, ConfigurationError, NotAvailableAtCarrier, Outcome
from aggregator.logging import configure_logging
from aggregator.settings import Settings, private_dirs, private_umask

if TYPE_CHECKING:  # Playwright is imported only by commands that browse
    from aggregator.models.answers import Query
    from aggregator.runner import Runner
    from aggregator.scrapers.framework import Capability

M = TypeVar("M", bound=BaseModel)  # the query model build_query validates

app = typer.Typer(help="Carrier portal aggregator: eligibility from insurance carrier portals, with evidence.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def _private_files(ctx: typer.Context) -> None:
    """Every command creates its files 0600 and folders 0700 (database, WAL, evidence, exports), whatever
    the shell's umask: they hold patients' names, dates of birth and member ids."""
    previous = private_umask()
    ctx.call_on_close(lambda: os.umask(previous))  # a test calling the CLI in-process gets its umask back


EXIT_CODES = {
    Outcome.FOUND: 0, Outcome.FAILED: 1, Outcome.NOT_FOUND: 3, Outcome.NEEDS_ATTENTION: 4,
    Outcome.NEEDS_HUMAN: 5, Outcome.RETRY_LATER: 6, Outcome.NOT_AVAILABLE: 7,
}
EXIT_DISAGREE = 8  # `aggregator reconcile`: every portal answered, and not the same (no lookup outcome has it)

# Pipes and CI logs get a wide console instead of Rich's 80 columns, so tables are not folded.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="state directory (default: AGGREGATOR_DATA_DIR or .)")]
CarrierOption = Annotated[str, typer.Option(help="payer (health plan) slug or display name, e.g. ridgeline; "
                                                 "routed to a portal by <data dir>/routing.json")]
PortalOption = Annotated[str | None, typer.Option("--portal", help="ask this portal (its own site or a hub, e.g. "
                                                                   "crossway) instead of the routed one")]
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


def build_query(model: type[M], **fields: object) -> M:
    """Validate a query, naming the option at fault in the error (exit 2)."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = f"--{str(first['loc'][0]).replace('_', '-')}: " if first["loc"] else ""
        raise fail(f"{where}{first['msg'].removeprefix('Value error, ')}", 2) from None




def resolve_portal(text: str) -> str:
    """A portal's slug or display name (`--portal`) -> its slug; an unknown one names the known portals."""
    from aggregator.scrapers.registry import adapter_for, all_adapters

    try:
        return adapter_for(text).manifest.slug
    except ConfigurationError:
        known = ", ".join(a.manifest.slug for a in all_adapters())
        raise ConfigurationError(f"unknown portal '{text}' (known: {known})") from None


def plan_lookups(settings: Settings, carrier: str, asks: Sequence[tuple[Capability, Query]],
                 portal: str | None = None) -> tuple[str, str | None]:
    """The payer's slug and the forced portal's, with every question `asks` routed the way the runner will
    route it (aggregator/planning.py), before a browser starts: an unknown payer or portal, a portal that
    does not serve the payer, a name search no portal of the payer allows, or a malformed routing file is
    one line and exit 1; a question no portal of the payer answers is exit 7 with whom to call."""
    from aggregator.cli.output import show_not_available
    from aggregator.planning import routes_for
    from aggregator.scrapers.routing import resolve_payer

    try:
        payer = resolve_payer(carrier)
        forced = resolve_portal(portal) if portal is not None else None
        for capability, query in asks:
            routes_for(settings, capability, payer, query, forced)
    except NotAvailableAtCarrier as error:
        show_not_available(err_console, error)
        raise typer.Exit(EXIT_CODES[error.outcome]) from None
    except AggregatorError as error:
        raise fail(error.reason, 1) from None
    return payer, forced


def run_lookups(settings: Settings, calls: Callable[[Runner], Awaitable[T]]) -> T:
    """Run lookups in one runner (one browser, warm sessions); an error that ends the runner is one line
    with its outcome's exit code. Check the questions with `plan_lookups` first."""
    from aggregator.runner import Runner

    async def run() -> T:
        async with Runner.open(settings) as runner:
            return await calls(runner)

    try:
        return asyncio.run(run())
    except AggregatorError as error:
        raise fail(error.reason, EXIT_CODES.get(error.outcome, 1)) from None
