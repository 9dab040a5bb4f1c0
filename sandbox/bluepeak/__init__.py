"""BluePeak Health sandbox portal: a single-page app over its own JSON API."""

from sandbox.bluepeak.app import create_app
from sandbox.bluepeak.profile import PROFILE

__all__ = ["PROFILE", "create_app"]
