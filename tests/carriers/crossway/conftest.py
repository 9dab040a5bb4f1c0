"""Crossway's own tests: the hub and Crossway ID on loopback (one pair for the module's tests: starting them is
the slow part), a vault holding the hub's accounts (each with the Tax ID and NPI it acts for), and runners on
the tests' shared TOTP clock, Chromium from the session's `browser_pool`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from aggregator.runner import Runner
from aggregator.settings import Settings
from aggregator.store import Repository
from sandbox.accounts import vault_inputs
from sandbox.crossway import CrosswayHandle, start_crossway
from sandbox.dataset import Dataset, generate_dataset
from tests.e2e.fixtures import QUIET_TIME
from tests.e2e.totp_clock import TotpClock
from vault import MasterKey, Vault

PORTAL = "crossway"


@pytest.fixture(scope="module")
def hub_dataset() -> Dataset:
    return generate_dataset()


@pytest.fixture(scope="module")
def crossway(hub_dataset: Dataset) -> Iterator[CrosswayHandle]:
    with start_crossway(hub_dataset) as handle:
        yield handle


@pytest.fixture
def hub(crossway: CrosswayHandle) -> Iterator[CrosswayHandle]:
    """The hub, Crossway ID, their settings and day back to the start around the test."""
    crossway.world.reset()
    yield crossway
    crossway.world.reset()


@pytest.fixture
def hub_clock(hub: CrosswayHandle) -> TotpClock:
    return TotpClock([hub])  # type: ignore[list-item]  # a hub moves its TOTP clock like a portal


@pytest.fixture
def hub_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def hub_vault(hub_settings: Settings, hub: CrosswayHandle) -> Vault:
    hub_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    key = MasterKey.generate()
    key.write_key_file(hub_settings.resolved_data_dir / "vault.key")
    vault = Vault.create(hub_settings.resolved_vault_path, key)
    vault.upsert_accounts(vault_inputs(hub.dataset, [PORTAL]))
    return vault


@pytest.fixture
def hub_runner(hub_settings: Settings, hub_vault: Vault, browser_pool: Any, hub: CrosswayHandle, hub_clock: TotpClock):
    """`async with hub_runner() as runner:` a runner whose `crossway` portal is the hub on loopback."""

    @asynccontextmanager
    async def factory(**kwargs: Any) -> AsyncIterator[Runner]:
        runner = Runner(settings=hub_settings, repository=Repository.open(hub_settings.resolved_database_url),
                        vault=Vault.open(hub_settings.resolved_vault_path, MasterKey.resolve(hub_settings)),
                        pool=browser_pool, base_urls={PORTAL: hub.hub_url}, clock=lambda: QUIET_TIME,
                        **kwargs)
        runner.totp = hub_clock.codes()
        try:
            yield runner
        finally:
            await runner.close()

    return factory
