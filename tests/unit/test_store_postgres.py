"""The same schema and evidence chain on PostgreSQL (the scale-out store).

Uses the server at AGGREGATOR_TEST_POSTGRES_URL (default: the local one on 127.0.0.1:5432, which
`.ci/run` starts when it is not running) and a throwaway database per test run. Skipped, saying why,
only when no server answers.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from aggregator.browser import CapturedPage
from aggregator.evidence import EvidenceRecorder, SnapshotFiles, verify_chain
from aggregator.store import Repository
from tests.postgres import throwaway_database


@pytest.fixture(scope="module")
def postgres_url():
    with throwaway_database() as url:
        yield url


def test_migrations_match_models_on_postgres(postgres_url):
    repository = Repository.open(postgres_url)
    Repository.open(postgres_url)  # idempotent
    with repository.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
    repository.engine.dispose()


def test_a_database_shared_with_the_queue_and_the_vault_still_matches_for_autogenerate(postgres_url):
    """The scale-out layout keeps procrastinate's and the vault's tables in the product's database; Alembic's
    autogenerate (migrations/env.py, `include_object`) must neither drop them nor miss a real difference."""
    from aggregator.dispatch.app import ensure_queue_schema
    from aggregator.settings import Settings
    from aggregator.store.database import include_object
    from vault import MasterKey
    from vault.database import DatabaseVault

    repository = Repository.open(postgres_url)
    assert ensure_queue_schema(Settings(database_url=postgres_url))
    DatabaseVault.create_url(postgres_url, MasterKey.generate()).close()
    with repository.engine.connect() as connection:
        plain = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        filtered = compare_metadata(MigrationContext.configure(connection, opts={"include_object": include_object}),
                                    SQLModel.metadata)
    assert {diff[1].name for diff in plain if diff[0] == "remove_table"} >= {"procrastinate_jobs", "vault_document"}
    assert filtered == []
    repository.engine.dispose()


def test_concurrent_evidence_appends_keep_one_chain(postgres_url, tmp_path):
    repository = Repository.open(postgres_url)
    recorder = EvidenceRecorder(SnapshotFiles(tmp_path), repository)

    def capture(n: int) -> str:
        page = CapturedPage(url=f"http://127.0.0.1/{n}", html=f"<p>{n}</p>", screenshot_png=bytes([n % 256]) * 8,
                            carrier="ridgeline", account_label="frontdesk", flow="eligibility", label="result")
        return recorder.record(page, None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(capture, range(40)))
    assert len(set(ids)) == 40
    assert verify_chain(repository, recorder.files) == (40, [])
    repository.engine.dispose()
