"""The vault in PostgreSQL, shared by every worker machine (`AGGREGATOR_VAULT_URL`, docs/vault.md).

It keeps exactly the document a vault file holds (same envelope encryption, key check and MAC, so the
same master key opens it and the database sees only ciphertext) in one row of `vault_document`, with a
version that goes up on every write. Only the storage steps differ from the file (`vault.store.Vault`):

- reading asks the row's version every time and re-reads and re-verifies the document when it changed,
  so a write by any machine is seen on the next `get` (no stale cache);
- writing takes the writers' lock (a session-level advisory lock, held like the file lock until the
  block ends) and the row (`SELECT ... FOR UPDATE` in a transaction), re-reads and verifies, applies one
  change and commits; an error before the commit leaves the row as it was. The advisory lock outlives the
  commit on purpose: a key rotation moves the new key file into place after the commit and before
  another process on this machine may try to finish "an interrupted rotation" with it;
- the TOTP codes already used live in `vault_totp_step` (one row per account: the last time-step used,
  claimed by an atomic compare-and-set), so two machines never submit the same code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from vault.errors import VaultError, VaultMissing
from vault.format import VaultDoc, compute_mac, dump
from vault.keys import KeyRing, MasterKey, pending_key_file
from vault.store import Vault
from vault.totp import UsedTotpSteps

DOCUMENT_TABLE = "vault_document"
TOTP_TABLE = "vault_totp_step"
# pg_advisory_lock takes a bigint; this one means "the vault's writers" in any database.
_WRITERS_LOCK = int.from_bytes(b"aggvault", "big") & 0x7FFF_FFFF_FFFF_FFFF

_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {DOCUMENT_TABLE} (
        id smallint PRIMARY KEY CHECK (id = 1),  -- one vault per database
        version bigint NOT NULL,
        document bytea NOT NULL,                  -- the vault file's bytes: ciphertext and clear metadata
        updated_at timestamptz NOT NULL DEFAULT now())""",
    f"""CREATE TABLE IF NOT EXISTS {TOTP_TABLE} (
        account_id text PRIMARY KEY,
        last_step bigint NOT NULL,                -- unix time // 30 of the last code used
        used_at timestamptz NOT NULL DEFAULT now())""",
)


