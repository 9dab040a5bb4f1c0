"""Summit Health Plan (`summit`): manifest, adapter, pages and maps. See the module docstrings."""

from aggregator.scrapers.summit.adapter import SummitAdapter

ADAPTER = SummitAdapter  # what the registry discovers

__all__ = ["ADAPTER", "SummitAdapter"]
