from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from aggregator.store import Repository


def test_migrations_create_exactly_the_model_schema(tmp_path):
    repo = Repository.open(f"sqlite:///{tmp_path / 'a.db'}")
    with repo.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


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
