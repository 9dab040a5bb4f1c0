"""The same schema and evidence chain on PostgreSQL (the scale-out store).

Uses the server at AGGREGATOR_TEST_POSTGRES_URL (default: the local one on 127.0.0.1:5432, which
`.ci/run` starts when it is not running) and a throwaway database per test run. Skipped, saying why,
only when no server answers.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from aggregator.browser import CapturedPage
from aggregator.evidence import EvidenceRecorder, SnapshotFiles, verify_chain
from aggregator.store import Repository

SERVER = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="module")
def postgres_url():
    name = f"aggregator_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure means "no server here"
        pytest.skip(f"no PostgreSQL server at {SERVER.split('@')[-1]} ({type(error).__name__})")
    yield SERVER.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_match_models_on_postgres(postgres_url):
    repository = Repository.open(postgres_url)
    Repository.open(postgres_url)  # idempotent
    with repository.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
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
