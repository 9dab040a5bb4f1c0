"""Slug -> adapter class, discovered: a carrier is its folder `aggregator/scrapers/<slug>/`, whose `__init__`
exports `ADAPTER`. Nothing else in the product lists carriers (docs/adding-a-carrier.md)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from aggregator.errors import ConfigurationError
from aggregator.scrapers.framework import CarrierAdapter

NOT_CARRIERS = frozenset({"framework"})  # subpackages of aggregator.scrapers that are shared code


@cache
def _adapters() -> dict[str, type[CarrierAdapter]]:
    import aggregator.scrapers as scrapers

    found: dict[str, type[CarrierAdapter]] = {}
    for module in pkgutil.iter_modules(scrapers.__path__):
        if not module.ispkg or module.name in NOT_CARRIERS:
            continue
        package = importlib.import_module(f"{scrapers.__name__}.{module.name}")
        adapter = getattr(package, "ADAPTER", None)
        if not (isinstance(adapter, type) and issubclass(adapter, CarrierAdapter)):
            raise ConfigurationError(f"carrier folder aggregator/scrapers/{module.name}/ does not export ADAPTER, "
                                     "a CarrierAdapter subclass, from its __init__.py")
        if adapter.manifest.slug != module.name:
            raise ConfigurationError(f"carrier folder aggregator/scrapers/{module.name}/ declares slug "
                                     f"'{adapter.manifest.slug}'; the folder name and the manifest's slug must be the same")
        found[module.name] = adapter
    return dict(sorted(found.items()))


def adapter_for(slug: str) -> type[CarrierAdapter]:
    adapters = _adapters()
    key = slug.strip().lower()
    if key in adapters:
        return adapters[key]
    by_name = {cls.manifest.display_name.casefold(): cls for cls in adapters.values()}
    if key in by_name:
        return by_name[key]
    raise ConfigurationError(f"unknown carrier '{slug}' (known: {', '.join(adapters)})")


def all_adapters() -> list[type[CarrierAdapter]]:
    return list(_adapters().values())
