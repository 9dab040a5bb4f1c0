from __future__ import annotations

import logging

import pytest

# The e2e fixtures (one sandbox and one Chromium per session) serve tests/e2e, tests/web and every carrier's
# own e2e tests in tests/carriers/<slug>/; a plugin (not a conftest) so they are defined once for the tree.
# Under pytest-xdist (`make test` runs `-n <workers> --dist loadgroup`) a session is a worker: each worker
# has its own sandbox and Chromium, on free ports, and every test its own data directory.
pytest_plugins = ["tests.e2e.fixtures"]

# Modules whose tests must run in one xdist worker, and why; every other test is handed out on its own.
XDIST_GROUPS = {
    # One module-scoped fixture runs the whole suite (all carriers x families, half a minute of CPU); every
    # worker that ran one of its tests would run it again.
    "tests/mutation/test_mutation_suite.py": "mutation-suite",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-expected", action="store_true", default=False,
                     help="rewrite recorded-page expected files from the current parser output, only where it "
                          "equals the sandbox's ground truth (other cases fail, naming the fields)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # After tests/e2e/fixtures.py marks the e2e tests: in an xdist worker, hand them out first. They are the long
    # ones (up to a minute); started last, one of them would keep the run going alone at the end. Every worker
    # sorts the same way, as xdist requires; a serial run keeps the collection order.
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Tests handed out one at a time as workers free up, except the XDIST_GROUPS, each handed out whole (the
    largest first). xdist's own `--dist loadgroup` does this from `xdist_group` marks, but with pytest 9.2 it
    no longer groups anything (pytest-xdist issue #1386), so the groups are named here, by file."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupedScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return XDIST_GROUPS.get(nodeid.split("::", 1)[0], nodeid)

    return GroupedScheduling(config, log)


@pytest.fixture(autouse=True, scope="session")
def _private_umask():
    """The product refuses a data directory other users can read (aggregator.settings.private_data_dir);
    test directories are made like the product makes them, owner-only, whatever the shell's umask."""
    import os

    previous = os.umask(0o077)
    yield
    os.umask(previous)


@pytest.fixture(autouse=True)
def _root_logger_put_back():
    """A test that configures logging (e.g. a CLI command run in-process) leaves its handler on the root logger,
    writing to that test's captured stream, which is closed afterwards; the next test's log lines then end in
    "--- Logging error ---". Which test comes next depends on how xdist shares out the tests, so each test
    starts from the root logger as the session had it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers and getattr(h, "_aggregator_handler", False)]:
        root.removeHandler(handler)
    root.setLevel(level)


# --- reports that workers hand to the controller (pytest-xdist) -------------------------------------------

_WORKER_SUMMARIES: dict[str, str] = {}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """An xdist worker finished: keep the mutation suite's table if that worker ran it (tests/mutation/conftest.py)."""
    summary = getattr(node, "workeroutput", {}).get("mutation_summary")
    if summary:
        _WORKER_SUMMARIES["mutation"] = summary


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if "mutation" in _WORKER_SUMMARIES:
        terminalreporter.section("mutation suite (per carrier x family)")
        terminalreporter.write_line(_WORKER_SUMMARIES["mutation"])
