"""Ridgeline Mutual (`ridgeline`): manifest, adapter, pages and maps. See the module docstrings."""

from aggregator.scrapers.ridgeline.adapter import RidgelineAdapter

ADAPTER = RidgelineAdapter  # what the registry discovers

__all__ = ["ADAPTER", "RidgelineAdapter"]
