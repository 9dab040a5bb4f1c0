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
