"""BluePeak Health sandbox portal: a single-page app over its own JSON API."""

from sandbox.bluepeak.app import create_app

__all__ = ["create_app"]
