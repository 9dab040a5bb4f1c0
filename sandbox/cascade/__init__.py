"""Cascade Care sandbox portal: a frameset portal with ASP.NET-style postbacks (see app.py)."""

from sandbox.cascade.app import create_app

__all__ = ["create_app"]
