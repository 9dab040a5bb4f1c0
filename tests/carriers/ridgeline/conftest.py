"""Ridgeline's own e2e tests read `portal` as Ridgeline's portal, whichever portal the shared tests use as their
example (tests/e2e/fixtures.py: EXAMPLE_CARRIER)."""

from __future__ import annotations

import pytest

from sandbox.portal_state import PortalState


@pytest.fixture
def portal(portals: dict[str, PortalState]) -> PortalState:
    return portals["ridgeline"]
