"""The web app fixtures (a seeded data directory with a user of every role) for the admin page and API tests."""

from tests.web.conftest import app, client, seed  # noqa: F401 - pytest fixtures, used by name
