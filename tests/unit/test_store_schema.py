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
