"""Fixtures for the Crossway tests: a world (both apps and states) on a settable clock, a browser over it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.crossway.directory import HubAccount
from sandbox.crossway.world import Crossway, build_crossway
from sandbox.dataset import Dataset
from tests.sandbox.crossway.client import Browser
from tests.sandbox.portal_client import Clock


@pytest.fixture
def world(dataset: Dataset, clock: Clock) -> Crossway:
    return build_crossway(dataset, clock)


@pytest.fixture
async def browser(world: Crossway, clock: Clock) -> AsyncIterator[Browser]:
    client = Browser(world, clock)
    yield client
    await client.http.aclose()


@pytest.fixture
def frontdesk(world: Crossway) -> HubAccount:
    return next(a for a in world.directory.accounts if a.role == "frontdesk")


@pytest.fixture
def billing(world: Crossway) -> HubAccount:
    return next(a for a in world.directory.accounts if a.role == "billing")


@pytest.fixture
async def acting(browser: Browser, world: Crossway, frontdesk: HubAccount) -> Browser:
    """Signed in as frontdesk, acting for the first organization and its first provider."""
    page = await browser.sign_in(frontdesk)
    assert page.url.path == "/organizations", page.text
    page = await browser.choose(world.directory.organizations[0])
    assert page.url.path == "/payers", page.text
    return browser
