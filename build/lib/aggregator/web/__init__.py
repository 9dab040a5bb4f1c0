"""The staff and auditor web app (`aggregator serve`). See docs/web.md."""

from aggregator.web.app import create_app

__all__ = ["create_app"]
