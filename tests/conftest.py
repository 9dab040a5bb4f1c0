from __future__ import annotations

import pytest

# The e2e fixtures (one sandbox and one Chromium per session) serve tests/e2e, tests/web and every carrier's
# own e2e tests in tests/carriers/<slug>/; a plugin (not a conftest) so they are defined once for the tree.
pytest_plugins = ["tests.e2e.fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-expected", action="store_true", default=False,
                     help="rewrite recorded-page expected files from the current parser output, only where it "
                          "equals the sandbox's ground truth (other cases fail, naming the fields)")


@pytest.fixture(autouse=True, scope="session")
def _private_umask():
    """The product refuses a data directory other users can read (aggregator.settings.private_data_dir);
    test directories are made like the product makes them, owner-only, whatever the shell's umask."""
    import os

    previous = os.umask(0o077)
    yield
    os.umask(previous)
