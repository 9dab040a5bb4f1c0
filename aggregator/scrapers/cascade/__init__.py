"""Cascade Care: frameset portal with ASP.NET postbacks, security questions, a claims report and EOB PDFs."""

from aggregator.scrapers.cascade.adapter import CascadeAdapter

ADAPTER = CascadeAdapter  # what the registry discovers

__all__ = ["ADAPTER", "CascadeAdapter"]
