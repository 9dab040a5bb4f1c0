"""Password changes that never lose a password: pending -> submitted -> confirmed (or abandoned), each step
one atomic write that the next run (a new vault object) reads back. On the vault file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.vault.conftest import FakeClock
from tests.vault.test_remembered_device import COOKIES, PASSWORD, STATE, Backend, open_backend
from vault import AccountStatus, InvalidAccount, MasterKey, Vault

NEW = "N3w-Generated-Passw0rd#91"


@pytest.fixture(params=["file", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, key: MasterKey, clock: FakeClock) -> Iterator[Backend]:
    yield from open_backend(request.param, tmp_path, key, clock)


def _stage(vault: Vault, account_id: str) -> tuple[str, str | None, str | None]:
    got = vault.get(account_id)
    pending = got.pending_password.get_secret_value() if got.pending_password else None
    return got.password.get_secret_value(), pending, got.password_change_stage


def test_the_whole_life_cycle_is_seen_by_the_next_run(backend: Backend, clock: FakeClock) -> None:
    account = backend.add()
    assert _stage(backend.vault, account.account_id) == (PASSWORD, None, None)
    assert account.password_changed_at is None and account.password_change_started_at is None

    started = backend.vault.begin_password_change(account.account_id, NEW)
    assert started.password_change_started_at == clock.now
    assert _stage(backend.reopen(), account.account_id) == (PASSWORD, NEW, "pending")  # a crash here: old one works

    clock.advance(seconds=20)
    submitted = backend.vault.mark_password_submitted(account.account_id)
    assert submitted.password_change_stage == "submitted"
    assert _stage(backend.reopen(), account.account_id) == (PASSWORD, NEW, "submitted")  # either may work

    clock.advance(seconds=5)
    confirmed = backend.vault.confirm_password_change(account.account_id)
    assert _stage(confirmed_vault := backend.reopen(), account.account_id) == (NEW, None, None)
    got = confirmed_vault.get(account.account_id)
    assert got.password_changed_at == clock.now == confirmed.password_changed_at
    assert got.password_change_started_at is None

    # The next change starts from the confirmed password.
    with pytest.raises(InvalidAccount, match="the new password is the current one"):
        backend.vault.begin_password_change(account.account_id, NEW)
    backend.vault.begin_password_change(account.account_id, SecretStr(PASSWORD + "-2"))
    assert _stage(backend.reopen(), account.account_id) == (NEW, PASSWORD + "-2", "pending")


def test_steps_out_of_order_are_refused_and_change_nothing(backend: Backend) -> None:
    account = backend.add()
    before = backend.stored_bytes()
    for step in (backend.vault.mark_password_submitted, backend.vault.confirm_password_change):
        with pytest.raises(InvalidAccount, match="no password change is under way for crossway/main"):
            step(account.account_id)
    with pytest.raises(InvalidAccount, match="invalid password"):
        backend.vault.begin_password_change(account.account_id, "")
    with pytest.raises(InvalidAccount, match="the new password is the current one"):
        backend.vault.begin_password_change(account.account_id, PASSWORD)
    assert backend.stored_bytes() == before

    backend.vault.begin_password_change(account.account_id, NEW)
    backend.vault.mark_password_submitted(account.account_id)
    during = backend.stored_bytes()
    with pytest.raises(InvalidAccount, match="already under way for crossway/main: confirm or abandon it first"):
        backend.vault.begin_password_change(account.account_id, NEW + "x")
    with pytest.raises(InvalidAccount, match="was already submitted"):
        backend.vault.mark_password_submitted(account.account_id)
    assert backend.stored_bytes() == during
    assert _stage(backend.reopen(), account.account_id) == (PASSWORD, NEW, "submitted")


def test_abandon_keeps_the_current_password(backend: Backend) -> None:
    account = backend.add()
    backend.vault.begin_password_change(account.account_id, NEW)
    backend.vault.mark_password_submitted(account.account_id)
    abandoned = backend.vault.abandon_password_change(account.account_id)
    assert abandoned.pending_password is None and abandoned.password_change_stage is None
    assert _stage(backend.reopen(), account.account_id) == (PASSWORD, None, None)
    assert abandoned.password_changed_at is None
    backend.vault.abandon_password_change(account.account_id)  # nothing under way: nothing to do
    backend.vault.begin_password_change(account.account_id, NEW)  # a new attempt may start
    assert _stage(backend.vault, account.account_id) == (PASSWORD, NEW, "pending")


def test_a_persons_password_wins_over_a_change_under_way(backend: Backend, clock: FakeClock) -> None:
    account = backend.add()
    backend.vault.begin_password_change(account.account_id, NEW)
    backend.vault.update_account(account.account_id, username="drsmith-renamed")  # not a password: kept
    assert _stage(backend.vault, account.account_id) == ("Corr3ct-Horse-Battery!", NEW, "pending")

    clock.advance(hours=1)
    typed = backend.vault.update_account(account.account_id, password="Typed-By-A-Person-7")
    assert _stage(backend.reopen(), account.account_id) == ("Typed-By-A-Person-7", None, None)
    assert typed.password_changed_at is None  # a change made by the product only (confirm_password_change)
    with pytest.raises(InvalidAccount, match="no password change is under way"):
        backend.vault.confirm_password_change(account.account_id)


def test_confirming_leaves_status_session_and_device_as_they_are(backend: Backend, clock: FakeClock) -> None:
    account = backend.add()
    backend.vault.save_device(account.account_id, COOKIES, clock.now + timedelta(days=30))
    backend.vault.save_session(account.account_id, STATE, clock.now + timedelta(hours=1))
    backend.vault.begin_password_change(account.account_id, NEW)
    backend.vault.mark_password_submitted(account.account_id)
    confirmed = backend.vault.confirm_password_change(account.account_id)
    assert confirmed.status is AccountStatus.ACTIVE
    assert backend.vault.load_session(account.account_id) == STATE
    assert backend.vault.load_device(account.account_id) == COOKIES

    backend.vault.begin_password_change(account.account_id, NEW + "-b")
    backend.vault.freeze(account.account_id, "password expired")
    still = backend.vault.confirm_password_change(account.account_id)
    assert still.is_frozen and still.password.get_secret_value() == NEW + "-b"  # no unfreezing on its own


def test_the_pending_password_is_never_in_clear(backend: Backend) -> None:
    account = backend.add()
    begun = backend.vault.begin_password_change(account.account_id, NEW)
    at_begin = backend.stored_bytes()
    submitted = backend.vault.mark_password_submitted(account.account_id)
    at_submit = backend.stored_bytes()
    for changed, stored in ((begun, at_begin), (submitted, at_submit)):
        shown = repr(changed) + str(changed) + repr(changed.model_dump())
        assert b'"crossway"' in stored  # the clear metadata is there: we looked at the right bytes
        assert NEW not in shown and NEW.encode() not in stored
        assert b"submitted" not in stored and b"pending" not in stored  # the stage is sealed too


def test_a_failed_write_leaves_the_change_where_it_was(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    account = backend.add()
    backend.vault.begin_password_change(account.account_id, NEW)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("vault.store.write_atomic", fail)
    if backend.name == "postgres":
        monkeypatch.setattr(backend.vault._database, "replace", fail)  # type: ignore[attr-defined]
    with pytest.raises(OSError, match="disk full"):
        backend.vault.confirm_password_change(account.account_id)
    monkeypatch.undo()
    assert _stage(backend.reopen(), account.account_id) == (PASSWORD, NEW, "pending")
