"""The master key: where it comes from, and the keys derived from it for one vault header.

Resolution order (first found wins): `AGGREGATOR_VAULT_KEY` (base64 of 32 bytes), then
`AGGREGATOR_VAULT_PASSPHRASE` (stretched with scrypt; salt and cost live in the vault header), then a
key file (`AGGREGATOR_VAULT_KEY_FILE`, default `<data_dir>/vault.key`) that only its owner may read.
The master key never touches records directly: HKDF derives separate keys for wrapping data keys,
for the whole-file MAC and for the key-check value.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from aggregator.settings import Settings, get_settings
from vault.errors import MasterKeyError, WrongMasterKey
from vault.fileio import write_atomic

ENV_KEY = "AGGREGATOR_VAULT_KEY"
ENV_PASSPHRASE = "AGGREGATOR_VAULT_PASSPHRASE"
ENV_KEY_FILE = "AGGREGATOR_VAULT_KEY_FILE"
KEY_BYTES = 32
MIN_PASSPHRASE_CHARS = 12

# scrypt cost for new vaults: ~32 MiB and well under a second, once per process (the result is cached).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
# Header values are attacker-controlled until the key check passes: cap them so a tampered header
# cannot make us allocate gigabytes or spin for minutes.
_MAX_SCRYPT_N, _MAX_SCRYPT_R, _MAX_SCRYPT_P = 2**20, 32, 16


@dataclass(frozen=True)
class KeyRing:
    """Keys derived from one master key; what the vault actually uses."""

    wrap: AESGCM  # wraps each record's data key
    mac_key: bytes  # HMAC over the whole file: detects removed or rolled-back records
    check: bytes  # stored in the header so a wrong key is reported as such, not as 80 bad records

    @classmethod
    def from_master(cls, master: bytes) -> KeyRing:
        def derive(label: bytes, length: int = 32) -> bytes:
            return HKDF(hashes.SHA256(), length, salt=None, info=b"aggregator-vault/v1/" + label).derive(master)

        return cls(wrap=AESGCM(derive(b"wrap")), mac_key=derive(b"mac"), check=derive(b"key-check", 16))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Strict base64 (raises binascii.Error / ValueError on anything else)."""
    return base64.b64decode(text.encode("ascii"), validate=True)


