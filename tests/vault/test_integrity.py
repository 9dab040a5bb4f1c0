"""Wrong keys, damaged or tampered files, rotation: always a clear error, never a reset, nothing changed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from aggregator.errors import VaultError
from vault import MasterKey, Vault, VaultCorrupted, WrongMasterKey
from vault.format import compute_mac, parse
from vault.keys import pending_key_file

PASSWORD = "Corr3ct-Horse-Battery!"


@pytest.fixture
def two(vault: Vault, add) -> tuple[str, str]:
    return add("main").account_id, add("backup").account_id


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1))


def _flip(b64_text: str, index: int) -> str:
    raw = bytearray(base64.b64decode(b64_text))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_wrong_key_is_clear_and_changes_nothing(vault: Vault, vault_path: Path, two) -> None:
    before = vault_path.read_bytes()
    with pytest.raises(WrongMasterKey, match="^wrong master key"):
        Vault.open(vault_path, MasterKey.generate())
    assert vault_path.read_bytes() == before


def test_write_with_a_stale_key_changes_nothing(vault: Vault, vault_path: Path, key: MasterKey, two) -> None:
    stale = Vault.open(vault_path, key)
    vault.rotate_key(MasterKey.generate())  # someone else re-keyed the vault
    before = vault_path.read_bytes()
    with pytest.raises(WrongMasterKey):
        stale.add_account(carrier="ridgeline", label="x", username="u", password="p-secret")
    assert vault_path.read_bytes() == before


@pytest.mark.parametrize("damage, message", [
    (lambda raw: b'{"format": "aggregator-vault", "version": 1, "records": {', "invalid JSON"),
    (lambda raw: raw[: len(raw) // 2], "truncated"),
    (lambda raw: b"", "invalid JSON"),
    (lambda raw: b"\xff\xfe garbage", "not UTF-8"),
    (lambda raw: b'{"hello": "world"}', "not an aggregator vault"),
    (lambda raw: raw.replace(b'"version": 1', b'"version": 7'), "format version 7"),
    (lambda raw: raw.replace(b'"key_check"', b'"key_chekc"'), "corrupted"),
])
def test_damaged_file_is_a_clear_error_never_a_reset(vault: Vault, vault_path: Path, key: MasterKey, two,
                                                     damage, message: str) -> None:
    vault_path.write_bytes(damage(vault_path.read_bytes()))
    damaged = vault_path.read_bytes()
    with pytest.raises(VaultError, match=message):
        Vault.open(vault_path, key)
    with pytest.raises(VaultError):  # a vault opened before the damage must not "repair" it by rewriting
        vault.add_account(carrier="ridgeline", label="new", username="u", password="p-secret")
    assert vault_path.read_bytes() == damaged


@pytest.mark.parametrize("field, index", [("payload", 20), ("payload", 5), ("wrapped_key", 14)])
def test_flipped_byte_in_one_record_is_detected_and_named(vault: Vault, vault_path: Path, key: MasterKey,
                                                         two, field: str, index: int) -> None:
    main_id, _ = two
    _edit(vault_path, lambda d: d["records"][main_id].update({field: _flip(d["records"][main_id][field], index)}))
    tampered = vault_path.read_bytes()
    with pytest.raises(VaultCorrupted, match=f"record {main_id} .*integrity check"):
        Vault.open(vault_path, key)
    assert vault_path.read_bytes() == tampered


def test_swapping_ciphertexts_between_ids_is_detected(vault: Vault, vault_path: Path, key: MasterKey, two) -> None:
    main_id, backup_id = two

    def swap(data: dict) -> None:
        a, b = data["records"][main_id], data["records"][backup_id]
        for field in ("wrapped_key", "payload"):
            a[field], b[field] = b[field], a[field]

    _edit(vault_path, swap)
    with pytest.raises(VaultCorrupted, match="integrity check"):
        Vault.open(vault_path, key)


def test_records_are_bound_to_their_id_even_with_a_valid_file_mac(vault: Vault, vault_path: Path,
                                                                  key: MasterKey, two) -> None:
    """Defence in depth: even someone able to recompute the file MAC cannot move a record to another id."""
    main_id, backup_id = two
    _edit(vault_path, lambda d: d["records"].update({main_id: d["records"][backup_id]}))
    doc = parse(vault_path.read_bytes(), vault_path)
    ring = key.keyring(doc.kdf_dict())
    _edit(vault_path, lambda d: d.update(mac=compute_mac(doc, ring)))
    reopened = Vault.open(vault_path, key)  # the file MAC is fine now...
    with pytest.raises(VaultCorrupted, match=f"record {main_id}"):
        reopened.get(main_id)  # ...but the record's own AEAD binding is not
    assert reopened.get(backup_id).password.get_secret_value() == PASSWORD


def test_editing_clear_metadata_is_detected(vault: Vault, vault_path: Path, key: MasterKey, two) -> None:
    main_id, _ = two
    vault.freeze(main_id, "locked")
    _edit(vault_path, lambda d: d["records"][main_id].update(status="active", frozen_reason=None, frozen_at=None))
    with pytest.raises(VaultCorrupted, match=f"record {main_id}"):
        Vault.open(vault_path, key)


def test_deleting_a_record_is_detected(vault: Vault, vault_path: Path, key: MasterKey, two) -> None:
    main_id, _ = two
    _edit(vault_path, lambda d: d["records"].pop(main_id))
    with pytest.raises(VaultCorrupted, match="added, removed or replaced"):
        Vault.open(vault_path, key)


def test_rolling_back_one_record_is_detected(vault: Vault, vault_path: Path, key: MasterKey, two) -> None:
    main_id, _ = two
    old_record = json.loads(vault_path.read_text())["records"][main_id]
    vault.update_account(main_id, password="rotated-by-the-practice")
    _edit(vault_path, lambda d: d["records"].update({main_id: old_record}))
    with pytest.raises(VaultCorrupted):
        Vault.open(vault_path, key)


# --- rotation --------------------------------------------------------------------------------------

def test_rotation_round_trips_and_the_old_key_opens_nothing(vault: Vault, vault_path: Path, key: MasterKey,
                                                            clock, two) -> None:
    from datetime import timedelta

    main_id, backup_id = two
    vault.save_session(main_id, {"cookies": [], "origins": []}, clock.now + timedelta(hours=1))
    payload_before = json.loads(vault_path.read_text())["records"][main_id]["payload"]
    new_key = MasterKey.generate()
    vault.rotate_key(new_key)

    reopened = Vault.open(vault_path, new_key, clock=clock)
    assert {a.account_id for a in reopened.accounts()} == {main_id, backup_id}
    assert all(a.password.get_secret_value() == PASSWORD for a in reopened.accounts())
    assert reopened.load_session(main_id) == {"cookies": [], "origins": []}
    # Only the data-key wrap changed, not the payload.
    assert json.loads(vault_path.read_text())["records"][main_id]["payload"] == payload_before
    with pytest.raises(WrongMasterKey, match="wrong master key"):
        Vault.open(vault_path, key)
    assert vault.get(main_id).password.get_secret_value() == PASSWORD  # the rotating object follows


def test_rotation_to_and_from_a_passphrase(vault: Vault, vault_path: Path, key: MasterKey, two) -> None:
    passphrase = MasterKey.from_passphrase("a long enough passphrase", scrypt_n=2**10)
    vault.rotate_key(passphrase)
    assert json.loads(vault_path.read_text())["kdf"]["name"] == "scrypt"
    with pytest.raises(WrongMasterKey, match="protected by a passphrase"):
        Vault.open(vault_path, key)
    with pytest.raises(WrongMasterKey):
        Vault.open(vault_path, MasterKey.from_passphrase("not the right passphrase"))
    again = Vault.open(vault_path, MasterKey.from_passphrase("a long enough passphrase"))
    back = MasterKey.generate()
    again.rotate_key(back)
    assert json.loads(vault_path.read_text())["kdf"] is None
    assert len(Vault.open(vault_path, back).accounts()) == 2


def test_rotation_to_a_key_file_and_recovery_from_an_interruption(tmp_path: Path, clock) -> None:
    key_file = tmp_path / "vault.key"
    key = MasterKey.generate()
    key.write_key_file(key_file)
    vault = Vault.create(tmp_path / "vault.json", MasterKey.from_key_file(key_file))
    account = vault.add_account(carrier="ridgeline", label="main", username="u", password=PASSWORD)

    new_key = vault.rotate_to_key_file(key_file)
    assert not pending_key_file(key_file).exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert Vault.open(vault.path, MasterKey.from_key_file(key_file)).get(account.account_id).password \
        .get_secret_value() == PASSWORD
    assert new_key.key_file == key_file

    # Simulate a crash after the vault was re-keyed but before the new key file was moved into place.
    pending = pending_key_file(key_file)
    newer = MasterKey.generate()
    newer.write_key_file(pending)
    vault.rotate_key(newer)
    recovered = Vault.open(vault.path, MasterKey.from_key_file(key_file))  # the old key file fails, .new works
    assert recovered.get(account.account_id).password.get_secret_value() == PASSWORD
    assert not pending.exists()
    Vault.open(vault.path, MasterKey.from_key_file(key_file))  # the key file holds the right key now


def test_a_stale_pending_key_file_does_not_hide_a_wrong_key(tmp_path: Path) -> None:
    key_file = tmp_path / "vault.key"
    MasterKey.generate().write_key_file(key_file)
    Vault.create(tmp_path / "vault.json", MasterKey.generate())
    MasterKey.generate().write_key_file(pending_key_file(key_file))
    with pytest.raises(WrongMasterKey):
        Vault.open(tmp_path / "vault.json", MasterKey.from_key_file(key_file))
    assert pending_key_file(key_file).exists()  # not ours to delete: we could not prove what it is
