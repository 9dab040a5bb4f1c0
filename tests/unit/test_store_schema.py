import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from aggregator.store import Repository
from aggregator.store.database import make_engine, migrate


def _replayed(path):  # type: ignore[no-untyped-def]
    """A database built by every migration in turn (a new database is otherwise created at once)."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine, replay=True)
    return engine


def test_migrations_create_exactly_the_model_schema(tmp_path):
    engine = _replayed(tmp_path / "a.db")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def _sqlite_schema(engine) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every table as SQLite itself describes it: columns (type, NOT NULL, default, key), indexes (columns,
    unique, partial), foreign keys (columns, target, actions), CHECK constraints, and the revision stamped."""
    schema: dict[str, dict[str, object]] = {}
    with engine.connect() as connection:
        sql = dict(connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
        for table in sql:
            indexes = {}
            for row in connection.execute(text(f"PRAGMA index_list('{table}')")).mappings():
                columns = [c["name"] for c in connection.execute(text(f"PRAGMA index_info('{row['name']}')")).mappings()]
                # Named by what they index: SQLite names the indexes of UNIQUE constraints by their position.
                indexes[(tuple(columns), row["origin"] == "pk")] = (row["unique"], row["partial"])
            schema[table] = {
                "columns": {c["name"]: (c["type"].upper(), c["notnull"], c["dflt_value"], c["pk"])
                            for c in connection.execute(text(f"PRAGMA table_info('{table}')")).mappings()},
                "indexes": indexes,
                "foreign_keys": sorted((f["from"], f["table"], f["to"], f["on_update"], f["on_delete"])
                                       for f in connection.execute(text(f"PRAGMA foreign_key_list('{table}')")).mappings()),
                "checks": sorted(" ".join(c.split()) for c in re.findall(r"CHECK \((.*?)\)(?:,|\s*\)$)", sql[table] or "", re.S)),
            }
        schema["alembic_version"]["rows"] = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return schema


def test_a_new_database_created_at_once_has_the_replayed_migrations_schema(tmp_path):
    """A new database gets the models' tables at once, stamped with the latest revision: the very schema
    (as SQLite reads it back) that replaying every migration builds, so later migrations apply alike."""
    created = Repository.open(f"sqlite:///{tmp_path / 'new.db'}").engine
    assert _sqlite_schema(created) == _sqlite_schema(_replayed(tmp_path / "replayed.db"))
    with created.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_migrate_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    Repository.open(url)
    Repository.open(url)


def test_upgrade_keeps_existing_rows(tmp_path):
    """A database made by an earlier release, with lookups, records and evidence, upgrades in place."""
    from datetime import date

    from sqlalchemy import text

    from aggregator.store.database import make_engine, migrate

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO lookups (id, flow, carrier, member_id, date_of_birth, service_date, source, requested_at)"
            " VALUES ('l1', 'eligibility', 'ridgeline', 'RM1', '1990-01-01', '2026-11-27', 'cli', '2026-11-27 10:00:00')"))
        connection.execute(text(
            "INSERT INTO records (id, lookup_id, kind, carrier, member_id, service_date, fetched_at, payload)"
            " VALUES ('r1', 'l1', 'eligibility', 'ridgeline', 'RM1', '2026-11-27', '2026-11-27 10:00:01', '{}')"))
    engine.dispose()
    repository = Repository.open(url)
    lookup = repository.get_lookup("l1")
    assert lookup is not None and lookup.member_id == "RM1" and lookup.service_date == date(2026, 11, 27)
    with repository.engine.connect() as connection:
        assert connection.execute(text("SELECT subject FROM records WHERE id = 'r1'")).scalar_one() == ""
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
