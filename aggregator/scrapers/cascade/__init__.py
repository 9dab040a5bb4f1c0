"""Cascade Care: frameset portal with ASP.NET postbacks, security questions, a claims report and EOB PDFs."""

from aggregator.scrapers.cascade.adapter import CascadeAdapter

__all__ = ["CascadeAdapter"]
