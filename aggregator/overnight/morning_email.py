"""The morning e-mail: after the nightly run and the retry pass, the day's counts and the items that need a
person, sent to the configured list (docs/morning-email.md).

Everything in it comes from the day's worklist (aggregator/overnight/worklist.py), so its counts are the
worklist's. An e-mail leaves the practice's systems, so it carries less than the worklist page: no member id,
no date of birth, the patient as initials only; each item links to its appointment in the web app, where
staff sign in to see the rest. As a second guard, any of the day's member ids and dates of birth found in a
reason text is replaced before the message is composed.

`send_morning_email` is what the scheduler calls: it never raises (a failure to send is logged, without
PHI, and the run goes on); `deliver` is the raising SMTP send the CLI uses.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal
from urllib.parse import quote

from aggregator.errors import AggregatorError, ConfigurationError
from aggregator.logging import get_logger
from aggregator.overnight.worklist import (
    NOT_CHECKED,
    PASSWORD_EXPIRING,
    AccountWarning,
    WorklistRow,
    account_warnings,
    state_counts,
    worklist,
)
from aggregator.settings import Settings
from aggregator.store.repository import Repository

log = get_logger(__name__)

# States in which the item is not settled: a person finishes it (or calls the payer).
UNSETTLED_STATES = ("needs_human", "failed", "not_found", "deferred", "pending", "running", NOT_CHECKED)
# Worklist auth lines (worst answer first) that a person must act on before the visit.
# ("unknown": an approval without dates, or a visit that names no service: someone must look.)
AUTH_PROBLEMS = ("denied", "missing", "expired", "exhausted", "not yet effective", "pending", "unknown")
REMOVED = "[removed]"
# A portal password that expires within this many days is in the e-mail (the product can change it from the
# account's admin page; sooner than that, nobody needs telling yet).
PASSWORD_WARNING_DAYS = 14
SendOutcome = Literal["sent", "off", "failed"]


@dataclass(frozen=True)
class ItemNeedingAPerson:
    """One worklist row as the e-mail shows it."""

    time: str  # HH:MM, practice-local
    initials: str
    carrier: str
    state: str
    why: str
    action: str | None
    link: str


@dataclass(frozen=True)
class MorningSummary:
    day: date
    total: int
    counts: dict[str, int]  # the worklist's state counts, in its order
    needing_a_person: list[ItemNeedingAPerson]
    calls_to_the_payer: int  # rows with something to ask the payer by phone
    changed: int  # rows whose answer changed since the last check
    worklist_url: str
    # What portals told the practice's accounts (a password expiring soon): one line each, with its page.
    account_warnings: list[str] = field(default_factory=list)


def recipients(settings: Settings) -> tuple[str, ...]:
    """The configured recipients; ConfigurationError naming an entry that is not an address."""
    found = []
    for entry in (part.strip() for part in settings.email_to.split(",")):
        if not entry:
            continue
        _, address = parseaddr(entry)
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", address):
            raise ConfigurationError(f"AGGREGATOR_EMAIL_TO: '{entry}' is not an e-mail address")
        found.append(address)
    return tuple(found)


def web_link(settings: Settings, path: str) -> str:
    return settings.email_web_base_url.rstrip("/") + path


def build_summary(repository: Repository, day: date, settings: Settings) -> MorningSummary:
    rows = worklist(repository, day)
    needing = []
    for row in rows:
        why = why_a_person(row)
        if why is not None:
            needing.append(ItemNeedingAPerson(
                time=row.starts_at.strftime("%H:%M"), initials=initials(row.patient_name), carrier=row.carrier,
                state=row.state.replace("_", " "), why=without_identifiers(why, rows),
                action=without_identifiers(row.action, rows) if row.action else None,
                link=web_link(settings, f"/appointments/{quote(row.appointment_id, safe='')}")))
    return MorningSummary(
        day=day, total=len(rows), counts=state_counts(rows), needing_a_person=needing,
        calls_to_the_payer=sum(1 for r in rows if r.call_the_payer), changed=sum(1 for r in rows if r.changes),
        worklist_url=web_link(settings, f"/worklist?date={day.isoformat()}"),
        account_warnings=[f"{w.line}\n  {web_link(settings, _account_page(w))}"
                          for w in account_warnings(repository, day) if _warn_now(w, day)])


def _warn_now(warning: AccountWarning, day: date) -> bool:
    """A password expiring within PASSWORD_WARNING_DAYS (or already expired); any other notice always."""
    if warning.kind != PASSWORD_EXPIRING or warning.due is None:
        return True
    return (warning.due - day).days <= PASSWORD_WARNING_DAYS


def _account_page(warning: AccountWarning) -> str:
    return f"/admin/accounts/{quote(warning.portal, safe='')}/{quote(warning.account_label, safe='')}"


def why_a_person(row: WorklistRow) -> str | None:
    """Why this row needs a person before the visit, or None when the batch settled it."""
    if row.state in UNSETTLED_STATES:
        return row.reason or ("not checked yet" if row.state == NOT_CHECKED else row.state.replace("_", " "))
    if row.coverage == "inactive":
        return "coverage is not active on the date of the visit"
    if row.auth and (row.auth.startswith(AUTH_PROBLEMS) or row.auth_missing):
        return f"prior authorization: {row.auth}" + (f"; missing: {'; '.join(row.auth_missing)}"
                                                      if row.auth_missing else "")
    return None


def initials(patient_name: str) -> str:
    """"Doe, Jane" -> "J. D." (the worklist writes "Last, First")."""
    last, _, first = patient_name.partition(",")
    return " ".join(f"{part.strip()[:1].upper()}." for part in (first, last) if part.strip())


def identifier_forms(row: WorklistRow) -> set[str]:
    """The row's member id and date of birth in every way a text might write them."""
    dob = row.patient_dob
    numeric = {dob.isoformat(), dob.strftime("%m/%d/%Y"), f"{dob.month}/{dob.day}/{dob.year}", dob.strftime("%Y%m%d"),
               dob.strftime("%m-%d-%Y"), dob.strftime("%m/%d/%y"), dob.strftime("%d/%m/%Y"), dob.strftime("%d.%m.%Y")}
    words = {f"{dob:%B} {dob.day}, {dob.year}", dob.strftime("%B %d, %Y"), f"{dob:%b} {dob.day}, {dob.year}",
             dob.strftime("%b %d, %Y"), dob.strftime("%d %b %Y"), dob.strftime("%d %B %Y")}
    return {row.member_id} | numeric | words


