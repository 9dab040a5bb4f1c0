"""`Vault`: the encrypted store of portal accounts and their saved browser sessions.

Reads use the last verified copy of the file while its inode/size/mtime are unchanged, so a freeze
written by another process is seen on the next `get`. Every write takes the file lock, re-reads and
re-verifies the file, applies one change and atomically replaces the file; anything that fails before
the replace leaves the file byte-for-byte as it was.

Beside the logins, each account may hold a remembered device (the portal's "remember this device" cookies,
kept apart from the session) and a password change under way (the new password as pending, then
submitted, until the portal accepted it). Both live inside the sealed secrets, so the file format is
unchanged and a vault written before them opens as it is.

`vault.database.DatabaseVault` keeps the same document in PostgreSQL instead; it replaces only the
storage steps (`_current`, `_writing`, `_write`), which is why every change goes through them.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from aggregator.errors import AccountFrozen
from vault.errors import AccountNotFound, InvalidAccount, VaultError, WrongMasterKey
from vault.fileio import Signature, file_lock, fsync_dir, read_file, signature, write_atomic
from vault.format import (
    FORMAT,
    VERSION,
    KdfParams,
    RecordBlob,
    VaultDoc,
    check_key,
    check_mac,
    compute_mac,
    diagnose,
    dump,
    parse,
    rewrap,
    seal,
    unseal,
)
from vault.keys import KeyRing, MasterKey, b64, pending_key_file
from vault.models import AccountInput, AccountSecrets, AccountStatus, PortalAccount, check_label
from vault.totp import InProcessTotpSteps, UsedTotpSteps

T = TypeVar("T")
Records = dict[str, RecordBlob]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
PASSWORD_EXPIRED = "password_expired"  # the freeze code a confirmed password change ends (human_steps)
_SECRET_FIELDS = ("username", "password", "totp_secret", "security_answers", "tax_id", "npi")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_input=False)[0]  # never echo a secret back
        where = ".".join(str(part) for part in first["loc"]) or "account"
        raise InvalidAccount(f"invalid {where}: {first['msg']}") from None


def _plain_secrets(given: AccountSecrets) -> dict[str, Any]:
    """The fields a caller actually gave, as plain values for the encrypted payload."""
    out: dict[str, Any] = {}
    for name in given.model_fields_set & set(_SECRET_FIELDS):
        value = getattr(given, name)
        if isinstance(value, SecretStr):
            out[name] = value.get_secret_value()
        elif isinstance(value, dict):
            out[name] = {q.strip(): a.get_secret_value() for q, a in value.items()}
        else:
            out[name] = value  # None: an explicitly empty TOTP seed
    return out


class Vault:
    """Open with `Vault.open(path, key)` or make a new one with `Vault.create(path, key)`."""

    def __init__(self, path: Path, key: MasterKey, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self._key = key
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()  # one Vault object shared by threads: one operation at a time
        self._cache: tuple[Signature | None, VaultDoc, KeyRing] | None = None

    def __repr__(self) -> str:
        return f"Vault({str(self.path)!r}, key={self._key!r})"

    @property
    def key(self) -> MasterKey:
        return self._key

    @property
    def location(self) -> str:
        """Where the vault is, as messages name it (never a secret)."""
        return str(self.path)

    def totp_memory(self) -> UsedTotpSteps:
        """Where the TOTP codes already used are remembered: this process only, for a vault file."""
        return InProcessTotpSteps()

    # --- opening ------------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path | str, key: MasterKey, *, clock: Callable[[], datetime] | None = None) -> Vault:
        """A new, empty vault. Refuses if a file already exists at `path`."""
        vault = cls(Path(path), key, clock=clock)
        with file_lock(vault.path):
            if vault.path.exists():
                raise VaultError(f"a vault already exists at {vault.path}; refusing to overwrite it")
            vault._write(*vault._empty_document(), overwrite=False)
        return vault

    def _empty_document(self) -> tuple[VaultDoc, KeyRing]:
        """A vault with no accounts, under this vault's key (its MAC is added by `_write`)."""
        kdf = self._key.new_kdf()
        ring = self._key.keyring(kdf)
        doc = VaultDoc(format=FORMAT, version=VERSION, kdf=KdfParams.model_validate(kdf) if kdf else None,
                       key_check=b64(ring.check),
                       created_at=_iso(self._clock()), rotated_at=None, records={}, mac="")
        return doc, ring

    @classmethod
    def open(cls, path: Path | str, key: MasterKey, *, clock: Callable[[], datetime] | None = None) -> Vault:
        """Open and verify (key check + whole-file MAC). VaultError on a missing, corrupt or foreign file."""
        vault = cls(Path(path), key, clock=clock)
        vault._check_opens()
        return vault

    def _check_opens(self) -> None:
        """Read and verify; a rejected key may be the old one of an interrupted rotation (finished here)."""
        try:
            self._current()
        except WrongMasterKey:
            if not self._finish_interrupted_rotation():
                raise

    def close(self) -> None:
        """Nothing to release for a vault file (a database vault closes its connection)."""

    def _verify(self, raw: bytes) -> tuple[VaultDoc, KeyRing]:
        doc = parse(raw, self.location)
        ring = self._key.keyring(doc.kdf_dict())
        if not check_key(doc, ring):
            raise WrongMasterKey(f"wrong master key for vault {self.location} (key from {self._key.source}): "
                                 "it does not match the vault's key check")
        if not check_mac(doc, ring):
            raise diagnose(doc, ring, self.location)
        return doc, ring

    def _current(self) -> tuple[VaultDoc, KeyRing]:
        with self._lock:
            if self._cache is not None and self._cache[0] == signature(self.path):
                return self._cache[1], self._cache[2]
            raw, sig = read_file(self.path)
            doc, ring = self._verify(raw)
            self._cache = (sig, doc, ring)
            return doc, ring

    def _write(self, doc: VaultDoc, ring: KeyRing, *, overwrite: bool = True) -> None:
        doc = doc.model_copy(update={"mac": compute_mac(doc, ring)})
        write_atomic(self.path, dump(doc), overwrite=overwrite)
        self._cache = (signature(self.path), doc, ring)  # safe: we still hold the file lock

    @contextmanager
    def _writing(self) -> Iterator[bytes]:
        """The writers' lock, held for the whole block, and the stored bytes read under it."""
        with self._lock, file_lock(self.path):
            raw, _ = read_file(self.path)
            yield raw

    def _mutate(self, change: Callable[[Records, KeyRing, datetime], T]) -> T:
        """Lock, re-read, verify, change a copy of the records, write. Errors leave the file as it was."""
        with self._writing() as raw:
            doc, ring = self._verify(raw)
            records = dict(doc.records)
            result = change(records, ring, self._clock())
            self._write(doc.model_copy(update={"records": records}), ring)
            return result

    # --- reading -----------------------------------------------------------------------------------

    def _account(self, account_id: str, blob: RecordBlob, ring: KeyRing) -> PortalAccount:
        secrets = unseal(account_id, blob, ring)
        device = secrets.get("device") or {}  # vaults written before devices and changes have neither key
        change = secrets.get("password_change") or {}
        return PortalAccount(
            account_id=account_id, carrier=blob.carrier, label=blob.label,
            username=secrets["username"], password=secrets["password"], totp_secret=secrets.get("totp_secret"),
            security_answers=secrets.get("security_answers") or {},
            tax_id=secrets.get("tax_id"), npi=secrets.get("npi"),
            status=AccountStatus(blob.status), frozen_reason=blob.frozen_reason, frozen_at=_when(blob.frozen_at),
            created_at=_when(blob.created_at), updated_at=_when(blob.updated_at),
            session_saved_at=_when(blob.session_saved_at), session_expires_at=_when(blob.session_expires_at),
            device_expires_at=_when(device.get("expires_at")),
            pending_password=change.get("password"), password_change_stage=change.get("stage"),
            password_change_started_at=_when(change.get("started_at")),
            password_changed_at=_when(secrets.get("password_changed_at")),
            frozen_code=secrets.get("frozen_code") if blob.status == AccountStatus.FROZEN.value else None,
        )

    @staticmethod
    def _blob(records: Records, account_id: str) -> RecordBlob:
        blob = records.get(account_id)
        if blob is None:
            raise AccountNotFound(f"no vault account with id {account_id}")
        return blob

    def get(self, account_id: str) -> PortalAccount:
        with self._lock:
            doc, ring = self._current()
            return self._account(account_id, self._blob(doc.records, account_id), ring)

    def find(self, carrier: str, label: str) -> PortalAccount | None:
        with self._lock:
            doc, ring = self._current()
            for account_id, blob in doc.records.items():
                if blob.carrier == carrier and blob.label == label:
                    return self._account(account_id, blob, ring)
            return None

    def accounts(self, carrier: str | None = None) -> list[PortalAccount]:
        """All accounts (or one carrier's), ordered by carrier then label."""
        with self._lock:
            doc, ring = self._current()
            chosen = [(i, b) for i, b in doc.records.items() if carrier is None or b.carrier == carrier]
            chosen.sort(key=lambda item: (item[1].carrier, item[1].label))
            return [self._account(i, b, ring) for i, b in chosen]

    # --- accounts ----------------------------------------------------------------------------------

    @staticmethod
    def _check_label_free(records: Records, carrier: str, label: str, except_id: str | None = None) -> None:
        for account_id, blob in records.items():
            if blob.carrier == carrier and blob.label == label and account_id != except_id:
                raise InvalidAccount(f"account {carrier}/{label} already exists")

    def _insert(self, records: Records, ring: KeyRing, now: datetime, entry: AccountInput) -> PortalAccount:
        self._check_label_free(records, entry.carrier, entry.label)
        account_id = uuid.uuid4().hex
        metadata = {"carrier": entry.carrier, "label": entry.label, "status": AccountStatus.ACTIVE.value,
                    "frozen_reason": None, "frozen_at": None, "created_at": _iso(now), "updated_at": _iso(now),
                    "session_saved_at": None, "session_expires_at": None}
        secrets = {"totp_secret": None, "security_answers": {}, "session": None, "device": None,
                   "password_change": None, "password_changed_at": None, **_plain_secrets(entry)}
        records[account_id] = seal(account_id, metadata, secrets, ring)
        return self._account(account_id, records[account_id], ring)

    def _change(self, records: Records, ring: KeyRing, now: datetime, account_id: str, given: AccountSecrets,
                *, label: str | None = None, unfreeze: bool = False) -> PortalAccount:
        blob = self._blob(records, account_id)
        metadata, secrets = blob.metadata(), unseal(account_id, blob, ring)
        new_values = _plain_secrets(given)
        changed = {name for name, value in new_values.items() if secrets.get(name) != value}
        secrets.update(new_values)
        if label is not None:
            self._check_label_free(records, blob.carrier, label, except_id=account_id)
            metadata["label"] = label
        # A person typed new credentials: whatever froze the account has presumably been fixed.
        # Re-entering the same values is not a fix; `unfreeze=True` says so explicitly.
        if changed or unfreeze:
            metadata.update(status=AccountStatus.ACTIVE.value, frozen_reason=None, frozen_at=None)
        if "password" in new_values:  # a person's password wins over a change the product was making
            secrets["password_change"] = None
        if "username" in changed:  # a session and a remembered device belong to the user who logged in
            secrets["session"] = None
            secrets["device"] = None
            metadata.update(session_saved_at=None, session_expires_at=None)
        metadata["updated_at"] = _iso(now)
        records[account_id] = seal(account_id, metadata, secrets, ring)
        return self._account(account_id, records[account_id], ring)

    def add_account(self, *, carrier: str, label: str, username: str | SecretStr, password: str | SecretStr,
                    totp_secret: str | SecretStr | None = None,
                    security_answers: dict[str, str] | dict[str, SecretStr] | None = None,
                    tax_id: str | None = None, npi: str | None = None) -> PortalAccount:
        entry = _validated(AccountInput, {"carrier": carrier, "label": label, "username": username,
                                          "password": password, "totp_secret": totp_secret,
                                          "security_answers": security_answers or {}, "tax_id": tax_id, "npi": npi})
        return self._mutate(lambda records, ring, now: self._insert(records, ring, now, entry))

    def update_account(self, account_id: str, *, username: str | SecretStr | None = None,
                       password: str | SecretStr | None = None, totp_secret: str | SecretStr | None = None,
                       security_answers: dict[str, str] | dict[str, SecretStr] | None = None,
                       label: str | None = None, unfreeze: bool = False,
                       tax_id: str | None = None, npi: str | None = None) -> PortalAccount:
        """Change what is given (None = keep; "" clears a Tax ID or NPI). New credentials on a frozen account
        unfreeze it."""
        given = {name: value for name, value in (("username", username), ("password", password),
                 ("totp_secret", totp_secret), ("security_answers", security_answers), ("tax_id", tax_id),
                 ("npi", npi)) if value is not None}
        secrets = _validated(AccountSecrets, given)
        if label is not None:
            label = _validated_label(label)
        return self._mutate(lambda records, ring, now: self._change(records, ring, now, account_id, secrets,
                                                                    label=label, unfreeze=unfreeze))

    def upsert_accounts(self, entries: Iterable[AccountInput]) -> tuple[int, int]:
        """Add or update by (carrier, label), all in one write: all of them land, or none. -> (added, updated)"""
        entries = list(entries)
        seen: set[tuple[str, str]] = set()
        for entry in entries:
            if (entry.carrier, entry.label) in seen:
                raise InvalidAccount(f"account {entry.carrier}/{entry.label} is listed twice")
            seen.add((entry.carrier, entry.label))

        def change(records: Records, ring: KeyRing, now: datetime) -> tuple[int, int]:
            by_name = {(b.carrier, b.label): i for i, b in records.items()}
            added = updated = 0
            for entry in entries:
                account_id = by_name.get((entry.carrier, entry.label))
                if account_id is None:
                    self._insert(records, ring, now, entry)
                    added += 1
                else:
                    self._change(records, ring, now, account_id, entry)
                    updated += 1
            return added, updated

        return self._mutate(change)

    def remove_account(self, account_id: str) -> None:
        def change(records: Records, ring: KeyRing, now: datetime) -> None:
            self._blob(records, account_id)
            del records[account_id]

        self._mutate(change)

    def freeze(self, account_id: str, reason: str, *, code: str | None = None) -> PortalAccount:
        """Stop all logins for this account until a person acts; its saved session is dropped too. `code`: the
        reason's code (aggregator/human_steps.py), sealed: a freeze for an expired password may be ended by the
        product's own password change (`confirm_password_change`), any other only by a person."""
        reason = _CONTROL.sub(" ", reason).strip()[:300] or "login rejected by the portal"

        def change(records: Records, ring: KeyRing, now: datetime) -> PortalAccount:
            blob = self._blob(records, account_id)
            secrets = {**unseal(account_id, blob, ring), "session": None, "frozen_code": code}
            metadata = {**blob.metadata(), "status": AccountStatus.FROZEN.value, "frozen_reason": reason,
                        "frozen_at": _iso(now), "updated_at": _iso(now), "session_saved_at": None,
                        "session_expires_at": None}
            records[account_id] = seal(account_id, metadata, secrets, ring)
            return self._account(account_id, records[account_id], ring)

        return self._mutate(change)

    # --- sessions ----------------------------------------------------------------------------------

    def save_session(self, account_id: str, storage_state: dict[str, Any], expires_at: datetime) -> None:
        """Store Playwright's `storage_state` (cookies + localStorage), encrypted, until `expires_at`."""
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        if not isinstance(storage_state, dict):
            raise TypeError("storage_state must be a dict")

        def change(records: Records, ring: KeyRing, now: datetime) -> None:
            blob = self._blob(records, account_id)
            if blob.status == AccountStatus.FROZEN.value:  # frozen in the meantime: keep it sessionless
                raise AccountFrozen(f"portal account {blob.carrier}/{blob.label} is frozen ({blob.frozen_reason})")
            secrets = {**unseal(account_id, blob, ring), "session": storage_state}
            metadata = {**blob.metadata(), "session_saved_at": _iso(now), "session_expires_at": _iso(expires_at)}
            try:
                records[account_id] = seal(account_id, metadata, secrets, ring)
            except (TypeError, ValueError):
                raise VaultError("session state is not plain JSON; nothing was saved") from None

        self._mutate(change)

    def load_session(self, account_id: str) -> dict[str, Any] | None:
        """The saved storage_state, or None when there is none or it has expired."""
        with self._lock:
            doc, ring = self._current()
            blob = self._blob(doc.records, account_id)
            expires = _when(blob.session_expires_at)
            if expires is None or expires <= self._clock():
                return None
            session: dict[str, Any] | None = unseal(account_id, blob, ring).get("session")
            return session

    def clear_session(self, account_id: str) -> None:
        def change(records: Records, ring: KeyRing, now: datetime) -> None:
            blob = self._blob(records, account_id)
            secrets = {**unseal(account_id, blob, ring), "session": None}
            metadata = {**blob.metadata(), "session_saved_at": None, "session_expires_at": None}
            records[account_id] = seal(account_id, metadata, secrets, ring)

        self._mutate(change)

    # --- remembered devices ------------------------------------------------------------------------

    def save_device(self, account_id: str, cookies: list[dict[str, Any]], expires_at: datetime) -> None:
        """Store the portal's "remember this device" cookies (Playwright cookie dicts), encrypted, until
        `expires_at`, apart from the session. The stored copy is then read back and compared: a device
        that is assumed saved but is not would make every unattended run ask for a code."""
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        if not isinstance(cookies, list) or not all(isinstance(cookie, dict) for cookie in cookies):
            raise TypeError("cookies must be a list of cookie dicts")
        device = {"cookies": cookies, "expires_at": _iso(expires_at)}

        def change(records: Records, ring: KeyRing, now: datetime) -> None:
            blob = self._blob(records, account_id)
            secrets = {**unseal(account_id, blob, ring), "device": device}
            try:
                records[account_id] = seal(account_id, blob.metadata(), secrets, ring)
            except (TypeError, ValueError):
                raise VaultError("the remembered device is not plain JSON; nothing was saved") from None

        self._mutate(change)
        if self._stored_secrets(account_id).get("device") != device:
            self._cache = None  # what this object remembers is not what is stored
            raise VaultError("the remembered device could not be verified after saving")

    def _stored_secrets(self, account_id: str) -> dict[str, Any]:
        """The account's secrets as stored now, read and verified anew under the writers' lock: never the
        copy this object remembers, which is exactly what a write that did not stick leaves behind."""
        with self._writing() as raw:
            doc, ring = self._verify(raw)
            blob = doc.records.get(account_id)
            return {} if blob is None else unseal(account_id, blob, ring)

    def load_device(self, account_id: str) -> list[dict[str, Any]] | None:
        """The remembered device's cookies, or None when there are none or they have expired."""
        with self._lock:
            doc, ring = self._current()
            blob = self._blob(doc.records, account_id)
            device = unseal(account_id, blob, ring).get("device")
            if not device or datetime.fromisoformat(device["expires_at"]) <= self._clock():
                return None
            cookies: list[dict[str, Any]] = device["cookies"]
            return cookies

    def clear_device(self, account_id: str) -> None:
        def change(records: Records, ring: KeyRing, now: datetime) -> None:
            blob = self._blob(records, account_id)
            secrets = {**unseal(account_id, blob, ring), "device": None}
            records[account_id] = seal(account_id, blob.metadata(), secrets, ring)

        self._mutate(change)

    # --- password changes --------------------------------------------------------------------------
    # The product changes a portal password in steps, each one atomic write, so that after a crash the
    # stage says which passwords the portal may hold: none under way or "pending" -> the current one
    # (the new one was never sent); "submitted" -> either; confirmed -> the new one, now the current.

    def _edit_secrets(self, account_id: str,
                      edit: Callable[[RecordBlob, dict[str, Any], datetime], None]) -> PortalAccount:
        def change(records: Records, ring: KeyRing, now: datetime) -> PortalAccount:
            blob = self._blob(records, account_id)
            secrets = unseal(account_id, blob, ring)
            edit(blob, secrets, now)
            records[account_id] = seal(account_id, {**blob.metadata(), "updated_at": _iso(now)}, secrets, ring)
            return self._account(account_id, records[account_id], ring)

        return self._mutate(change)

    @staticmethod
    def _change_under_way(blob: RecordBlob, secrets: dict[str, Any]) -> dict[str, Any]:
        change: dict[str, Any] | None = secrets.get("password_change")
        if not change:
            raise InvalidAccount(f"no password change is under way for {blob.carrier}/{blob.label}")
        return change

    def begin_password_change(self, account_id: str, new_password: str | SecretStr) -> PortalAccount:
        """Store `new_password` as pending (stage "pending"), before it goes anywhere near the portal.
        The current password stays the one used to sign in."""
        password = _validated(AccountSecrets, {"password": new_password}).password.get_secret_value()

        def edit(blob: RecordBlob, secrets: dict[str, Any], now: datetime) -> None:
            if secrets.get("password_change"):
                raise InvalidAccount(f"a password change is already under way for {blob.carrier}/{blob.label}: "
                                     "confirm or abandon it first")
            if password == secrets["password"]:
                raise InvalidAccount("the new password is the current one")
            secrets["password_change"] = {"password": password, "stage": "pending", "started_at": _iso(now)}

        return self._edit_secrets(account_id, edit)

    def mark_password_submitted(self, account_id: str) -> PortalAccount:
        """Just before the portal's button is pressed: from now on the portal may hold either password."""
        def edit(blob: RecordBlob, secrets: dict[str, Any], now: datetime) -> None:
            change = self._change_under_way(blob, secrets)
            if change["stage"] != "pending":
                raise InvalidAccount(f"the new password of {blob.carrier}/{blob.label} was already submitted")
            change["stage"] = "submitted"

        return self._edit_secrets(account_id, edit)

    def confirm_password_change(self, account_id: str) -> PortalAccount:
        """The portal accepted the new password: it becomes the current one. A freeze for an expired password
        ends with it (that was what the person had to fix); any other freeze is left as it is."""
        def change(records: Records, ring: KeyRing, now: datetime) -> PortalAccount:
            blob = self._blob(records, account_id)
            secrets = unseal(account_id, blob, ring)
            under_way = self._change_under_way(blob, secrets)
            secrets.update(password=under_way["password"], password_change=None, password_changed_at=_iso(now))
            metadata = {**blob.metadata(), "updated_at": _iso(now)}
            if blob.status == AccountStatus.FROZEN.value and secrets.get("frozen_code") == PASSWORD_EXPIRED:
                metadata.update(status=AccountStatus.ACTIVE.value, frozen_reason=None, frozen_at=None)
                secrets["frozen_code"] = None
            records[account_id] = seal(account_id, metadata, secrets, ring)
            return self._account(account_id, records[account_id], ring)

        return self._mutate(change)

    def abandon_password_change(self, account_id: str) -> PortalAccount:
        """Forget the new password and keep the current one (nothing under way: nothing to do)."""
        def edit(blob: RecordBlob, secrets: dict[str, Any], now: datetime) -> None:
            secrets["password_change"] = None

        return self._edit_secrets(account_id, edit)

    # --- key rotation ------------------------------------------------------------------------------

    def rotate_key(self, new_key: MasterKey, *, after_write: Callable[[], None] | None = None) -> None:
        """Re-wrap every record's data key (and the key check and MAC) under `new_key`, in one atomic
        write. Afterwards the old key opens nothing. `after_write` runs while the file lock is still
        held (used to move a new key file into place before anyone else can look)."""
        with self._writing() as raw:
            doc, old_ring = self._verify(raw)
            kdf = new_key.new_kdf()
            new_ring = new_key.keyring(kdf)
            records = {i: rewrap(i, blob, old_ring, new_ring) for i, blob in doc.records.items()}
            self._write(doc.model_copy(update={"kdf": KdfParams.model_validate(kdf) if kdf else None,
                                               "key_check": b64(new_ring.check), "records": records,
                                               "rotated_at": _iso(self._clock())}), new_ring)
            self._key = new_key
            if after_write is not None:
                after_write()

    def rotate_to_key_file(self, key_file: Path) -> MasterKey:
        """Rotate to a freshly generated key stored in `key_file` (replacing the old one).

        Two files cannot be replaced in one step, so: the new key goes to `<key_file>.new` first, then
        the vault is re-keyed, then the key file is replaced. If we die in between, `Vault.open` finds
        the old key rejected and `<key_file>.new` accepted, and finishes the move (`_finish_interrupted_rotation`).
        """
        new_key = MasterKey.generate()
        pending = pending_key_file(key_file)
        new_key.write_key_file(pending, overwrite=True)

        def install() -> None:
            os.replace(pending, key_file)
            fsync_dir(key_file.parent)

        try:
            self.rotate_key(new_key, after_write=install)
        except BaseException:
            if self._key is not new_key:  # the vault still uses the old key: the new one is useless
                pending.unlink(missing_ok=True)
            raise
        new_key.key_file, new_key.source = key_file, f"key file {key_file}"
        return new_key

    def _finish_interrupted_rotation(self) -> bool:
        """Our key file was rejected; if a newer pending key file opens the vault, install it."""
        key_file = self._key.key_file
        if key_file is None:
            return False
        pending = pending_key_file(key_file)
        with self._lock, file_lock(self.path):
            if not pending.exists():
                return False
            raw, sig = read_file(self.path)
            adopted = self._adopt_pending_key(raw, key_file)
            if adopted is None:
                return False
            self._cache = (sig, *adopted)
            return True

    def _adopt_pending_key(self, raw: bytes, key_file: Path) -> tuple[VaultDoc, KeyRing] | None:
        """Under the writers' lock: when `<key_file>.new` opens `raw`, make it this vault's key and the key
        file; None (and nothing changed) when it does not."""
        pending = pending_key_file(key_file)
        candidate = MasterKey.from_key_file(pending)
        previous = self._key
        self._key = candidate
        try:
            doc, ring = self._verify(raw)
        except WrongMasterKey:
            self._key = previous
            return None
        os.replace(pending, key_file)
        fsync_dir(key_file.parent)
        candidate.key_file, candidate.source = key_file, f"key file {key_file}"
        return doc, ring


def _validated_label(label: str) -> str:
    try:
        return check_label(label)
    except ValueError as error:
        raise InvalidAccount(f"invalid label: {error}") from None

