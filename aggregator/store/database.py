"""Engine creation and schema migration. SQLite (a file in the data directory) by default,
PostgreSQL when `AGGREGATOR_DATABASE_URL` says so."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

# Alembic announces its plugins and migration context at INFO on every start; that is noise for users.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import event, inspect  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402
from sqlalchemy.pool import ConnectionPoolEntry  # noqa: E402
from sqlmodel import SQLModel, create_engine  # noqa: E402

import aggregator.store.tables  # noqa: E402, F401  (registers the tables on SQLModel.metadata)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _owner_only_sqlite_files(engine.url.database)
        _serialize_sqlite_writers(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _owner_only_sqlite_files(database: str | None) -> None:
    """The database file (and its WAL, shared-memory and journal files) readable by its owner only.

    SQLite creates a new file with the umask's mode (0644 usually) and gives its side files the main
    file's mode, so the main file is made 0600 before SQLite first opens it, and files an older
    version left 0644 are closed on the way. Nothing to do for an in-memory database.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite reports the missing folder itself, as before
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite takes an empty file as a new database
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)):
        try:
            if candidate.stat().st_mode & 0o077 and candidate.stat().st_uid == os.getuid():
                candidate.chmod(0o600)
        except FileNotFoundError:
            continue


def _serialize_sqlite_writers(engine: Engine) -> None:
    # pysqlite's default deferred transactions let two writers both read the evidence chain head and
    # then collide; BEGIN IMMEDIATE takes the write lock up front so chain appends are serialized.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine, revision: str = "head", *, replay: bool = False) -> None:
    """Bring the schema to `revision` (default the latest; idempotent). A new, empty SQLite database gets the
    latest schema at once (`_create_at_head`) unless `replay` asks for every migration in turn."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the original, which enforced foreign
            # keys forbid while other tables reference it. The pragma only works outside a transaction,
            # so it goes straight to the driver connection (in autocommit mode) before Alembic begins.
            _sqlite_driver(connection).execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                if sqlite and revision == "head" and not replay and _is_empty(connection):
                    _create_at_head(connection, config)
                else:
                    command.upgrade(config, revision)
        finally:
            if sqlite:
                _sqlite_driver(connection).execute("PRAGMA foreign_keys=ON")


def _is_empty(connection: Connection) -> bool:
    """No table at all: a database this product (or anything else) has never written to."""
    return not inspect(connection).get_table_names()


def _create_at_head(connection: Connection, config: Config) -> None:
    """A new SQLite database: the models' tables created at once and stamped with the latest revision, as
    Alembic's documentation suggests for a database built from scratch. Replaying every migration makes
    opening a new database cost two to three times the CPU (SQLite alters a table by copying it), paid by
    every new data directory: each test's, a practice's first run. Inside the migration's transaction (BEGIN
    IMMEDIATE), so a second process opening the same new file waits and then finds the tables.
    tests/unit/test_store_schema.py checks that both ways give the same schema."""
    SQLModel.metadata.create_all(connection)
    command.stamp(config, "head")


def _sqlite_driver(connection: Connection) -> sqlite3.Connection:
    """The pysqlite connection under an open SQLAlchemy connection to a SQLite database."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        raise TypeError(f"expected a sqlite3 connection, got {type(driver).__name__}")
    return driver


# Tables other software keeps in the product's database when it is shared (docs/scale-out.md): procrastinate's
# queue, the PostgreSQL vault's document and TOTP steps, APScheduler's job store. They are not ours to create
# or drop, so Alembic's autogenerate (migrations/env.py) must propose neither.
FOREIGN_TABLE_PREFIXES = ("procrastinate_", "vault_", "apscheduler_")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's filter: leave out a table found in the database, absent from our models, that another
    component owns."""
    return not (type_ == "table" and reflected and compare_to is None and (name or "").startswith(FOREIGN_TABLE_PREFIXES))
