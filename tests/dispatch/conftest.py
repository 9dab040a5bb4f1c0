"""A throw-away PostgreSQL database per test (the queue is PostgreSQL only), on the server at
AGGREGATOR_TEST_POSTGRES_URL (default the local one, which `.ci/run` starts). Skipped, saying why, only
when no server answers.

Every test here enqueues its day by hand (DAY, 2026-12-01). A worker's own `schedule:tick` would start that
day's nightly run or retry pass too whenever the suite runs inside one of their windows on that date (the
in-process workers and the `aggregator worker` processes, which inherit the environment, alike): the
scheduled runs are off here unless a test turns them on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import throwaway_database


@pytest.fixture(autouse=True)
def no_scheduled_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_QUEUE_SCHEDULED_RUNS", "false")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with throwaway_database("aggregator_queue") as url:
        yield url
