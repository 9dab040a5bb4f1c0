"""Fixtures for the sandbox tests: one generated dataset, an in-process portal with a settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.accounts import ProviderAccount
from sandbox.dataset import Dataset, generate_dataset
from sandbox.portal_state import PortalState
from tests.sandbox.portal_client import Clock, PortalClient


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return generate_dataset()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(dataset: Dataset, clock: Clock) -> PortalState:
    return PortalState(dataset, "ridgeline", clock=clock)


@pytest.fixture
async def portal(state: PortalState, clock: Clock) -> AsyncIterator[PortalClient]:
    client = PortalClient(state, clock)
    yield client
    await client.http.aclose()


@pytest.fixture
def account(dataset: Dataset) -> ProviderAccount:
    return dataset.carrier("ridgeline").accounts[0]
