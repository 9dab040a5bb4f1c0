"""Ridgeline Mutual (`ridgeline`): manifest, adapter, pages and maps. See the module docstrings."""

from aggregator.scrapers.ridgeline.adapter import RidgelineAdapter

__all__ = ["RidgelineAdapter"]
