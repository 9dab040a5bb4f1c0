"""The vault file: its JSON layout, its integrity checks, and the sealing of one record.

Layout (version 1)::

    {"format": "aggregator-vault", "version": 1,
     "kdf": null | {"name": "scrypt", "salt", "n", "r", "p"},     # passphrase mode only
     "key_check": b64,                                           # HKDF(master, "key-check")
     "created_at", "rotated_at",
     "records": {"<account_id>": {carrier, label, status, frozen_reason, frozen_at, created_at,
                                  updated_at, session_saved_at, session_expires_at,   # clear
                                  "wrapped_key": b64(nonce | AES-GCM(wrap key, data key)),
                                  "payload": b64(nonce | AES-GCM(data key, secrets JSON))}},
     "mac": b64(HMAC-SHA256(mac key, everything above))}

Each record has its own random data key. The data-key wrap is bound to the account id, and the payload
to the account id plus all of the record's clear metadata, so a record cannot be moved to another id
and its clear fields (e.g. status) cannot be edited. The file MAC catches what per-record checks
cannot: a record deleted, duplicated or rolled back to an older copy.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator

from aggregator.errors import VaultError
from aggregator.jsonlimits import TooDeeplyNested, loads_bounded
from vault.errors import VaultCorrupted
from vault.keys import KeyRing, b64, unb64

FORMAT: Final = "aggregator-vault"
VERSION: Final = 1
_WRAP_AAD = b"aggregator-vault/v1/data-key/"
_PAYLOAD_AAD = b"aggregator-vault/v1/record/"
_ACCOUNT_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_DEPTH = 16  # the vault nests four levels (file, records, record, kdf); deeper was not written by us


def _first_words(error: ValueError) -> str:
    """What json said, without echoing any of the file (it may hold anything)."""
    if isinstance(error, TooDeeplyNested):
        return f"its JSON is {error}"
    return "its JSON holds a value that cannot be read"


def _loc_part(part: int | str) -> str:
    """A path element of a validation error, fit for a one-line message: a key the file itself chose
    (a record id) may hold line breaks or control characters, so only short printable keys are shown."""
    text = str(part)
    return text if text.isprintable() and len(text) <= 64 else "<key>"


def _is_b64(value: str) -> str:
    try:
        unb64(value)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    return value


B64 = Annotated[str, AfterValidator(_is_b64)]


class KdfParams(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Literal["scrypt"]
    salt: B64
    n: int
    r: int
    p: int


class RecordBlob(BaseModel):
    """One account as stored. Timestamps stay ISO strings so the bytes we authenticate are the bytes we read."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    carrier: str
    label: str
    status: Literal["active", "frozen"]
    frozen_reason: str | None
    frozen_at: str | None
    created_at: str
    updated_at: str
    session_saved_at: str | None
    session_expires_at: str | None
    wrapped_key: B64
    payload: B64

    def metadata(self) -> dict[str, Any]:
        return self.model_dump(exclude={"wrapped_key", "payload"})


class VaultDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)

    format: Literal["aggregator-vault"]
    version: Literal[1]
    kdf: KdfParams | None
    key_check: B64
    created_at: str
    rotated_at: str | None
    records: dict[str, RecordBlob]
    mac: str

    @field_validator("records")
    @classmethod
    def _ids(cls, records: dict[str, RecordBlob]) -> dict[str, RecordBlob]:
        for account_id in records:
            if not _ACCOUNT_ID.match(account_id):
                raise ValueError("record ids must be 32 lowercase hex characters")
        return records

    def kdf_dict(self) -> dict[str, Any] | None:
        return self.kdf.model_dump() if self.kdf else None


