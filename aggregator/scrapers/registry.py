"""Slug -> adapter class. Adding a carrier is one folder plus one line here."""

from __future__ import annotations

from aggregator.errors import ConfigurationError
from aggregator.scrapers.framework import CarrierAdapter


def _adapters() -> dict[str, type[CarrierAdapter]]:
    from aggregator.scrapers.bluepeak import BluepeakAdapter
    from aggregator.scrapers.cascade import CascadeAdapter
    from aggregator.scrapers.ridgeline import RidgelineAdapter

    classes = [RidgelineAdapter, BluepeakAdapter, CascadeAdapter]
    return {cls.manifest.slug: cls for cls in classes}


def adapter_for(slug: str) -> type[CarrierAdapter]:
    adapters = _adapters()
    key = slug.strip().lower()
    if key in adapters:
        return adapters[key]
    by_name = {cls.manifest.display_name.casefold(): cls for cls in adapters.values()}
    if key in by_name:
        return by_name[key]
    raise ConfigurationError(f"unknown carrier '{slug}' (known: {', '.join(sorted(adapters))})")


def all_adapters() -> list[type[CarrierAdapter]]:
    return sorted(_adapters().values(), key=lambda cls: cls.manifest.slug)
