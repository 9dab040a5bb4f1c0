"""Cross-carrier tests iterate the registry, never a list of slugs: `every_carrier()` gives one pytest param
per registered adapter (id = its slug), and `every_carrier(Capability.X)` skips, by reading the carrier's
manifest, a carrier that does not declare X, so a new carrier is covered by being registered and an
eligibility-only carrier shows as skipped for authorizations, with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from aggregator.scrapers.framework import Capability, CarrierAdapter
from aggregator.scrapers.registry import all_adapters


def slugs() -> list[str]:
    return [adapter.manifest.slug for adapter in all_adapters()]


def declares(adapter: type[CarrierAdapter], capability: Capability) -> bool:
    return capability in adapter.manifest.capabilities


def every_carrier(capability: Capability | None = None) -> list[Any]:
    """One param per registered carrier: the adapter class, skipped when it lacks `capability`."""
    params = []
    for adapter in all_adapters():
        marks = []
        if capability is not None and not declares(adapter, capability):
            marks.append(pytest.mark.skip(reason=f"{adapter.manifest.slug}'s manifest does not declare "
                                                 f"{capability.value}"))
        params.append(pytest.param(adapter, id=adapter.manifest.slug, marks=marks))
    return params


# --- payers: a hub portal serves several ------------------------------------------------------------

def portal_payers(capability: Capability | None = None) -> list[tuple[type[CarrierAdapter], str]]:
    """(adapter, payer slug) for every registered portal and each payer its manifest serves: a carrier's own site
    once (payer = its slug), a hub once per payer (`manifest.served_payers()`). With `capability`, only portals
    that declare it."""
    return [(adapter, payer.slug) for adapter in all_adapters() if capability is None or declares(adapter, capability)
            for payer in adapter.manifest.served_payers()]


def payer_id(adapter: type[CarrierAdapter], payer: str) -> str:
    """The test id of (portal, payer): the slug for a carrier's own site, `<portal>-<payer>` through a hub."""
    return adapter.manifest.slug if payer == adapter.manifest.slug else f"{adapter.manifest.slug}-{payer}"


def every_payer(capability: Capability | None = None) -> list[Any]:
    """One param (adapter, payer) per portal and payer it serves, skipped (reason from the manifest) when the
    portal lacks `capability`: the sandbox profile to sample members from is the payer's, not the portal's."""
    params = []
    for adapter, payer in portal_payers():
        marks = []
        if capability is not None and not declares(adapter, capability):
            marks.append(pytest.mark.skip(reason=f"{adapter.manifest.slug}'s manifest does not declare "
                                                 f"{capability.value}"))
        params.append(pytest.param(adapter, payer, id=payer_id(adapter, payer), marks=marks))
    return params


def payers() -> list[str]:
    """Every payer some registered portal serves, once, in registry order."""
    return list(dict.fromkeys(payer for _, payer in portal_payers()))
