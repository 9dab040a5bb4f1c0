"""`aggregator signin --portal P --account A`: an attended sign-in from a terminal.

For a portal account whose sign-in sends a one-time code (by text message or e-mail) or a push request to a
phone: the overnight run stops at that account ("sign in needed") until a person signs it in. This command
does it with the person at the terminal: it asks for the code (typed hidden when the terminal is a real one,
read from standard input otherwise) or tells them to approve on their phone, then runs again the batch items
that waited for the account. Exit 0 signed in, 3 not signed in (the reason and what to do are printed).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from aggregator.cli.common import DataDirOption, app, console, err_console, fail, load_settings, resolve_portal
from aggregator.cli.person import TerminalPerson
from aggregator.errors import AggregatorError
from aggregator.human_steps import needed

if TYPE_CHECKING:
    from aggregator.runner import SignInOutcome

EXIT_SIGNED_IN, EXIT_NOT_SIGNED_IN = 0, 3


@app.command("signin")
def signin(
    portal: Annotated[str, typer.Option("--portal", help="the portal (slug or name), e.g. crossway")],
    account: Annotated[str, typer.Option("--account", help="the vault account's label, e.g. frontdesk")],
    data_dir: DataDirOption = None,
) -> None:
    """Sign a portal account in with you at the terminal (a code by text or e-mail, or a push approval), then
    re-run the checks that waited for it. Exit 0 signed in, 3 not."""
    settings = load_settings(data_dir)
    from aggregator.scrapers.registry import adapter_for

    try:
        slug = resolve_portal(portal)
    except AggregatorError as error:
        raise fail(error.reason, 2) from None
    name = adapter_for(slug).manifest.display_name

    async def run() -> SignInOutcome:
        from aggregator.overnight.batch import rerun_blocked
        from aggregator.runner import Runner

        async with Runner.open(settings) as runner:
            runner.after_sign_in.append(lambda signed_in: rerun_blocked(runner, signed_in.carrier, signed_in.label))
            console.print(f"Signing in to {name} as “{account}”...", highlight=False)
            return await runner.sign_in(slug, account, TerminalPerson())

    try:
        outcome = asyncio.run(run())
    except AggregatorError as error:
        raise fail(f"not signed in: {error.reason}", EXIT_NOT_SIGNED_IN) from None
    if outcome.ok:
        console.print(f"Signed in. {outcome.rerun} blocked check{'' if outcome.rerun == 1 else 's'} "
                      f"{'was' if outcome.rerun == 1 else 'were'} run again.")
        raise typer.Exit(EXIT_SIGNED_IN)
    what = needed(outcome.reason_code)
    err_console.print(f"Not signed in: {outcome.reason or 'the sign-in stopped'}", highlight=False)
    if what is not None:
        err_console.print(f"What to do: {what.action(name)}", highlight=False)
    raise typer.Exit(EXIT_NOT_SIGNED_IN)
