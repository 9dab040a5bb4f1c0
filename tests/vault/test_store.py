"""The encrypted store: round trips, secrecy at rest, accounts, sessions, freeze."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.errors import AccountFrozen, VaultError
from vault import AccountInput, AccountNotFound, AccountStatus, InvalidAccount, MasterKey, Vault, VaultMissing

PASSWORD = "Corr3ct-Horse-Battery!"  # what the `add` fixture stores
SEED = "JBSWY3DPEHPK3PXP"


def test_round_trip_and_reopen(vault: Vault, vault_path: Path, key: MasterKey, add) -> None:
    account = add(totp_secret="jbsw y3dp ehpk 3pxp", security_answers={"First pet?": "Rex"})
    reopened = Vault.open(vault_path, key)
    got = reopened.get(account.account_id)
    assert got.username.get_secret_value() == "drsmith-main"
    assert got.password.get_secret_value() == PASSWORD
    assert got.totp_secret is not None and got.totp_secret.get_secret_value() == SEED  # normalized
    assert got.security_answers["First pet?"].get_secret_value() == "Rex"
    assert got.display_name == "ridgeline/main" and not got.is_frozen
    assert len(got.account_id) == 32 and got.account_id == account.account_id
    assert reopened.find("ridgeline", "main") == got
    assert reopened.find("ridgeline", "nope") is None


def test_secrets_are_not_in_repr_or_on_disk(vault: Vault, vault_path: Path, add) -> None:
    account = add(totp_secret=SEED, security_answers={"Mother's maiden name?": "Quixotic"})
    text = repr(account) + str(account) + repr(account.model_dump())
    disk = vault_path.read_text()
    for secret in (PASSWORD, SEED, "Quixotic", "drsmith-main"):
        assert secret not in text
        assert secret not in disk
    assert "ridgeline" in disk  # clear metadata is what lets `list` work


def test_accounts_ordered_by_carrier_then_label(vault: Vault, add) -> None:
    add("zeta", "ridgeline")
    add("alpha", "ridgeline")
    add("main", "bluepeak")
    assert [a.display_name for a in vault.accounts()] == ["bluepeak/main", "ridgeline/alpha", "ridgeline/zeta"]
    assert [a.label for a in vault.accounts("ridgeline")] == ["alpha", "zeta"]


def test_label_unique_per_carrier(vault: Vault, vault_path: Path, add) -> None:
    add("main", "ridgeline")
    add("main", "bluepeak")  # same label, other carrier: fine
    before = vault_path.read_bytes()
    with pytest.raises(InvalidAccount, match="already exists"):
        add("main", "ridgeline")
    assert vault_path.read_bytes() == before


@pytest.mark.parametrize("fields, problem", [
    ({"carrier": "Ridge Line"}, "carrier"),
    ({"label": "  "}, "label"),
    ({"password": ""}, "password"),
    ({"totp_secret": "not base32 !!"}, "totp_secret"),
])
def test_invalid_input_is_refused_without_echoing_it(vault: Vault, fields: dict, problem: str) -> None:
    values = {"carrier": "ridgeline", "label": "main", "username": "u1", "password": PASSWORD, **fields}
    with pytest.raises(InvalidAccount) as caught:
        vault.add_account(**values)
    assert problem in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_remove(vault: Vault, add) -> None:
    account = add()
    vault.remove_account(account.account_id)
    assert vault.accounts() == []
    with pytest.raises(AccountNotFound):
        vault.get(account.account_id)
    with pytest.raises(AccountNotFound):
        vault.remove_account(account.account_id)


def test_create_refuses_existing_file_and_open_needs_one(vault: Vault, vault_path: Path, key: MasterKey) -> None:
    with pytest.raises(VaultError, match="already exists"):
        Vault.create(vault_path, key)
    with pytest.raises(VaultMissing, match="no vault at"):
        Vault.open(vault_path.with_name("other.json"), key)


def test_file_is_owner_only(vault: Vault, vault_path: Path, add) -> None:
    add()
    assert vault_path.stat().st_mode & 0o777 == 0o600


# --- sessions --------------------------------------------------------------------------------------

STATE = {"cookies": [{"name": "sid", "value": "c00kie-value-123", "domain": "portal.test", "path": "/"}],
         "origins": [{"origin": "https://portal.test", "localStorage": [{"name": "t", "value": "tok"}]}]}


def test_session_save_load_and_expiry(vault: Vault, vault_path: Path, key: MasterKey, clock, add) -> None:
    account = add()
    assert vault.load_session(account.account_id) is None
    vault.save_session(account.account_id, STATE, clock.now + timedelta(minutes=30))
    assert "c00kie-value-123" not in vault_path.read_text()  # encrypted like the password

    reopened = Vault.open(vault_path, key, clock=clock)
    assert reopened.load_session(account.account_id) == STATE
    assert reopened.get(account.account_id).session_expires_at == clock.now + timedelta(minutes=30)
    clock.advance(minutes=30)
    assert reopened.load_session(account.account_id) is None  # expired is the same as absent

    vault.save_session(account.account_id, STATE, clock.now + timedelta(minutes=5))
    vault.clear_session(account.account_id)
    assert vault.load_session(account.account_id) is None


def test_session_needs_aware_expiry(vault: Vault, clock, add) -> None:
    account = add()
    with pytest.raises(ValueError):
        vault.save_session(account.account_id, STATE, clock.now.replace(tzinfo=None))


def test_username_change_drops_session_password_change_keeps_it(vault: Vault, clock, add) -> None:
    account = add()
    vault.save_session(account.account_id, STATE, clock.now + timedelta(hours=1))
    vault.update_account(account.account_id, password="another-pass")
    assert vault.load_session(account.account_id) == STATE
    vault.update_account(account.account_id, username="someone-else")
    assert vault.load_session(account.account_id) is None


# --- freeze ----------------------------------------------------------------------------------------

def test_freeze_persists_and_new_password_unfreezes(vault: Vault, vault_path: Path, key: MasterKey,
                                                    clock, add) -> None:
    account = add()
    vault.save_session(account.account_id, STATE, clock.now + timedelta(hours=1))
    frozen = vault.freeze(account.account_id, "Ridgeline said: invalid username or password")
    assert frozen.is_frozen and frozen.status is AccountStatus.FROZEN
    assert vault.load_session(account.account_id) is None  # a frozen account keeps no session

    reopened = Vault.open(vault_path, key, clock=clock)
    again = reopened.get(account.account_id)
    assert again.is_frozen
    assert again.frozen_reason == "Ridgeline said: invalid username or password"
    assert again.frozen_at == clock.now
    with pytest.raises(AccountFrozen):
        reopened.save_session(account.account_id, STATE, clock.now + timedelta(hours=1))

    # Typing the same password again is not a fix; a new one is.
    assert reopened.update_account(account.account_id, password=PASSWORD).is_frozen
    thawed = reopened.update_account(account.account_id, password="the-new-password")
    assert not thawed.is_frozen and thawed.frozen_reason is None and thawed.frozen_at is None
    assert not Vault.open(vault_path, key).get(account.account_id).is_frozen


def test_explicit_unfreeze_and_rename(vault: Vault, add) -> None:
    account = add("main")
    add("backup")
    vault.freeze(account.account_id, "locked")
    assert not vault.update_account(account.account_id, unfreeze=True).is_frozen
    with pytest.raises(InvalidAccount, match="already exists"):
        vault.update_account(account.account_id, label="backup")
    assert vault.update_account(account.account_id, label="primary").label == "primary"


def test_update_can_remove_a_seed(vault: Vault, add) -> None:
    account = add(totp_secret=SEED)
    assert vault.update_account(account.account_id, totp_secret="").totp_secret is None


def test_freeze_seen_by_another_open_vault(vault: Vault, vault_path: Path, key: MasterKey, add) -> None:
    account = add()
    other = Vault.open(vault_path, key)
    assert not other.get(account.account_id).is_frozen
    vault.freeze(account.account_id, "locked out")
    assert other.get(account.account_id).is_frozen  # re-read because the file changed


def test_upsert_accounts_is_one_write(vault: Vault, add) -> None:
    existing = add("main")
    vault.freeze(existing.account_id, "locked")
    entries = [AccountInput(carrier="ridgeline", label="main", username="drsmith-main", password="fixed-pass"),
               AccountInput(carrier="bluepeak", label="main", username="u2", password="p2-secret")]
    assert vault.upsert_accounts(entries) == (1, 1)
    assert not vault.find("ridgeline", "main").is_frozen  # type: ignore[union-attr]
    with pytest.raises(InvalidAccount, match="listed twice"):
        vault.upsert_accounts(entries + entries[:1])


def test_file_is_plain_json_with_header(vault: Vault, vault_path: Path, add) -> None:
    add()
    data = json.loads(vault_path.read_text())
    assert data["format"] == "aggregator-vault" and data["version"] == 1
    assert set(data) >= {"kdf", "key_check", "records", "mac"}
