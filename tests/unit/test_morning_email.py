"""The morning e-mail reaches a local SMTP server over STARTTLS with the worklist's counts and no member id or
date of birth; no recipients sends nothing; a server that is down is logged (without PHI) and breaks nothing.

The server is aiosmtpd on 127.0.0.1 with STARTTLS required and login allowed only over TLS; its certificate is
self-signed, made here, and trusted through `email_smtp_ca_file`. The day in the store holds appointments of
sandbox members in every state the front desk meets (verified, changed, coverage ended, not found, needs a
human, failed, deferred, not checked yet).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import functools
import io
import ipaddress
import json
import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.errors import ConfigurationError, Outcome
from aggregator.models import Provenance
from aggregator.overnight import schedule
from aggregator.overnight.batch import ACTIONS
from aggregator.overnight.morning_email import deliver, recipients, send_morning_email
from aggregator.overnight.worklist import state_counts, worklist
from aggregator.settings import Settings
from aggregator.store import Repository, new_id
from aggregator.store.tables import AppointmentRow, BatchItemRow
from sandbox.dataset import Dataset, generate_dataset
from sandbox.ground_truth import sample_members

SMTP_USER, SMTP_PASSWORD = "frontdesk-mailer", "smtp-password-0001"
TO = ("desk@practice.example", "manager@practice.example")


@functools.cache
def dataset() -> Dataset:
    return generate_dataset()


DAY: dt.date = dataset().as_of


# --- the day in the store -------------------------------------------------------------------------------

@dataclass
class Day:
    settings: Settings
    repository: Repository
    members: list[tuple[str, dt.date, str, str]] = field(default_factory=list)  # id, dob, first, last
    needing_a_person: set[str] = field(default_factory=set)  # appointment ids


# appointment id -> (carrier, sample kind, state, reason, action, changes, stores the eligibility record)
PLAN: dict[str, tuple[str, str, str | None, str | None, str | None, list[str], bool]] = {
    "a-verified": ("ridgeline", "active_subscriber", "verified", None, None, [], True),
    "a-verified-2": ("summit", "active_subscriber", "verified", None, None, [], True),
    "a-changed": ("ridgeline", "dependent", "verified_with_changes", None, None,
                  ["the in-network office visit copay changed from $20.00 to $25.00"], True),
    "a-termed": ("summit", "termed", "verified", None, None, [], True),
    "a-not-found": ("ridgeline", "active_subscriber", "not_found", "Subscriber/Insured Not Found",
                    ACTIONS["not_found"], [], False),
    # A reason that (wrongly) quotes the member: the e-mail must still not carry it.
    "a-human": ("summit", "dependent", "needs_human", "the portal showed {member_id} born {dob_us} in a layout "
                "the adapter does not know", ACTIONS["needs_attention"], [], False),
    "a-failed": ("ridgeline", "active_subscriber", "failed", "Ridgeline portal unavailable (after 4 tries)", None,
                 [], False),
    "a-deferred": ("summit", "active_subscriber", "deferred", "Summit maintenance window until 07:00 EST", None,
                   [], False),
    "a-unchecked": ("ridgeline", "dependent", None, None, None, [], False),
}
SETTLED = {"a-verified", "a-verified-2", "a-changed"}


def make_day(settings: Settings) -> Day:
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, mode=0o700)
    data_dir.chmod(0o700)
    repository = Repository.open(settings.resolved_database_url)
    day = Day(settings, repository)
    wanted: dict[tuple[str, str], int] = {}
    for carrier, kind, *_ in PLAN.values():
        wanted[(carrier, kind)] = wanted.get((carrier, kind), 0) + 1
    pools = {key: sample_members(dataset(), key[0], n, kinds=(key[1],)) for key, n in wanted.items()}
    now = dt.datetime.now(dt.UTC)
    for hour, (appointment_id, (carrier, kind, state, reason, action, changes, with_record)) in enumerate(
            PLAN.items(), start=8):
        sample = pools[(carrier, kind)].pop()
        assert sample.member is not None
        member = sample.member
        day.members.append((member.member_id, member.date_of_birth, member.first_name, member.last_name))
        with repository.session() as s:
            s.add(AppointmentRow(
                id=appointment_id, starts_at=dt.datetime.combine(DAY, dt.time(hour), dt.UTC), service_date=DAY,
                patient_last_name=member.last_name, patient_first_name=member.first_name,
                patient_dob=member.date_of_birth, carrier=carrier, member_id=member.member_id, source="day.csv",
                fingerprint="0" * 64, imported_at=now, updated_at=now))
            s.commit()
        if appointment_id not in SETTLED:
            day.needing_a_person.add(appointment_id)
        if state is None:
            continue
        lookup_id = None
        if with_record:
            query = sample.query.model_copy(update={"service_date": DAY})
            lookup_id = repository.create_lookup(flow="eligibility", carrier=carrier, query=query, source="batch").id
            repository.finish_lookup(lookup_id, Outcome.FOUND, None, None,
                                     record=(sample.expected.model_copy(update={"provenance": Provenance(
                                         carrier=carrier, portal_account="frontdesk", fetched_at=now,
                                         evidence_ids=[])}), member.member_id))
        text = reason.format(member_id=member.member_id, dob_us=member.date_of_birth.strftime("%m/%d/%Y")) \
            if reason else None
        with repository.session() as s:
            s.add(BatchItemRow(
                id=new_id(), batch_date=DAY, appointment_id=appointment_id, carrier=carrier, state=state,
                reason=text, action=action, attempts=1, eligibility_lookup_id=lookup_id,
                changes=json.dumps([{"message": m} for m in changes]), finished_at=now, updated_at=now))
            s.commit()
    return day


# --- a local SMTP server with STARTTLS ----------------------------------------------------------------------

def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    over_tls: bool
    logged_in_as: str | None


class Inbox:
    """The aiosmtpd handler: keeps every message with how it came."""

    def __init__(self) -> None:
        self.messages: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.decode() if session.authenticated else None  # what authenticate() kept
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                      session.ssl is not None, login))
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    ca_file: Path


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    cert, key = self_signed_certificate(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True,
                            authenticator=authenticate, auth_require_tls=True)
    controller.start()
    try:
        yield SmtpServer(inbox, port, cert)
    finally:
        controller.stop()


def mail_settings(tmp_path: Path, server: SmtpServer | None, **changes: Any) -> Settings:
    values: dict[str, Any] = dict(
        data_dir=tmp_path / "data", email_to=", ".join(TO), email_from="aggregator@practice.example",
        email_smtp_host="127.0.0.1", email_smtp_port=server.port if server else free_port(),
        email_smtp_starttls=True, email_smtp_username=SMTP_USER, email_smtp_password=SecretStr(SMTP_PASSWORD),
        email_smtp_ca_file=server.ca_file if server else None, email_smtp_timeout_seconds=10.0,
        email_web_base_url="https://desk.practice.example/")
    return Settings(**(values | changes))


def wait_for(condition: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the SMTP server")
        time.sleep(0.02)


# --- what no message may contain ----------------------------------------------------------------------------

def forbidden_forms(day: Day) -> set[str]:
    """Every stored member id and date of birth of the day, in every way a message could write them."""
    forms: set[str] = set()
    for member_id, dob, _, _ in day.members:
        forms |= {member_id, member_id.lower(), dob.isoformat(), dob.strftime("%m/%d/%Y"),
                  f"{dob.month}/{dob.day}/{dob.year}", dob.strftime("%m/%d/%y"), dob.strftime("%Y%m%d"),
                  dob.strftime("%m-%d-%Y"), dob.strftime("%d/%m/%Y"), dob.strftime("%d.%m.%Y"),
                  dob.strftime("%B %d, %Y"), f"{dob:%B} {dob.day}, {dob.year}", dob.strftime("%b %d, %Y"),
                  f"{dob:%b} {dob.day}, {dob.year}", dob.strftime("%d %b %Y")}
    return forms


def all_text(raw: bytes) -> str:
    """The raw message and every decoded part (a transfer encoding must not hide anything)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [raw.decode("utf-8", "replace"), str(message["Subject"])]
    parts += [str(part.get_content()) for part in message.walk() if part.get_content_maintype() == "text"]
    return "\n".join(parts)


