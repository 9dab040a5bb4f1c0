"""BluePeak Health adapter (single-page app)."""

from aggregator.scrapers.bluepeak.adapter import BluepeakAdapter

__all__ = ["BluepeakAdapter"]
