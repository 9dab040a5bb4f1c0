"""Where the master key comes from, in order, and which sources are refused."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from aggregator.settings import Settings
from vault import MasterKey, MasterKeyError, Vault, WrongMasterKey


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def _b64_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_env_key_wins_over_passphrase_and_key_file(settings: Settings) -> None:
    MasterKey.generate().write_key_file(settings.resolved_data_dir / "vault.key")
    env = {"AGGREGATOR_VAULT_KEY": _b64_key(), "AGGREGATOR_VAULT_PASSPHRASE": "a long enough passphrase"}
    assert MasterKey.resolve(settings, environ=env).source == "AGGREGATOR_VAULT_KEY"
    env.pop("AGGREGATOR_VAULT_KEY")
    assert MasterKey.resolve(settings, environ=env).is_passphrase
    env.pop("AGGREGATOR_VAULT_PASSPHRASE")
    assert MasterKey.resolve(settings, environ=env).key_file == settings.resolved_data_dir / "vault.key"


def test_key_file_location_can_be_overridden(settings: Settings, tmp_path: Path) -> None:
    elsewhere = tmp_path / "keys" / "practice.key"
    MasterKey.generate().write_key_file(elsewhere)
    key = MasterKey.resolve(settings, environ={"AGGREGATOR_VAULT_KEY_FILE": str(elsewhere)})
    assert key.key_file == elsewhere.resolve()


def test_no_key_anywhere_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(MasterKeyError, match="no vault master key.*aggregator vault init"):
        MasterKey.resolve(settings, environ={})


@pytest.mark.parametrize("value", ["not base64!!", base64.b64encode(b"short").decode()])
def test_bad_env_key_is_refused(settings: Settings, value: str) -> None:
    with pytest.raises(MasterKeyError, match="AGGREGATOR_VAULT_KEY is not base64 of 32 bytes"):
        MasterKey.resolve(settings, environ={"AGGREGATOR_VAULT_KEY": value})


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "vault.key"
    MasterKey.generate().write_key_file(path)
    path.chmod(mode)
    with pytest.raises(MasterKeyError, match=f"mode {mode:04o}.*chmod 600"):
        MasterKey.from_key_file(path)
    path.chmod(0o600)
    MasterKey.from_key_file(path)  # the same file is fine once it is private


def test_key_file_is_created_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "vault.key"
    MasterKey.generate().write_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    before = path.read_bytes()
    with pytest.raises(MasterKeyError, match="already exists"):
        MasterKey.generate().write_key_file(path)
    assert path.read_bytes() == before


def test_garbage_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vault.key"
    path.write_text("hello\n")
    path.chmod(0o600)
    with pytest.raises(MasterKeyError, match="does not hold a base64 32-byte key"):
        MasterKey.from_key_file(path)


def test_passphrase_mode(settings: Settings) -> None:
    env = {"AGGREGATOR_VAULT_PASSPHRASE": "correct horse battery staple"}
    vault = Vault.create(settings.resolved_vault_path, MasterKey.resolve(settings, environ=env))
    account = vault.add_account(carrier="ridgeline", label="main", username="u", password="pw-123456")
    header = settings.resolved_vault_path.read_text()
    assert '"name": "scrypt"' in header and '"salt"' in header

    reopened = Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings, environ=env))
    assert reopened.get(account.account_id).password.get_secret_value() == "pw-123456"
    wrong = {"AGGREGATOR_VAULT_PASSPHRASE": "correct horse battery stable"}
    with pytest.raises(WrongMasterKey, match="wrong master key"):
        Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings, environ=wrong))


def test_short_passphrase_is_refused() -> None:
    with pytest.raises(MasterKeyError, match="at least 12"):
        MasterKey.from_passphrase("hunter2")


def test_key_never_shows_in_repr() -> None:
    raw = os.urandom(32)
    key = MasterKey(raw=raw, source="test")
    assert base64.b64encode(raw).decode() not in repr(key) and raw.hex() not in repr(key)