def assert_no_member_id_or_dob(text: str, day: Day) -> None:
    lowered = text.lower()
    leaked = sorted(form for form in forbidden_forms(day) if form.lower() in lowered)
    assert not leaked, f"the message carries {len(leaked)} member id / DOB form(s)"


def body_of(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def counts_in(body: str) -> dict[str, int]:
    section = body.split("Counts:\n", 1)[1].split("\n\n", 1)[0]
    return {m.group(1).replace(" ", "_"): int(m.group(2)) for m in re.finditer(r"^  ([a-z ]+): (\d+)$", section, re.M)}


# --- tests ----------------------------------------------------------------------------------------------------

async def test_the_email_arrives_over_starttls_with_the_worklists_counts_and_no_member_id_or_dob(
        tmp_path: Path, smtp_server: SmtpServer) -> None:
    settings = mail_settings(tmp_path, smtp_server)
    day = make_day(settings)

    assert await send_morning_email(settings, day.repository, DAY) == "sent"
    wait_for(lambda: smtp_server.inbox.messages)

    [received] = smtp_server.inbox.messages
    assert received.over_tls and received.logged_in_as == SMTP_USER
    assert received.mail_from == "aggregator@practice.example" and sorted(received.rcpt_tos) == sorted(TO)
    rows = worklist(day.repository, DAY)
    body = body_of(received.content)
    # The counts are the worklist's, and the worklist is the day as stored.
    assert counts_in(body) == state_counts(rows) == {
        "needs_human": 1, "failed": 1, "not_found": 1, "verified_with_changes": 1, "verified": 3, "deferred": 1,
        "not_checked": 1}
    assert f"{len(rows)} appointments" in body and len(rows) == len(PLAN)
    assert f"Need a person: {len(day.needing_a_person)}" in body
    links = set(re.findall(r"https://desk\.practice\.example/appointments/([\w-]+)", body))
    assert links == day.needing_a_person
    assert f"https://desk.practice.example/worklist?date={DAY.isoformat()}" in body
    assert "Answers that changed since the last check: 1" in body
    assert "coverage is not active on the date of the visit" in body  # the termed member, though "verified"
    assert ACTIONS["not_found"] in body
    # No member id, no date of birth, no full name anywhere: headers, raw and decoded bodies.
    text = all_text(received.content)
    assert_no_member_id_or_dob(text, day)
    for _, _, first, last in day.members:
        assert f"{last}, {first}" not in text and f"{first} {last}" not in text
        assert not re.search(rf"\b{re.escape(last)}\b", text), "a patient's last name is in the e-mail"


async def test_no_recipients_sends_nothing(tmp_path: Path, smtp_server: SmtpServer) -> None:
    settings = mail_settings(tmp_path, smtp_server, email_to=" , ")
    day = make_day(settings)
    assert await send_morning_email(settings, day.repository, DAY) == "off"
    assert smtp_server.inbox.messages == []


async def test_a_server_that_is_down_is_logged_without_phi_and_raises_nothing(
        tmp_path: Path, json_log: io.StringIO) -> None:
    settings = mail_settings(tmp_path, None, email_smtp_timeout_seconds=5.0)  # nothing listens on the port
    day = make_day(settings)
    assert await send_morning_email(settings, day.repository, DAY) == "failed"
    out = json_log.getvalue()
    [line] = [json.loads(x) for x in out.splitlines() if "morning_email_failed" in x]
    assert line["error"] == "ConnectionRefusedError" and line["day"] == DAY.isoformat()
    assert_no_member_id_or_dob(out, day)
    assert SMTP_PASSWORD not in out
    for _, _, first, last in day.members:
        assert last not in out and first not in out


async def test_an_untrusted_certificate_is_a_failure_not_a_message_in_clear(
        tmp_path: Path, smtp_server: SmtpServer, json_log: io.StringIO) -> None:
    settings = mail_settings(tmp_path, smtp_server, email_smtp_ca_file=None)  # the system's CAs only
    day = make_day(settings)
    assert await send_morning_email(settings, day.repository, DAY) == "failed"
    assert smtp_server.inbox.messages == []
    assert '"error": "SSLCertVerificationError"' in json_log.getvalue()


async def test_the_retry_pass_sends_the_email_after_it_and_a_failure_to_send_does_not_break_it(
        tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = mail_settings(tmp_path, smtp_server)
    day = make_day(settings)
    calls: list[tuple[str, int]] = []  # each run, and how many messages had arrived when it ran

    class FakeRunner:
        repository = day.repository

    class RetryPassOnly(schedule.BatchService):
        async def run(self, day: dt.date, trigger: str, *, retry_failed: bool = False) -> Any:
            calls.append((f"{trigger} {day} {retry_failed}", len(smtp_server.inbox.messages)))
            if self.settings.email_from == "crash@practice.example":
                raise RuntimeError("the retry pass crashed")

    async def runner() -> Any:
        return FakeRunner()

    morning = dt.datetime.combine(DAY, dt.time(11, 30), dt.UTC)  # 06:30 in New York
    monkeypatch.setattr(schedule, "_service", RetryPassOnly(settings, runner, clock=lambda: morning))
    await schedule.retry_job()
    assert calls == [(f"retry {DAY} True", 0)]  # the e-mail comes after the pass
    wait_for(lambda: smtp_server.inbox.messages)
    assert "Need a person: 6" in body_of(smtp_server.inbox.messages[0].content)

    down = settings.model_copy(update={"email_smtp_port": free_port()})
    monkeypatch.setattr(schedule, "_service", RetryPassOnly(down, runner, clock=lambda: morning))
    await schedule.retry_job()  # logged, not raised
    assert len(calls) == 2 and len(smtp_server.inbox.messages) == 1

    # A retry pass that crashes still leaves staff their e-mail, and its error is not hidden.
    crashing = settings.model_copy(update={"email_from": "crash@practice.example"})
    monkeypatch.setattr(schedule, "_service", RetryPassOnly(crashing, runner, clock=lambda: morning))
    with pytest.raises(RuntimeError, match="crashed"):
        await schedule.retry_job()
    wait_for(lambda: len(smtp_server.inbox.messages) == 2)


def test_dry_run_prints_the_message_and_sends_nothing(
        tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = mail_settings(tmp_path, smtp_server)
    day = make_day(settings)
    for name in ("email_to", "email_smtp_host", "email_smtp_port", "email_smtp_username", "email_smtp_ca_file"):
        monkeypatch.setenv(f"AGGREGATOR_{name.upper()}", str(getattr(settings, name)))
    monkeypatch.setenv("AGGREGATOR_EMAIL_SMTP_PASSWORD", SMTP_PASSWORD)
    cli = CliRunner()
    args = ["email-summary", "--date", DAY.isoformat(), "--data-dir", str(settings.resolved_data_dir)]
    printed = cli.invoke(app, [*args, "--dry-run"], catch_exceptions=False)
    assert printed.exit_code == 0, printed.output
    assert "Need a person: 6" in printed.output and "Subject: Worklist" in printed.output
    assert_no_member_id_or_dob(printed.output, day)
    assert smtp_server.inbox.messages == []

    sent = cli.invoke(app, args, catch_exceptions=False)
    assert sent.exit_code == 0, sent.output
    wait_for(lambda: smtp_server.inbox.messages)
    assert counts_in(body_of(smtp_server.inbox.messages[0].content)) == state_counts(worklist(day.repository, DAY))

    monkeypatch.setenv("AGGREGATOR_EMAIL_TO", "")
    refused = cli.invoke(app, args, catch_exceptions=False)
    assert refused.exit_code == 2 and "no recipients" in refused.output


def test_bad_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="'not-an-address' is not an e-mail address"):
        recipients(Settings(data_dir=tmp_path, email_to="desk@practice.example, not-an-address"))
    assert recipients(Settings(data_dir=tmp_path, email_to="Front Desk <desk@practice.example>,")) == (
        "desk@practice.example",)
    clear = Settings(data_dir=tmp_path, email_smtp_host="127.0.0.1", email_smtp_starttls=False,
                     email_smtp_username="u", email_smtp_password=SecretStr("p"))
    with pytest.raises(ConfigurationError, match="without STARTTLS"):
        deliver(email.message.EmailMessage(), clear, TO)
    with pytest.raises(ConfigurationError, match="AGGREGATOR_EMAIL_SMTP_HOST"):
        deliver(email.message.EmailMessage(), Settings(data_dir=tmp_path), TO)


def test_the_password_can_come_from_a_file(tmp_path: Path) -> None:
    from aggregator.overnight.morning_email import smtp_password

    secret = tmp_path / "smtp-password"
    secret.write_text("from-a-file\n")
    assert smtp_password(Settings(data_dir=tmp_path, email_smtp_password_file=secret)) == "from-a-file"
    with pytest.raises(ConfigurationError, match="cannot read"):
        smtp_password(Settings(data_dir=tmp_path, email_smtp_password_file=tmp_path / "missing"))




@pytest.mark.parametrize(("changes", "needs_a_person"), [
    ({}, False),
    ({"auth": "covered (99213, AUTH-1)"}, False),
    ({"auth": "not required (visit)"}, False),
    ({"auth": "denied (99213, AUTH-2)"}, True),
    ({"auth": "missing (97110)"}, True),
    ({"auth": "unknown (visit)", "auth_missing": ["say which service type or procedure the visit is for"]}, True),
    ({"auth": "covered (99213, AUTH-1)", "auth_missing": ["the approved visits are used up"]}, True),
    ({"coverage": "inactive"}, True),
    ({"state": "verified_with_changes", "changes": ["copay changed"]}, False),
    ({"state": "pending"}, True),
])
def test_which_rows_need_a_person(changes: dict[str, Any], needs_a_person: bool) -> None:
    from aggregator.overnight.morning_email import why_a_person
    from aggregator.overnight.worklist import WorklistRow

    row = WorklistRow(item_id="i", appointment_id="a", starts_at=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC),
                      patient_name="Doe, Jane", patient_dob=dt.date(1990, 1, 31), carrier="ridgeline",
                      member_id="RM000000001", state="verified", coverage="active")
    assert (why_a_person(row.model_copy(update=changes)) is not None) is needs_a_person


def test_initials_and_identifier_scrubbing() -> None:
    from aggregator.overnight.morning_email import initials, without_identifiers
    from aggregator.overnight.worklist import WorklistRow

    assert initials("Doe, Jane") == "J. D." and initials("O'Neil-Smith, ana maria") == "A. O."
    row = WorklistRow(item_id="i", appointment_id="a", starts_at=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC),
                      patient_name="Doe, Jane", patient_dob=dt.date(1990, 1, 31), carrier="ridgeline",
                      member_id="RM000000001", state="failed")
    text = "rm000000001 / RM000000001 born 1990-01-31, 01/31/1990, 1/31/1990, 19900131, 01-31-1990"
    assert without_identifiers(text, [row]) == ("[removed] / [removed] born [removed], [removed], [removed], "
                                                "[removed], [removed]")
