"""Ridgeline Mutual: the sandbox's 2000s server-rendered carrier portal."""

from sandbox.ridgeline.app import create_app

__all__ = ["create_app"]
