"""Remembered devices: the portal's "remember this device" cookies, kept per account apart from the session,
encrypted, with their expiry; read back after saving. On the vault file and on the PostgreSQL vault."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.postgres import throwaway_database
from tests.vault.conftest import FakeClock
from vault import AccountNotFound, MasterKey, PortalAccount, Vault, VaultError
from vault.database import DOCUMENT_TABLE, DatabaseVault
from vault.format import seal, unseal

PASSWORD = "Corr3ct-Horse-Battery!"
DEVICE_VALUE = "dev-7c1e0f9a2b4d8e6f"
COOKIES: list[dict[str, Any]] = [
    {"name": "cw_device", "value": DEVICE_VALUE, "domain": "id.crossway.test", "path": "/",
     "expires": 1_743_681_600.5, "httpOnly": True, "secure": False, "sameSite": "Lax"},
    {"name": "cw_pref", "value": "en", "domain": "id.crossway.test", "path": "/", "expires": -1,
     "httpOnly": False, "secure": False, "sameSite": "None"},
]
STATE = {"cookies": [{"name": "sid", "value": "sess-cookie-41", "domain": "id.crossway.test", "path": "/"}],
         "origins": []}


@dataclass
class Backend:
    """One place the vault is kept: its vault, a second vault object on the same storage (another run or
    worker), the stored bytes as they are, and a way to make writes not stick."""

    name: str
    vault: Vault
    reopen: Callable[[], Vault]
    stored_bytes: Callable[[], bytes]
    break_writes: Callable[[pytest.MonkeyPatch], None]

    def add(self, label: str = "main") -> PortalAccount:
        return self.vault.add_account(carrier="crossway", label=label, username=f"drsmith-{label}", password=PASSWORD)


def _file_backend(path: Path, key: MasterKey, clock: FakeClock) -> Backend:
    def break_writes(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("vault.store.write_atomic", lambda *args, **kwargs: None)

    return Backend("file", Vault.create(path, key, clock=clock), lambda: Vault.open(path, key, clock=clock),
                   path.read_bytes, break_writes)


def _database_backend(url: str, key: MasterKey, clock: FakeClock) -> Backend:
    made = DatabaseVault.create_url(url, key, clock=clock)

    def stored_bytes() -> bytes:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
            rows = connection.execute(f"SELECT document FROM {DOCUMENT_TABLE}").fetchall()
        assert len(rows) == 1
        return bytes(rows[0][0])

    def break_writes(monkeypatch: pytest.MonkeyPatch) -> None:
        # The UPDATE is never sent: the writers' block ends without a commit and rolls back.
        monkeypatch.setattr(made._database, "replace", lambda document: 10**9)

    return Backend("postgres", made, lambda: DatabaseVault.open_url(url, key, clock=clock), stored_bytes, break_writes)


def open_backend(kind: str, tmp_path: Path, key: MasterKey, clock: FakeClock) -> Iterator[Backend]:
    """A new, empty vault of `kind` ("file" or "postgres") for one test (the database is dropped after it)."""
    if kind == "file":
        yield _file_backend(tmp_path / "vault.json", key, clock)
        return
    with throwaway_database("vault_device") as url:
        made = _database_backend(url, key, clock)
        yield made
        made.vault.close()


@pytest.fixture(params=["file", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, key: MasterKey, clock: FakeClock) -> Iterator[Backend]:
    yield from open_backend(request.param, tmp_path, key, clock)


def test_save_load_clear_and_reopen(backend: Backend, clock: FakeClock) -> None:
    account = backend.add()
    assert backend.vault.load_device(account.account_id) is None
    assert account.device_expires_at is None
    expires = clock.now + timedelta(days=30)
    backend.vault.save_device(account.account_id, COOKIES, expires)

    assert backend.vault.load_device(account.account_id) == COOKIES
    other = backend.reopen()  # the next run, or another worker
    assert other.load_device(account.account_id) == COOKIES
    assert other.get(account.account_id).device_expires_at == expires
    assert other.load_session(account.account_id) is None  # a device is not a session

    stored = backend.stored_bytes()
    assert b'"crossway"' in stored  # the clear metadata is there: we looked at the right bytes
    assert DEVICE_VALUE.encode() not in stored and b"cw_device" not in stored

    backend.vault.clear_device(account.account_id)
    assert other.load_device(account.account_id) is None
    assert other.get(account.account_id).device_expires_at is None


def test_expiry_follows_the_vault_clock(backend: Backend, clock: FakeClock) -> None:
    account = backend.add()
    expires = clock.now + timedelta(days=30)
    backend.vault.save_device(account.account_id, COOKIES, expires)
    clock.advance(days=30, seconds=-1)
    assert backend.vault.load_device(account.account_id) == COOKIES
    clock.advance(seconds=1)
    assert backend.vault.load_device(account.account_id) is None  # expired is the same as absent
    assert backend.reopen().load_device(account.account_id) is None
    assert backend.vault.get(account.account_id).device_expires_at == expires  # the expiry as stored


def test_clearing_the_session_or_freezing_keeps_the_device(backend: Backend, clock: FakeClock) -> None:
    account = backend.add()
    backend.vault.save_device(account.account_id, COOKIES, clock.now + timedelta(days=30))
    backend.vault.save_session(account.account_id, STATE, clock.now + timedelta(hours=1))

    backend.vault.clear_session(account.account_id)
    assert backend.vault.load_session(account.account_id) is None
    assert backend.vault.load_device(account.account_id) == COOKIES

    backend.vault.save_session(account.account_id, STATE, clock.now + timedelta(hours=1))
    frozen = backend.vault.freeze(account.account_id, "the portal rejected the password")
    assert frozen.is_frozen and backend.vault.load_session(account.account_id) is None
    assert backend.reopen().load_device(account.account_id) == COOKIES
    assert frozen.device_expires_at == clock.now + timedelta(days=30)

    backend.vault.update_account(account.account_id, password="A-new-pass-2025!")  # the same user: kept
    assert backend.vault.load_device(account.account_id) == COOKIES


def test_a_new_username_drops_the_device_and_only_that_accounts(backend: Backend, clock: FakeClock) -> None:
    account, neighbour = backend.add("main"), backend.add("billing")
    for each in (account, neighbour):
        backend.vault.save_device(each.account_id, COOKIES, clock.now + timedelta(days=30))
    backend.vault.update_account(account.account_id, username="drsmith-main")  # the same value: not a change
    assert backend.vault.load_device(account.account_id) == COOKIES

    changed = backend.vault.update_account(account.account_id, username="nurse-jane")
    assert changed.device_expires_at is None
    assert backend.reopen().load_device(account.account_id) is None
    assert backend.vault.load_device(neighbour.account_id) == COOKIES


def test_removing_the_account_removes_its_device(backend: Backend, clock: FakeClock) -> None:
    account = backend.add()
    backend.vault.save_device(account.account_id, COOKIES, clock.now + timedelta(days=30))
    backend.vault.remove_account(account.account_id)
    with pytest.raises(AccountNotFound):
        backend.reopen().load_device(account.account_id)
    with pytest.raises(AccountNotFound):
        backend.vault.save_device(account.account_id, COOKIES, clock.now + timedelta(days=30))


def test_a_save_that_does_not_stick_is_an_error_not_an_assumption(backend: Backend, clock: FakeClock,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    account = backend.add()
    before = backend.stored_bytes()
    backend.break_writes(monkeypatch)
    with pytest.raises(VaultError, match=r"^the remembered device could not be verified after saving$") as caught:
        backend.vault.save_device(account.account_id, COOKIES, clock.now + timedelta(days=30))
    assert DEVICE_VALUE not in str(caught.value)
    assert backend.stored_bytes() == before  # the write really did not happen
    monkeypatch.undo()
    # Neither this vault object (whose own copy had the device) nor another one pretends it is there.
    assert backend.vault.load_device(account.account_id) is None
    assert backend.vault.get(account.account_id).device_expires_at is None
    assert backend.reopen().load_device(account.account_id) is None

    backend.vault.save_device(account.account_id, COOKIES, clock.now + timedelta(days=30))  # writes work again
    assert backend.reopen().load_device(account.account_id) == COOKIES


def test_bad_input_saves_nothing(backend: Backend, clock: FakeClock) -> None:
    account = backend.add()
    before = backend.stored_bytes()
    with pytest.raises(ValueError, match="timezone-aware"):
        backend.vault.save_device(account.account_id, COOKIES, clock.now.replace(tzinfo=None) + timedelta(days=1))
    with pytest.raises(TypeError, match="list of cookie dicts"):
        backend.vault.save_device(account.account_id, {"cookies": COOKIES}, clock.now + timedelta(days=1))  # type: ignore[arg-type]
    with pytest.raises(VaultError, match="not plain JSON; nothing was saved"):
        backend.vault.save_device(account.account_id, [{"name": "d", "value": {1, 2}}], clock.now + timedelta(days=1))
    assert backend.stored_bytes() == before


def test_a_vault_written_before_devices_opens_and_takes_one(tmp_path: Path, key: MasterKey, clock: FakeClock) -> None:
    """Records sealed without the new keys (as every vault before this change holds) read as "no device,
    no change under way"; the file format is unchanged."""
    backend = _file_backend(tmp_path / "vault.json", key, clock)
    account = backend.add()

    def as_before(records: dict[str, Any], ring: Any, now: Any) -> None:
        blob = records[account.account_id]
        old = {name: value for name, value in unseal(account.account_id, blob, ring).items()
               if name not in ("device", "password_change", "password_changed_at")}
        records[account.account_id] = seal(account.account_id, blob.metadata(), old, ring)

    backend.vault._mutate(as_before)
    old = backend.reopen()
    got = old.get(account.account_id)
    assert got.password.get_secret_value() == PASSWORD
    assert (got.device_expires_at, got.pending_password, got.password_change_stage, got.password_changed_at) == (
        None, None, None, None)
    assert old.load_device(account.account_id) is None
    old.save_device(account.account_id, COOKIES, clock.now + timedelta(days=30))
    assert backend.reopen().load_device(account.account_id) == COOKIES
