"""The export tests reuse the web tests' seeded data directory and app (`seed`, `app`, `client`)."""

from tests.web.conftest import app, client, seed  # noqa: F401  (fixtures, found by name)
