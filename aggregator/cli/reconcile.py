"""`aggregator reconcile`: ask every portal that serves a payer the same question and show where they disagree.

A payer reached through its own site and through a hub (Ridgeline Mutual on ridgeline and on Crossway) has
two copies of a member's data; a hub's copy can lag. Staff run this when the two seem not to say the same
thing. Every portal whose manifest serves the payer is asked (not only the routed ones), each with `portal=`
forced, in one runner; the comparison is aggregator/flows/reconcile.py.

Exit codes: 0 every portal answered and they agree; 8 (EXIT_DISAGREE) they answered and disagree; a portal
that could not answer exits with that lookup's own code (1, 4, 5, 6; see aggregator/cli/common.py) after
naming the portal and why; 2 a usage error, including a payer reached through fewer than two portals.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from aggregator.cli.common import (
    EXIT_CODES,
    EXIT_DISAGREE,
    CarrierOption,
    DataDirOption,
    DobOption,
    JsonOption,
    MemberIdOption,
    app,
    build_query,
    console,
    err_console,
    fail,
    load_settings,
    parse_iso_date,
    plan_lookups,
    run_lookups,
)
from aggregator.cli.output import portal_name
from aggregator.errors import Outcome
from aggregator.evidence_files import evidence_files
from aggregator.flows.reconcile import FieldDifference, differences, shown
from aggregator.models import ClaimQuery, EligibilityQuery
from aggregator.scrapers.framework import Capability
from aggregator.scrapers.routing import default_routes, payer_name
from aggregator.settings import Settings

if TYPE_CHECKING:  # Playwright is imported only by commands that browse
    from aggregator.models.answers import Query
    from aggregator.runner import LookupResult, Runner

ANSWERED = (Outcome.FOUND, Outcome.NOT_FOUND)  # "member not found" is an answer the portals can agree on


@app.command("reconcile")
def reconcile(
    carrier: CarrierOption,
    member_id: MemberIdOption,
    dob: DobOption,
    service_date: Annotated[str | None, typer.Option("--service-date", help="date of service, YYYY-MM-DD (default today)")] = None,
    claims: Annotated[bool, typer.Option("--claims", help="compare the member's claims (--from, --to) instead of "
                                                          "eligibility and benefits")] = False,
    date_from: Annotated[str | None, typer.Option("--from", help="with --claims: first date of service, YYYY-MM-DD "
                                                                 "(default a year before --to)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="with --claims: last date of service, YYYY-MM-DD "
                                                             "(default today)")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Ask every portal that serves the payer (its own site and the hubs) and list the fields they disagree on."""
    settings = load_settings(data_dir)
    birth = parse_iso_date(dob, "--dob")
    query: Query
    if claims:
        if service_date:
            raise fail("--service-date is for eligibility; with --claims give --from and --to", 2)
        to = parse_iso_date(date_to, "--to") if date_to else date.today()
        start = parse_iso_date(date_from, "--from") if date_from else to - timedelta(days=365)
        query = build_query(ClaimQuery, member_id=member_id, date_of_birth=birth, service_from=start, service_to=to)
        capability = Capability.CLAIM_STATUS
    else:
        if date_from or date_to:
            raise fail("--from/--to are for --claims", 2)
        query = build_query(EligibilityQuery, member_id=member_id, date_of_birth=birth,
                            service_date=parse_iso_date(service_date, "--service-date") if service_date else date.today())
        capability = Capability.ELIGIBILITY
    payer, _ = plan_lookups(settings, carrier, [])
    portals = [route.portal for route in default_routes(payer)]  # every portal that serves it, own site first
    if len(portals) < 2:
        where = ", ".join(portal_name(p) for p in portals) or "no portal"
        raise fail(f"{payer_name(payer)} is reached through one portal only ({where}): there is nothing to "
                   "reconcile", 2)
    for portal in portals:  # each question routed as the runner will, before a browser starts
        plan_lookups(settings, payer, [(capability, query)], portal)

    async def ask_all(runner: Runner) -> list[LookupResult]:
        async def ask(portal: str) -> LookupResult:
            if isinstance(query, ClaimQuery):
                return await runner.claims(payer, query, portal=portal)
            return await runner.eligibility(payer, query, portal=portal)

        # Different portals, different accounts: asked at the same time.
        return list(await asyncio.gather(*(ask(portal) for portal in portals)))

    results = dict(zip(portals, run_lookups(settings, ask_all), strict=True))
    answered = {portal: r.answer for portal, r in results.items() if r.outcome in ANSWERED and r.answer is not None}
    found = differences(answered) if len(answered) >= 2 else ()
    failed = {portal: r for portal, r in results.items() if portal not in answered}
    if as_json:
        show_json(payer, capability, results, found, failed)
    else:
        show_table(payer, capability, results, found, failed, settings)
    for portal, result in failed.items():
        reason = f"{result.outcome.value}: {result.reason}" if result.reason else result.outcome.value
        err_console.print(f"[red]error:[/red] {portal_label(payer, portal)} could not answer: {reason}",
                          highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(EXIT_CODES.get(next(iter(failed.values())).outcome, 1))
    if found:
        raise typer.Exit(EXIT_DISAGREE)


def portal_label(payer: str, portal: str) -> str:
    return f"{portal_name(portal)} (own site)" if portal == payer else portal_name(portal)


def show_json(payer: str, capability: Capability, results: dict[str, LookupResult],
              found: tuple[FieldDifference, ...], failed: dict[str, LookupResult]) -> None:
    payload: dict[str, Any] = {
        "payer": payer, "question": capability.value, "complete": not failed, "agree": not failed and not found,
        "portals": [{"portal": portal, "outcome": r.outcome.value, "reason": r.reason, "reason_code": r.reason_code,
                     "lookup_id": r.lookup_id, "account": r.account_label, "evidence": [e.id for e in r.evidence]}
                    for portal, r in results.items()],
        "differences": [d.as_json() for d in found],
    }
    console.print_json(json.dumps(payload))


def show_table(payer: str, capability: Capability, results: dict[str, LookupResult],
               found: tuple[FieldDifference, ...], failed: dict[str, LookupResult], settings: Settings) -> None:
    answered = [portal for portal in results if portal not in failed]
    names = [portal_label(payer, portal) for portal in answered]
    question = "claim status" if capability is Capability.CLAIM_STATUS else "eligibility"
    console.print(f"[bold]{payer_name(payer)}[/bold]: {question} asked on {', '.join(portal_label(payer, p) for p in results)}",
                  highlight=False)
    if found:
        table = Table(title=f"{len(found)} field(s) differ")
        table.add_column("Field")
        for name in names:
            table.add_column(name)
        for difference in found:
            table.add_row(difference.field, *(shown(difference.values.get(portal)) for portal in answered))
        console.print(table)
    elif len(answered) >= 2:
        console.print(f"No differences: {' and '.join(names)} give the same answer.", highlight=False)
    files = evidence_files(settings)
    for portal, result in results.items():
        for evidence in result.evidence:
            console.print(f"evidence {evidence.id} ({portal}): {files.where(evidence.screenshot_path)}", highlight=False)
