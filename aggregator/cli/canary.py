"""`aggregator canary`: check each portal account's login and parsing now with its canary member, and
`aggregator canary set / remove / members` to configure those members (the web app's Admin > Canary does
the same). docs/canary.md says what passes and what a failure holds.

Exit codes of the check: 0 no portal failed; 4 a portal's canary failed (its batch items are held);
6 a portal did not answer (inconclusive, nothing held); 2 usage error (nothing configured to check).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from aggregator.cli.common import DataDirOption, app, console, fail, load_settings, parse_iso_date
from aggregator.errors import AggregatorError, ConfigurationError

if TYPE_CHECKING:
    from aggregator.overnight.canary import PortalVerdict

canary_app = typer.Typer(help="Check each portal account's login and parsing with a known member (before the batch "
                              "and on demand).", invoke_without_command=True)
app.add_typer(canary_app, name="canary")

PortalOption = Annotated[str, typer.Option("--portal", help="carrier slug or display name, e.g. ridgeline")]
AccountLabelOption = Annotated[str, typer.Option("--account", help="vault account label of that portal")]
STATUS_STYLE = {"passed": "green", "failed": "red", "inconclusive": "magenta", "skipped": "yellow"}


def _slug(portal: str) -> str:
    from aggregator.scrapers.registry import adapter_for

    try:
        return adapter_for(portal).manifest.slug
    except ConfigurationError as error:
        raise fail(error.reason, 2) from None


@canary_app.callback()
def check(
    ctx: typer.Context,
    portal: Annotated[str | None, typer.Option("--portal", help="only this portal (default: every portal with a "
                                                                 "canary member)")] = None,
    day: Annotated[str | None, typer.Option("--date", help="date of service to ask about, YYYY-MM-DD "
                                                            "(default: today in the practice's time zone)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the results as JSON")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Run every configured canary now (one eligibility lookup per portal account)."""
    if ctx.invoked_subcommand is not None:
        return
    from aggregator.overnight.canary import run_canaries
    from aggregator.runner import Runner
    from aggregator.store import Repository
    from aggregator.store import canary as store

    settings = load_settings(data_dir)
    carriers = [_slug(portal)] if portal else None
    service_date = (parse_iso_date(day, "--date") if day
                    else datetime.now(ZoneInfo(settings.timezone)).date())
    repository = Repository.open(settings.resolved_database_url)
    if not store.members(repository, carriers):
        where = f" for {carriers[0]}" if carriers else ""
        raise fail(f"no canary member configured{where}: add one on the web app's Admin > Canary page or with "
                   "`aggregator canary set --portal P --account A --member-id ... --dob ...`", 2)

    async def run() -> dict[str, PortalVerdict]:
        async with Runner.open(settings) as runner:
            return await run_canaries(runner, carriers=carriers, service_date=service_date, trigger="cli")

    try:
        verdicts = asyncio.run(run())
    except AggregatorError as error:
        raise fail(error.reason, 1) from None
    held = store.held_counts(repository)
    if as_json:
        print(json.dumps([{"portal": v.carrier, "held": v.held, "reason": v.reason, "reason_code": v.reason_code,
                           "checks": [{"account": c.account_label, "status": c.status, "reason": c.reason,
                                       "reason_code": c.reason_code, "differences": list(c.differences)}
                                      for c in v.checks]} for v in verdicts.values()], indent=2))
    else:
        _show(verdicts, held)
    if any(v.held for v in verdicts.values()):
        raise typer.Exit(4)
    if any(c.status == "inconclusive" for v in verdicts.values() for c in v.checks):
        raise typer.Exit(6)


def _show(verdicts: dict[str, PortalVerdict], held: dict[str, int]) -> None:
    table = Table(title="Canary")
    for header in ("Portal", "Account", "Result", "Why"):
        table.add_column(header, overflow="fold")
    for verdict in verdicts.values():
        for c in verdict.checks:
            style = STATUS_STYLE.get(c.status, "")
            why = "; ".join(filter(None, (c.reason, *c.differences[1:])))
            table.add_row(verdict.display_name, c.account_label, f"[{style}]{c.status}[/{style}]", escape(why))
    console.print(table)
    for verdict in verdicts.values():
        waiting = held.get(verdict.carrier, 0)
        if verdict.held:
            console.print(f"[red]{escape(verdict.hold_reason)}[/red]: the batch holds its items ({waiting} waiting now).")
        elif waiting:
            console.print(f"{verdict.display_name} passes again: its {waiting} held item(s) run at the next batch run "
                          "(`aggregator run --date D`, or the retry pass by itself).")


@canary_app.command("set")
def set_member(
    portal: PortalOption,
    account: AccountLabelOption,
    member_id: Annotated[str, typer.Option("--member-id", help="the canary member's id, as on the card")],
    dob: Annotated[str, typer.Option("--dob", help="the canary member's date of birth, YYYY-MM-DD")],
    last_name: Annotated[str | None, typer.Option("--last-name", help="when the portal's search needs it")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Configure (or replace) the canary member of one portal account."""
    from aggregator.overnight.canary import member_problem
    from aggregator.store import Repository
    from aggregator.store import canary as store
    from vault.configured import open_vault

    settings = load_settings(data_dir)
    slug = _slug(portal)
    problem = member_problem(member_id, last_name)
    if problem:
        raise fail(problem, 2)
    date_of_birth = parse_iso_date(dob, "--dob")
    vault = open_vault(settings)
    if vault.find(slug, account) is None:
        raise fail(f"no vault account '{slug}/{account}': the canary belongs to an existing portal account", 2)
    store.set_member(Repository.open(settings.resolved_database_url), carrier=slug, account_label=account,
                     member_id=member_id.strip(), date_of_birth=date_of_birth,
                     last_name=last_name.strip() if last_name else None, configured_by="cli")
    console.print(f"canary member of {slug}/{escape(account)} set ({store.masked_member_id(member_id.strip())}); "
                  "its first passing answer is the baseline")


@canary_app.command("remove")
def remove_member(portal: PortalOption, account: AccountLabelOption, data_dir: DataDirOption = None) -> None:
    """Stop checking one portal account (its past results stay)."""
    from aggregator.store import Repository
    from aggregator.store import canary as store

    settings = load_settings(data_dir)
    slug = _slug(portal)
    repository = Repository.open(settings.resolved_database_url)
    member = next((m for m in store.members(repository, [slug]) if m.account_label == account), None)
    if member is None:
        raise fail(f"no canary member for {slug}/{account}", 2)
    store.remove_member(repository, member.id)
    console.print(f"canary of {slug}/{escape(account)} removed")


@canary_app.command("members")
def list_members(data_dir: DataDirOption = None) -> None:
    """The configured canary members (member ids masked) and each one's latest result."""
    from aggregator.store import Repository
    from aggregator.store import canary as store

    settings = load_settings(data_dir)
    repository = Repository.open(settings.resolved_database_url)
    latest = store.latest_results(repository)
    table = Table(title="Canary members")
    for header in ("Portal", "Account", "Member", "Latest", "When", "Why"):
        table.add_column(header, overflow="fold")
    for member in store.members(repository):
        result = latest.get((member.carrier, member.account_label))
        table.add_row(member.carrier, member.account_label, store.masked_member_id(member.member_id),
                      result.status if result else "never run",
                      f"{result.started_at:%Y-%m-%d %H:%M %Z}" if result else "", escape(result.reason or "") if result else "")
    console.print(table)
