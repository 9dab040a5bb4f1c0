"""A throw-away PostgreSQL database per test (the queue is PostgreSQL only), on the server at
AGGREGATOR_TEST_POSTGRES_URL (default the local one, which `.ci/run` starts). Skipped, saying why, only
when no server answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import throwaway_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with throwaway_database("aggregator_queue") as url:
        yield url
