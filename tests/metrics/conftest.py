"""Fixtures of the metrics and health tests: the web tests' seeded data directory (users of every role
and their API tokens, a stored lookup with evidence, an appointment with a batch item, a vault with one
frozen account), made private as the commands make it, and an app on it with settings of the test's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aggregator.settings import Settings
from aggregator.web import create_app
from tests.web.conftest import Seed, no_runner, seed_data

LOCAL = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.9", 50000)  # TEST-NET-3: an address from elsewhere


@pytest.fixture
def seed(tmp_path, monkeypatch) -> Seed:
    for name in ("AGGREGATOR_VAULT_KEY", "AGGREGATOR_VAULT_PASSPHRASE", "AGGREGATOR_VAULT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)  # the vault key comes from the data directory's key file
    seeded = seed_data(Settings(data_dir=tmp_path / "data"))
    seeded.settings.resolved_data_dir.chmod(0o700)
    return seeded


MakeApp = Callable[..., FastAPI]


@pytest.fixture
def make_app(seed: Seed) -> MakeApp:
    """An app on the seeded data directory with these settings changed (metrics_access=..., ...)."""

    def make(**changes: object) -> FastAPI:
        settings = seed.settings.model_copy(update=changes)
        return create_app(settings, runner_provider=no_runner)

    return make


@contextmanager
def client_of(app: object, client: tuple[str, int] = LOCAL) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1", client=client) as test_client:  # type: ignore[arg-type]
        yield test_client
