"""A throw-away PostgreSQL database for the tests that need a real server (the scale-out store, the queue,
the shared vault, the evidence chain beside S3).

The server is AGGREGATOR_TEST_POSTGRES_URL (default the local one on 127.0.0.1:5432, which `.ci/run` starts
when it is not running). Each use gets its own database, dropped afterwards (also when other sessions are
still connected). Skipped, saying why, only when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

SERVER = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throwaway_database(prefix: str = "aggregator_test") -> Iterator[str]:
    """A new empty database's SQLAlchemy URL (`postgresql+psycopg://...`) for the `with` block."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure means "no server here"
        admin.dispose()
        pytest.skip(f"no PostgreSQL server at {SERVER.split('@')[-1]} ({type(error).__name__})")
    try:
        yield SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
