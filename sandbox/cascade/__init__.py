"""Cascade Care sandbox portal: a frameset portal with ASP.NET-style postbacks (see app.py)."""

from sandbox.cascade.app import create_app
from sandbox.cascade.profile import PROFILE

__all__ = ["PROFILE", "create_app"]