def without_identifiers(text: str, rows: list[WorklistRow]) -> str:
    for form in sorted({f for row in rows for f in identifier_forms(row) if f}, key=len, reverse=True):
        text = re.sub(re.escape(form), REMOVED, text, flags=re.IGNORECASE)
    return text


# --- the message --------------------------------------------------------------------------------------

def compose(summary: MorningSummary, settings: Settings, to: tuple[str, ...]) -> EmailMessage:
    needing = len(summary.needing_a_person)
    message = EmailMessage()
    message["Subject"] = (f"Worklist {summary.day:%a %b} {summary.day.day}: {needing} need a person "
                          f"({summary.total} appointments)")
    message["From"] = settings.email_from
    message["To"] = ", ".join(to) if to else "(no recipients configured)"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="aggregator.local")
    message.set_content(body(summary))
    return message


def body(summary: MorningSummary) -> str:
    lines = [f"Worklist for {summary.day:%A %B} {summary.day.day}, {summary.day.year}: "
             f"{summary.total} appointments.", "", "Counts:"]
    lines += [f"  {state.replace('_', ' ')}: {count}" for state, count in summary.counts.items()]
    lines += ["", f"Need a person: {len(summary.needing_a_person)}"]
    for item in summary.needing_a_person:
        lines.append(f"- {item.time} {item.initials} ({item.carrier}) {item.state}: {item.why}")
        if item.action:
            lines.append(f"  What to do: {item.action}")
        lines.append(f"  {item.link}")
    if not summary.needing_a_person:
        lines.append("  none")
    if summary.account_warnings:
        lines += ["", f"Portal accounts: {len(summary.account_warnings)}"]
        lines += [f"- {warning}" for warning in summary.account_warnings]
    lines += ["", f"Calls to the payer listed on the worklist: {summary.calls_to_the_payer}",
              f"Answers that changed since the last check: {summary.changed}", "",
              f"The worklist: {summary.worklist_url}", "",
              "Member ids and dates of birth are not sent by e-mail: sign in to the web app to see them."]
    return "\n".join(lines) + "\n"


# --- sending --------------------------------------------------------------------------------------------

def smtp_password(settings: Settings) -> str | None:
    if settings.email_smtp_password is not None:
        return settings.email_smtp_password.get_secret_value()
    if settings.email_smtp_password_file is not None:
        try:
            return settings.email_smtp_password_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigurationError(f"cannot read AGGREGATOR_EMAIL_SMTP_PASSWORD_FILE ({error.strerror})") from None
    return None


def deliver(message: EmailMessage, settings: Settings, to: tuple[str, ...]) -> None:
    """Send over SMTP (blocking): STARTTLS when configured, then log in when a username is set."""
    if not settings.email_smtp_host:
        raise ConfigurationError("AGGREGATOR_EMAIL_SMTP_HOST is not set: the morning e-mail has no server")
    if settings.email_smtp_username and not settings.email_smtp_starttls:
        raise ConfigurationError("refusing to send the SMTP password without STARTTLS "
                                 "(set AGGREGATOR_EMAIL_SMTP_STARTTLS=true)")
    password = smtp_password(settings)
    ca_file = str(settings.email_smtp_ca_file) if settings.email_smtp_ca_file else None
    with smtplib.SMTP(settings.email_smtp_host, settings.email_smtp_port,
                      timeout=settings.email_smtp_timeout_seconds) as smtp:
        smtp.ehlo()
        if settings.email_smtp_starttls:
            # Verifies the server's certificate and name, as a browser would; a private CA goes in the CA file.
            smtp.starttls(context=ssl.create_default_context(cafile=ca_file))
            smtp.ehlo()
        if settings.email_smtp_username:
            smtp.login(settings.email_smtp_username, password or "")
        smtp.send_message(message, from_addr=settings.email_from, to_addrs=list(to))


def failure_fields(error: BaseException) -> dict[str, object]:
    """What the log says about a failure: the kind, our own reason, the SMTP code; never the server's text,
    which may echo addresses or message content."""
    fields: dict[str, object] = {"error": type(error).__name__}
    if isinstance(error, AggregatorError):
        fields["reason"] = error.reason
    if isinstance(error, smtplib.SMTPResponseException):
        fields["smtp_code"] = error.smtp_code
    return fields


async def send_morning_email(settings: Settings, repository: Repository, day: date) -> SendOutcome:
    """Compose and send the day's e-mail; "off" without recipients. Never raises."""
    try:
        to = recipients(settings)
        if not to:
            log.info("morning_email_off", day=day.isoformat())
            return "off"
        summary = build_summary(repository, day, settings)
        message = compose(summary, settings, to)
        await asyncio.to_thread(deliver, message, settings, to)
    except Exception as error:  # the run goes on whatever the mail server does
        log.warning("morning_email_failed", day=day.isoformat(), **failure_fields(error))
        return "failed"
    log.info("morning_email_sent", day=day.isoformat(), recipients=len(to),
             needing_a_person=len(summary.needing_a_person))
    return "sent"