def database_location(url: str) -> str:
    """`host:port/database` of a PostgreSQL URL: what messages show (never the user or the password)."""
    parsed = _parsed(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def _parsed(url: str) -> Any:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise VaultError("the vault URL is not a database URL: expected postgresql://user@host:port/database") from None
    if parsed.get_backend_name() != "postgresql":
        raise VaultError(f"the vault can live in PostgreSQL only, not in {parsed.get_backend_name()}: "
                         "set AGGREGATOR_VAULT_URL to a postgresql:// URL, or unset it to use the vault file")
    return parsed


def _libpq_url(url: str) -> str:
    # SQLAlchemy spellings (postgresql+psycopg://) are accepted so one URL style serves the whole product.
    rendered: str = _parsed(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return rendered


class VaultDatabase:
    """One connection (re-opened when it breaks) and the vault's SQL. Thread-safe: one statement or
    one writers' block at a time."""

    def __init__(self, url: str) -> None:
        self._url = _libpq_url(url)
        self.location = DatabaseVault.location_at(url)
        self._lock = threading.RLock()
        self._connection: psycopg.Connection[Any] | None = None
        self._in_transaction = False

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection, with database errors turned into VaultErrors that name no secret."""
        with self._lock:
            try:
                if self._connection is None or self._connection.closed or self._connection.broken:
                    self._connection = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
                yield self._connection
            except pg_errors.UndefinedTable:
                raise VaultMissing(f"no vault in {self.location}: create one with `aggregator vault init`") from None
            except psycopg.OperationalError as error:
                raise VaultError(f"cannot use the vault {self.location} ({type(error).__name__})") from None
            except psycopg.Error as error:
                raise VaultError(f"the vault {self.location} refused a statement ({type(error).__name__})") from None

    def read(self, known_version: int | None) -> tuple[int, bytes | None]:
        """(version, document); the document is None when its version is `known_version` (unchanged)."""
        with self._session() as connection:
            row = connection.execute(
                f"SELECT version, CASE WHEN version = %s THEN NULL ELSE document END FROM {DOCUMENT_TABLE} "
                "WHERE id = 1", (known_version,)).fetchone()
        if row is None:
            raise VaultMissing(f"no vault in {self.location}: create one with `aggregator vault init`")
        return row[0], None if row[1] is None else bytes(row[1])

    def exists(self) -> bool:
        try:
            self.read(None)
        except VaultMissing:
            return False
        return True

    @contextmanager
    def exclusive(self, *, creating: bool = False) -> Iterator[bytes | None]:
        """The writers' lock and the row, held until the block ends; yields the stored document (None
        when `creating`, after making the tables). `replace` or `insert` commit inside the block;
        anything else (an error) rolls back."""
        with self._session() as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (_WRITERS_LOCK,))
            try:
                if creating:
                    for statement in _SCHEMA:
                        connection.execute(statement)
                connection.execute("BEGIN")
                self._in_transaction = True
                row = None if creating else connection.execute(
                    f"SELECT document FROM {DOCUMENT_TABLE} WHERE id = 1 FOR UPDATE").fetchone()
                if row is None and not creating:
                    raise VaultMissing(f"no vault in {self.location}: create one with `aggregator vault init`")
                yield None if row is None else bytes(row[0])
            finally:
                if not connection.broken:
                    if self._in_transaction:
                        connection.execute("ROLLBACK")
                    connection.execute("SELECT pg_advisory_unlock(%s)", (_WRITERS_LOCK,))
                self._in_transaction = False

    def replace(self, document: bytes) -> int:
        """Inside `exclusive`: store the new document and commit. -> its version"""
        with self._session() as connection:
            row = connection.execute(
                f"UPDATE {DOCUMENT_TABLE} SET document = %s, version = version + 1, updated_at = now() "
                "WHERE id = 1 RETURNING version", (document,)).fetchone()
            return self._commit(connection, row)

    def insert(self, document: bytes) -> int:
        """Inside `exclusive(creating=True)`: store the first document and commit; refuses to overwrite."""
        with self._session() as connection:
            row = connection.execute(
                f"INSERT INTO {DOCUMENT_TABLE} (id, version, document) VALUES (1, 1, %s) "
                "ON CONFLICT (id) DO NOTHING RETURNING version", (document,)).fetchone()
            if row is None:
                raise VaultError(f"a vault already exists in {self.location}; refusing to overwrite it")
            return self._commit(connection, row)

    def _commit(self, connection: psycopg.Connection[Any], row: tuple[Any, ...] | None) -> int:
        if not self._in_transaction or row is None:
            raise VaultError(f"the vault {self.location} changed outside its writers' lock")
        connection.execute("COMMIT")
        self._in_transaction = False
        version: int = row[0]
        return version

    def claim_totp_step(self, account_id: str, step: int) -> bool:
        """Atomically record `step` as the account's last TOTP step when it is later than the stored
        one. PostgreSQL re-checks the WHERE on the latest row under its lock, so of two machines
        claiming one step exactly one wins."""
        with self._session() as connection:
            row = connection.execute(
                f"INSERT INTO {TOTP_TABLE} (account_id, last_step) VALUES (%s, %s) "
                "ON CONFLICT (account_id) DO UPDATE SET last_step = EXCLUDED.last_step, used_at = now() "
                f"WHERE {TOTP_TABLE}.last_step < EXCLUDED.last_step RETURNING last_step",
                (account_id, step)).fetchone()
        return row is not None


class SharedTotpSteps(UsedTotpSteps):
    """The TOTP steps used, in the vault's database: every worker sees every other worker's codes."""

    def __init__(self, database: VaultDatabase) -> None:
        self._database = database

    async def claim(self, account_id: str, step: int) -> bool:
        return await asyncio.to_thread(self._database.claim_totp_step, account_id, step)


class DatabaseVault(Vault):
    """Open with `DatabaseVault.open_url(url, key)`, make one with `DatabaseVault.create_url(url, key)`.
    Everything else is `Vault`'s; see the module docstring for what changes underneath."""

    def __init__(self, url: str, key: MasterKey, *, clock: Callable[[], datetime] | None = None) -> None:
        self._database = VaultDatabase(url)
        self._key = key
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._cached: tuple[int, VaultDoc, KeyRing] | None = None  # (row version, verified document, keys)

    def __repr__(self) -> str:
        return f"DatabaseVault({self.location!r}, key={self._key!r})"

    @property
    def location(self) -> str:
        return self._database.location

    @classmethod
    def create_url(cls, url: str, key: MasterKey, *, clock: Callable[[], datetime] | None = None) -> DatabaseVault:
        """A new, empty vault (and its tables). Refuses if the database already holds one."""
        vault = cls(url, key, clock=clock)
        with vault._lock, vault._database.exclusive(creating=True):
            doc, ring = vault._empty_document()
            doc = doc.model_copy(update={"mac": compute_mac(doc, ring)})
            vault._cached = (vault._database.insert(dump(doc)), doc, ring)
        return vault

    @classmethod
    def copy_of_file(cls, url: str, path: Path, key: MasterKey, *,
                     clock: Callable[[], datetime] | None = None) -> DatabaseVault:
        """A new database vault holding exactly the vault file at `path` (its accounts, sessions and key),
        verified first; the file stays as it is. Refuses if the database already holds a vault."""
        source = Vault.open(path, key, clock=clock)
        with source._writing() as raw:  # the file lock: no change to the file while it is copied
            vault = cls(url, source.key, clock=clock)
            doc, ring = vault._verify(raw)
            with vault._lock, vault._database.exclusive(creating=True):
                vault._cached = (vault._database.insert(raw), doc, ring)
        return vault

    @classmethod
    def open_url(cls, url: str, key: MasterKey, *, clock: Callable[[], datetime] | None = None) -> DatabaseVault:
        """Open and verify (key check + whole-document MAC). VaultError when missing, corrupt or unreachable."""
        vault = cls(url, key, clock=clock)
        try:
            vault._check_opens()
        except BaseException:
            vault.close()
            raise
        return vault

    @staticmethod
    def location_at(url: str) -> str:
        return f"database {database_location(url)} (table {DOCUMENT_TABLE})"

    @staticmethod
    def exists_at(url: str) -> bool:
        database = VaultDatabase(url)
        try:
            return database.exists()
        finally:
            database.close()

    def close(self) -> None:
        self._database.close()

    def totp_memory(self) -> UsedTotpSteps:
        return SharedTotpSteps(self._database)

    # --- the storage steps (see vault.store.Vault) ----------------------------------------------------

    def _current(self) -> tuple[VaultDoc, KeyRing]:
        with self._lock:
            version, raw = self._database.read(self._cached[0] if self._cached else None)
            if raw is None and self._cached is not None:
                return self._cached[1], self._cached[2]
            doc, ring = self._verify(raw or b"")
            self._cached = (version, doc, ring)
            return doc, ring

    @contextmanager
    def _writing(self) -> Iterator[bytes]:
        with self._lock, self._database.exclusive() as raw:
            yield raw or b""

    def _write(self, doc: VaultDoc, ring: KeyRing, *, overwrite: bool = True) -> None:
        doc = doc.model_copy(update={"mac": compute_mac(doc, ring)})
        self._cached = (self._database.replace(dump(doc)), doc, ring)

    def _finish_interrupted_rotation(self) -> bool:
        key_file = self._key.key_file
        if key_file is None:
            return False
        with self._writing() as raw:
            if not pending_key_file(key_file).exists():
                return False
            adopted = self._adopt_pending_key(raw, Path(key_file))
            self._cached = None  # read again (with its version) on the next use
            return adopted is not None
