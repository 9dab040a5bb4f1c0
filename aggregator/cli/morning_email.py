"""`aggregator email-summary --date D [--dry-run]`: the morning e-mail for a day, sent now or printed.

The scheduler sends it by itself after the retry pass (docs/morning-email.md); this command sends it again
(e.g. after fixing the SMTP settings) or, with --dry-run, prints the message without sending. Exit codes:
0 sent or printed, 1 the SMTP server refused or could not be reached, 2 bad date or settings (no recipients,
no server).
"""

from __future__ import annotations

from typing import Annotated

import typer

from aggregator.cli.common import DataDirOption, app, console, fail, load_settings, parse_iso_date
from aggregator.errors import ConfigurationError


@app.command("email-summary")
def email_summary(
    day: Annotated[str, typer.Option("--date", help="appointment date, YYYY-MM-DD")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the message instead of sending it")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Send the day's morning e-mail: counts and the items that need a person (no member ids, no DOBs)."""
    from aggregator.overnight.morning_email import build_summary, compose, deliver, failure_fields, recipients
    from aggregator.store import Repository

    settings = load_settings(data_dir)
    target = parse_iso_date(day, "--date")
    try:
        to = recipients(settings)
    except ConfigurationError as error:
        raise fail(error.reason, 2) from None
    if not to and not dry_run:
        raise fail("no recipients: set AGGREGATOR_EMAIL_TO (comma-separated addresses), or use --dry-run", 2)
    message = compose(build_summary(Repository.open(settings.resolved_database_url), target, settings), settings, to)
    if dry_run:
        typer.echo(message.as_string(), nl=False)
        return
    try:
        deliver(message, settings, to)
    except ConfigurationError as error:
        raise fail(error.reason, 2) from None
    except OSError as error:  # smtplib's and ssl's errors are OSErrors, as are refused connections
        details = ", ".join(f"{k} {v}" for k, v in failure_fields(error).items())
        raise fail(f"the e-mail was not sent ({details}); check the AGGREGATOR_EMAIL_SMTP_* settings", 1) from None
    console.print(f"sent the morning e-mail for {target} to {len(to)} recipient(s)")

