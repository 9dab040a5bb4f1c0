"""Crossway (`crossway`): a multi-payer hub behind single sign-on; manifest, adapter, pages, maps, and one
module per payer result layout (`layouts/`). See the module docstrings."""

from aggregator.scrapers.crossway.adapter import CrosswayAdapter

ADAPTER = CrosswayAdapter  # what the registry discovers

__all__ = ["ADAPTER", "CrosswayAdapter"]
