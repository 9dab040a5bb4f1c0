"""BluePeak Health adapter (single-page app)."""

from aggregator.scrapers.bluepeak.adapter import BluepeakAdapter

ADAPTER = BluepeakAdapter  # what the registry discovers

__all__ = ["ADAPTER", "BluepeakAdapter"]