def canonical(obj: Any) -> bytes:
    """One byte string per value, whatever the file's whitespace or key order."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


# --- the file -----------------------------------------------------------------------------------------

def parse(raw: bytes, path: Path | str) -> VaultDoc:
    """Bytes -> VaultDoc, or a VaultError that says what is wrong. Never a default, never a reset."""
    try:
        data = loads_bounded(raw.decode("utf-8"), max_depth=MAX_DEPTH)
    except UnicodeDecodeError:
        raise VaultCorrupted(f"vault file {path} is corrupted: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        hint = " (the file looks truncated)" if raw.strip() and not raw.rstrip().endswith(b"}") else ""
        raise VaultCorrupted(
            f"vault file {path} is corrupted: invalid JSON at byte {error.pos}{hint}; restore it from a backup") from None
    except ValueError as error:  # nested too deep, a number too long to read: not a file the vault wrote
        raise VaultCorrupted(f"vault file {path} is corrupted: {_first_words(error)}; restore it from a backup") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise VaultCorrupted(f"{path} is not an aggregator vault file")
    if data.get("version") != VERSION:
        raise VaultError(f"vault file {path} has format version {data.get('version')!r}; this build reads {VERSION}")
    try:
        return VaultDoc.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_input=False)[0]
        where = ".".join(_loc_part(part) for part in first["loc"])
        raise VaultCorrupted(f"vault file {path} is corrupted: {where}: {first['msg']}") from None


def dump(doc: VaultDoc) -> bytes:
    return (json.dumps(doc.model_dump(), indent=1) + "\n").encode()  # header first, for people


def compute_mac(doc: VaultDoc, ring: KeyRing) -> str:
    return b64(hmac.new(ring.mac_key, canonical(doc.model_dump(exclude={"mac"})), hashlib.sha256).digest())


def check_key(doc: VaultDoc, ring: KeyRing) -> bool:
    try:
        return hmac.compare_digest(unb64(doc.key_check), ring.check)
    except (binascii.Error, ValueError):
        return False


def check_mac(doc: VaultDoc, ring: KeyRing) -> bool:
    return hmac.compare_digest(doc.mac.encode(), compute_mac(doc, ring).encode())


# --- one record -------------------------------------------------------------------------------------

def _payload_aad(account_id: str, metadata: dict[str, Any]) -> bytes:
    return _PAYLOAD_AAD + canonical({"account_id": account_id, **metadata})


def seal(account_id: str, metadata: dict[str, Any], secrets: dict[str, Any], ring: KeyRing) -> RecordBlob:
    """Encrypt `secrets` under a fresh data key, wrapped by the ring; both bound to the id (and metadata)."""
    data_key = AESGCM.generate_key(bit_length=256)
    wrap_nonce, payload_nonce = os.urandom(12), os.urandom(12)
    wrapped = wrap_nonce + ring.wrap.encrypt(wrap_nonce, data_key, _WRAP_AAD + account_id.encode())
    body = payload_nonce + AESGCM(data_key).encrypt(payload_nonce, canonical(secrets),
                                                    _payload_aad(account_id, metadata))
    return RecordBlob(**metadata, wrapped_key=b64(wrapped), payload=b64(body))


def _tampered(account_id: str, blob: RecordBlob) -> VaultCorrupted:
    return VaultCorrupted(f"vault record {account_id} ({blob.carrier}/{blob.label}) failed its integrity check: "
                          "it was modified outside the vault (tampering or disk damage); restore from a backup")


def _unwrap(account_id: str, blob: RecordBlob, ring: KeyRing) -> bytes:
    wrapped = unb64(blob.wrapped_key)
    try:
        return ring.wrap.decrypt(wrapped[:12], wrapped[12:], _WRAP_AAD + account_id.encode())
    except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce, i.e. cut or edited
        raise _tampered(account_id, blob) from None


def unseal(account_id: str, blob: RecordBlob, ring: KeyRing) -> dict[str, Any]:
    data_key = _unwrap(account_id, blob, ring)
    body = unb64(blob.payload)
    try:
        plain = AESGCM(data_key).decrypt(body[:12], body[12:], _payload_aad(account_id, blob.metadata()))
    except (InvalidTag, ValueError):
        raise _tampered(account_id, blob) from None
    result: dict[str, Any] = json.loads(plain)
    return result


def rewrap(account_id: str, blob: RecordBlob, old: KeyRing, new: KeyRing) -> RecordBlob:
    """Key rotation: only the small wrapped data key changes; the payload is untouched."""
    data_key = _unwrap(account_id, blob, old)
    nonce = os.urandom(12)
    wrapped = nonce + new.wrap.encrypt(nonce, data_key, _WRAP_AAD + account_id.encode())
    return blob.model_copy(update={"wrapped_key": b64(wrapped)})


def diagnose(doc: VaultDoc, ring: KeyRing, path: Path | str) -> VaultCorrupted:
    """The file MAC failed: name the bad record if one is, else say records were added/removed/replaced."""
    for account_id, blob in doc.records.items():
        try:
            unseal(account_id, blob, ring)
        except VaultCorrupted as error:
            return error
    return VaultCorrupted(f"vault file {path} failed its integrity check: records were added, removed or "
                          "replaced outside the vault; restore it from a backup")
