"""Ridgeline Mutual: the sandbox's 2000s server-rendered carrier portal."""

from sandbox.ridgeline.app import create_app
from sandbox.ridgeline.profile import PROFILE

__all__ = ["PROFILE", "create_app"]
