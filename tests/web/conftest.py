"""Web app fixtures: a data directory seeded with users of every role, a stored lookup with records and
evidence, an appointment with a batch item, and a vault with the sandbox's portal accounts (real secrets
by design, so the tests can look for them in every page).

The browser test also uses the e2e session fixtures (one sandbox, one Chromium): tests/e2e/fixtures.py, a
plugin tests/conftest.py loads for the whole tree.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from aggregator.browser import CapturedPage
from aggregator.errors import ConfigurationError, Outcome
from aggregator.evidence import EvidenceRecorder, SnapshotFiles
from aggregator.models import Provenance
from aggregator.settings import Settings
from aggregator.store import Repository, new_id
from aggregator.store import web as store
from aggregator.store.tables import AppointmentRow, BatchItemRow
from aggregator.web import create_app
from aggregator.web.auth import hash_password, keyed_hash, load_secret_key, new_api_token
from sandbox.accounts import vault_inputs
from sandbox.dataset import generate_dataset
from sandbox.ground_truth import sample_members
from vault import MasterKey, Vault

PASSWORDS = {"admin": "admin-password-0001", "staff": "staff-password-0002", "auditor": "auditor-password-03",
             "victim": "victim-password-004"}


def tiny_png(seed: int) -> bytes:
    """A valid 2x2 PNG whose pixels depend on `seed` (so each capture has its own content hash)."""
    raw = b"".join(b"\x00" + bytes([seed % 256, 40, 90]) * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@functools.cache
def password_hash(password: str) -> str:
    """scrypt is slow on purpose; each test data directory reuses the same hashes."""
    return hash_password(password)


@functools.cache
def dataset():  # type: ignore[no-untyped-def]
    return generate_dataset()


@dataclass
class Seed:
    settings: Settings
    repository: Repository
    users: dict[str, str]  # role/name -> user id
    lookup_id: str
    record_id: str
    evidence_ids: list[str]
    appointment_id: str
    item_id: str
    account_id: str
    token_id: str
    api_tokens: dict[str, str]  # role -> token value
    secrets: list[str] = field(default_factory=list)  # values no page may ever show
    portal_user: str = ""  # shown in the evidence originals (admins, auditors), masked for staff


def seed_data(settings: Settings) -> Seed:
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)
    users = {}
    for name, password in PASSWORDS.items():
        role = "staff" if name == "victim" else name
        users[name] = store.add_user(repository, username=name, display_name=name.title(), role=role,
                                     password_hash=password_hash(password)).id
    key = load_secret_key(settings.resolved_web_secret_key_file)
    api_tokens, token_id = {}, ""
    for role in ("admin", "staff", "auditor"):
        value = new_api_token()
        token_id = store.add_token(repository, user_id=users[role], name="test", token_hash=keyed_hash(key, value)).id
        api_tokens[role] = value

    data = dataset()
    # Every sandbox carrier's accounts: their secrets are what no page may show. The lookup below uses the
    # example portal; one account is frozen below (as if its portal had rejected the password).
    inputs = vault_inputs(data, list(data.carriers))
    portal_user = next(i for i in inputs if i.carrier == "ridgeline").username.get_secret_value()
    sample = sample_members(data, "ridgeline", 1, kinds=("active_subscriber",))[0]
    lookup = repository.create_lookup(flow="eligibility", carrier="ridgeline", query=sample.query, source="web")
    recorder = EvidenceRecorder(SnapshotFiles(settings.resolved_snapshots_dir), repository)
    # Each page names the signed-in portal user as Ridgeline's header does; the browser recorded the box
    # of that name (here: the top-left pixel), so staff get a masked copy.
    evidence_ids = [recorder.record(CapturedPage(url=f"http://127.0.0.1:9/page{n}", html=evidence_html(n, portal_user),
                                                 screenshot_png=tiny_png(n), carrier="ridgeline",
                                                 account_label="frontdesk", flow="eligibility", label=f"page {n}",
                                                 mask_boxes=((0, 0, 1, 1),)),
                                    lookup.id) for n in range(3)]
    answer = sample.expected.model_copy(update={"provenance": Provenance(
        carrier="ridgeline", portal_account="frontdesk", fetched_at=datetime.now(UTC), evidence_ids=evidence_ids[-1:])})
    record_id = repository.save_record(lookup.id, answer, subject=sample.query.member_id)
    repository.finish_lookup(lookup.id, Outcome.FOUND, None, None)

    now = datetime.now(UTC)
    appointment = AppointmentRow(
        id="appt-1", starts_at=datetime.combine(sample.query.service_date, datetime.min.time(), UTC).replace(hour=14),
        service_date=sample.query.service_date, patient_last_name=sample.member.last_name,
        patient_first_name=sample.member.first_name, patient_dob=sample.query.date_of_birth, carrier="ridgeline",
        member_id=sample.query.member_id, source="test.csv", fingerprint="0" * 64, imported_at=now, updated_at=now)
    item = BatchItemRow(id=new_id(), batch_date=sample.query.service_date, appointment_id="appt-1", carrier="ridgeline",
                        account_label="frontdesk", state="verified", attempts=1, eligibility_lookup_id=lookup.id,
                        finished_at=now, updated_at=now)
    with repository.session() as s:
        s.add(appointment)
        s.commit()
        s.add(item)
        s.commit()

    vault_key = MasterKey.generate()
    vault_key.write_key_file(settings.resolved_data_dir / "vault.key")
    vault = Vault.create(settings.resolved_vault_path, vault_key)
    vault.upsert_accounts(inputs)
    # The frozen account is one with security answers (the admin tests replace them one by one).
    account = next(a for a in vault.accounts() if a.security_answers)
    vault.freeze(account.account_id, "the portal rejected the password")
    secrets = [*PASSWORDS.values(), *api_tokens.values()]
    for entry in inputs:
        secrets += [entry.username.get_secret_value(), entry.password.get_secret_value()]
        if entry.totp_secret:
            secrets.append(entry.totp_secret.get_secret_value())
        secrets += [a.get_secret_value() for a in (entry.security_answers or {}).values()]
    return Seed(settings=settings, repository=repository, users=users, lookup_id=lookup.id, record_id=record_id,
                evidence_ids=evidence_ids, appointment_id="appt-1", item_id=item.id, account_id=account.account_id,
                token_id=token_id, api_tokens=api_tokens, secrets=secrets, portal_user=portal_user)


def evidence_html(n: int, portal_user: str) -> str:
    return (f'<html><body><table><tr><td>Ridgeline Mutual</td><td align="right"><font size="1">Logged in as&nbsp;'
            f'<b>{portal_user}</b></font></td></tr></table><p>page {n}</p></body></html>')


async def no_runner():
    raise ConfigurationError("no portal runner in this test")


@pytest.fixture
def seed(tmp_path) -> Seed:
    return seed_data(Settings(data_dir=tmp_path / "data"))


@pytest.fixture
def app(seed: Seed):
    return create_app(seed.settings, runner_provider=no_runner)


@pytest.fixture
def client(app) -> TestClient:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str | None = None) -> TestClient:
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password or PASSWORDS[username],
                                           "csrf_token": csrf_of(page.text), "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def page_token(client: TestClient, path: str = "/lookups/new") -> str:
    """The session's CSRF token, read from a page that has a form (any signed-in page has the sign-out form)."""
    return csrf_of(client.get(path).text)