def _decode_key(text: str) -> bytes | None:
    text = text.strip()
    for decode in (lambda t: base64.b64decode(t, validate=True), base64.urlsafe_b64decode):
        try:
            raw = decode(text.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
        if len(raw) == KEY_BYTES:
            return raw
    return None


class MasterKey:
    """A master key or a passphrase, plus where it came from (for messages; never the value)."""

    __slots__ = ("_passphrase", "_raw", "_rings", "_scrypt_n", "key_file", "source")

    def __init__(self, *, raw: bytes | None = None, passphrase: str | None = None, source: str,
                 key_file: Path | None = None, scrypt_n: int = SCRYPT_N) -> None:
        if (raw is None) == (passphrase is None):
            raise ValueError("give exactly one of raw or passphrase")
        if raw is not None and len(raw) != KEY_BYTES:
            raise MasterKeyError(f"master key from {source} must be {KEY_BYTES} bytes")
        self._raw = raw
        self._passphrase = passphrase
        self._scrypt_n = scrypt_n
        self._rings: dict[tuple[Any, ...], KeyRing] = {}
        self.source = source
        self.key_file = key_file

    def __repr__(self) -> str:
        return f"MasterKey(source={self.source!r})"

    # --- constructors ------------------------------------------------------------------------------

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(raw=secrets.token_bytes(KEY_BYTES), source="generated")

    @classmethod
    def from_base64(cls, text: str, *, source: str = "given key") -> MasterKey:
        raw = _decode_key(text)
        if raw is None:
            raise MasterKeyError(f"{source} is not base64 of {KEY_BYTES} bytes")
        return cls(raw=raw, source=source)

    @classmethod
    def from_passphrase(cls, passphrase: str, *, scrypt_n: int = SCRYPT_N) -> MasterKey:
        """`scrypt_n` only matters when this key creates or re-keys a vault; opening uses the header's."""
        if len(passphrase) < MIN_PASSPHRASE_CHARS:
            raise MasterKeyError(f"vault passphrase must be at least {MIN_PASSPHRASE_CHARS} characters")
        return cls(passphrase=passphrase, source="passphrase", scrypt_n=scrypt_n)

    @classmethod
    def from_key_file(cls, path: Path) -> MasterKey:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise MasterKeyError(f"key file {path} does not exist") from None
        with os.fdopen(fd, "rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            # Like ssh with private keys: a key others can read is a leaked key; refuse before using it.
            if mode & 0o077:
                raise MasterKeyError(
                    f"key file {path} has mode {mode:04o}; it must be readable by its owner only: chmod 600 {path}")
            content = handle.read(1024)
        try:
            raw = _decode_key(content.decode("ascii"))
        except UnicodeDecodeError:
            raw = None
        if raw is None:
            raise MasterKeyError(f"key file {path} does not hold a base64 {KEY_BYTES}-byte key")
        return cls(raw=raw, source=f"key file {path}", key_file=path)

    @staticmethod
    def default_key_file(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> Path:
        environ = os.environ if environ is None else environ
        if environ.get(ENV_KEY_FILE):
            return Path(environ[ENV_KEY_FILE]).expanduser().resolve()
        return (settings or get_settings()).resolved_data_dir / "vault.key"

    @classmethod
    def resolve(cls, settings: Settings | None = None, *, environ: Mapping[str, str] | None = None) -> MasterKey:
        """Env key, else env passphrase, else the key file; a clear MasterKeyError when none exists."""
        environ = os.environ if environ is None else environ
        if environ.get(ENV_KEY):
            return cls.from_base64(environ[ENV_KEY], source=ENV_KEY)
        if environ.get(ENV_PASSPHRASE):
            return cls.from_passphrase(environ[ENV_PASSPHRASE])
        path = cls.default_key_file(settings, environ)
        if not path.exists():
            raise MasterKeyError(
                f"no vault master key: set {ENV_KEY} or {ENV_PASSPHRASE}, or run `aggregator vault init` to create {path}")
        return cls.from_key_file(path)

    # --- use -------------------------------------------------------------------------------------------

    @property
    def is_passphrase(self) -> bool:
        return self._passphrase is not None

    def new_kdf(self) -> dict[str, Any] | None:
        """Header KDF parameters for a vault this key is about to (re-)protect: a fresh salt each time."""
        if self._passphrase is None:
            return None
        return {"name": "scrypt", "salt": b64(secrets.token_bytes(16)), "n": self._scrypt_n,
                "r": SCRYPT_R, "p": SCRYPT_P}

    def keyring(self, kdf: Mapping[str, Any] | None) -> KeyRing:
        """Keys for a vault whose header has these KDF params (None: the key is used as is)."""
        if (kdf is None) != (self._passphrase is None):
            wanted = f"a passphrase ({ENV_PASSPHRASE})" if kdf is not None else f"a key ({ENV_KEY} or a key file)"
            raise WrongMasterKey(f"wrong master key: this vault is protected by {wanted}, but the key came from {self.source}")
        cache_key = tuple(sorted(kdf.items())) if kdf else ()
        ring = self._rings.get(cache_key)
        if ring is None:
            ring = KeyRing.from_master(self._raw if kdf is None else self._stretch(kdf))  # type: ignore[arg-type]
            self._rings[cache_key] = ring
        return ring

    def _stretch(self, kdf: Mapping[str, Any]) -> bytes:
        n, r, p = kdf["n"], kdf["r"], kdf["p"]
        if kdf.get("name") != "scrypt" or not (1 < n <= _MAX_SCRYPT_N and n & (n - 1) == 0
                                               and 0 < r <= _MAX_SCRYPT_R and 0 < p <= _MAX_SCRYPT_P):
            raise WrongMasterKey("vault header has unsupported key-derivation parameters")
        salt = unb64(kdf["salt"])
        assert self._passphrase is not None
        return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(self._passphrase.encode("utf-8"))

    def write_key_file(self, path: Path, *, overwrite: bool = False) -> None:
        """Store this (raw) key as base64 in an owner-only file, atomically."""
        if self._raw is None:
            raise MasterKeyError("a passphrase cannot be written to a key file")
        try:
            write_atomic(path, (b64(self._raw) + "\n").encode("ascii"), overwrite=overwrite)
        except FileExistsError:
            raise MasterKeyError(f"key file {path} already exists; refusing to overwrite it") from None
        self.key_file, self.source = path, f"key file {path}"


def pending_key_file(key_file: Path) -> Path:
    """Where `rotate-key` parks the new key until the re-keyed vault is safely on disk."""
    return key_file.with_name(key_file.name + ".new")
