"""End-to-end fixtures: the real sandbox portals on loopback and a real Chromium.

One sandbox and one browser serve the whole session (starting them is the slow part); every test gets
its own data directory, vault and database, and the portal's counters and faults are reset around it.

A plugin, not a conftest: tests/conftest.py loads it for the whole tree (`pytest_plugins`), so the
cross-carrier e2e tests (tests/e2e, tests/web) and each carrier's own (tests/carriers/<slug>/) share one
sandbox and one browser in a session. A test that uses the sandbox or the browser, or lives in a
`*_e2e.py` file, is marked `e2e` here (`pytest -m e2e`, `pytest -m "not e2e"`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.browser import BrowserPool, PortalSession
from aggregator.runner import Runner
from aggregator.settings import Settings
from aggregator.store import Repository
from sandbox.accounts import vault_inputs
from sandbox.portal_state import PortalState
from sandbox.server import SandboxHandle, start_sandbox
from tests.e2e.totp_clock import TotpClock
from vault import MasterKey, Vault

# The portal of the tests of the runner's own behaviour (login discipline, maintenance, changes), which need
# one portal, any; a carrier's own behaviour is tested in tests/carriers/<slug>/.
EXAMPLE_CARRIER = "ridgeline"

# A Wednesday noon in New York: outside every manifest maintenance window, whatever day CI runs.
QUIET_TIME = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxHandle]:
    # Every sandbox carrier (discovered from its folder sandbox/<slug>/, see sandbox.carriers).
    with start_sandbox() as handle:
        yield handle


@pytest.fixture
def portals(sandbox: SandboxHandle) -> Iterator[dict[str, PortalState]]:
    """Every portal's state (faults, counters, request log), reset before and after the test; the hubs
    (`sandbox.hubs`, not PortalStates) too: both of their apps, their settings and their day (reset-all)."""
    for state in sandbox.states.values():
        state.reset()
    sandbox.reset_hubs()
    yield sandbox.states
    for state in sandbox.states.values():
        state.reset()
    sandbox.reset_hubs()


@pytest.fixture
def portal(portals: dict[str, PortalState]) -> PortalState:
    return portals[EXAMPLE_CARRIER]


@pytest.fixture
def totp_clock(portals: dict[str, PortalState], sandbox: SandboxHandle) -> TotpClock:
    """This test's TOTP clock, shared by its runners and the portals: a runner that must wait for the next
    30-second step jumps there instead (tests/e2e/totp_clock.py). Runners in other processes keep real time.
    A hub's identity provider checks the codes there, so its clock moves too (`advance_totp_clock`)."""
    return TotpClock([*portals.values(), *sandbox.hubs.values()])


@pytest.fixture(scope="session")
async def browser_pool() -> AsyncIterator[BrowserPool]:
    pool = BrowserPool(Settings())
    await pool.start()
    yield pool
    await pool.close()


@pytest.fixture
async def blank_session(browser_pool: BrowserPool) -> AsyncIterator[PortalSession]:
    """A session on a blank tab of its own, no portal behind it: for what the session does with a page the test
    writes itself (`session._page.set_content(...)`). What it captures is kept, in order, in `session.stored`."""
    stored: list[object] = []

    async def sink(page: object) -> str:
        stored.append(page)
        return f"evidence-{len(stored)}"

    opened = await PortalSession.open(browser_pool, base_url="http://127.0.0.1:9", carrier="test",
                                      account_label="test", evidence_sink=sink)
    opened.stored = stored  # type: ignore[attr-defined]
    yield opened
    await opened.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def vault(settings: Settings, sandbox: SandboxHandle) -> Vault:
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    key = MasterKey.generate()
    key.write_key_file(settings.resolved_data_dir / "vault.key")
    vault = Vault.create(settings.resolved_vault_path, key)
    vault.upsert_accounts(vault_inputs(sandbox.dataset, list(sandbox.urls)))  # the hubs' accounts too
    return vault


E2E_FIXTURES = frozenset({"sandbox", "browser_pool"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_sandbox = E2E_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if uses_sandbox or item.path.name.endswith("_e2e.py"):
            item.add_marker(pytest.mark.e2e)


RunnerFactory = Callable[..., "AsyncIterator[Runner]"]


@pytest.fixture
def make_runner(settings: Settings, vault: Vault, browser_pool: BrowserPool, sandbox: SandboxHandle, portal: PortalState,
                totp_clock: TotpClock):
    """`async with make_runner() as runner:` a runner on this test's data dir, closed afterwards."""

    @asynccontextmanager
    async def factory(**kwargs: object) -> AsyncIterator[Runner]:
        runner = Runner(settings=settings, repository=Repository.open(settings.resolved_database_url),
                        vault=Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings)),
                        pool=browser_pool, base_urls=sandbox.urls, clock=lambda: QUIET_TIME, **kwargs)  # type: ignore[arg-type]
        runner.totp = totp_clock.codes()
        try:
            yield runner
        finally:
            await runner.close()

    return factory


def account_stats(portal: PortalState, label: str) -> dict:
    username = next(a.username for a in portal.data.accounts if a.label == label)
    return portal.stats()["accounts"][username]


def stored_account(settings: Settings, portal: str, label: str):  # type: ignore[no-untyped-def]
    """The vault account as a new reader of the vault sees it (not a runner's copy)."""
    vault = Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings))
    try:
        account = vault.find(portal, label)
        assert account is not None
        return account
    finally:
        vault.close()


def files_holding(root: Path, secret: str) -> list[Path]:
    """The files under `root` whose bytes contain `secret` (a password must be in none but the vault's)."""
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def login_attempts(sandbox: SandboxHandle, portal: str) -> int:
    """Password sign-ins the portal saw (a hub: at its identity provider), over every account."""
    stats = sandbox.hubs[portal].idp.stats() if portal in sandbox.hubs else sandbox.states[portal].stats()
    return sum(s["login_attempts"] for s in stats["accounts"].values())


def account_labels(sandbox: SandboxHandle, portal: str) -> set[str]:
    """The vault labels of the portal's sandbox accounts (a carrier's or a hub's)."""
    from sandbox.accounts import portal_accounts

    return {a.label for a in portal_accounts(sandbox.dataset, portal)}


@pytest.fixture
def hub_appointments(sandbox: SandboxHandle) -> Callable[..., list[tuple[dict, object]]]:
    """`hub_appointments(count, day)`: `count` appointment rows (sandbox.appointments.hub_day: the payers only a hub
    serves, e.g. 400 for the daily-limit batch) each with its ground-truth eligibility answer."""
    from sandbox.appointments import hub_day
    from sandbox.batch_truth import expected_eligibility

    def make(count: int, day: object, payers: tuple[str, ...] | None = None) -> list[tuple[dict, object]]:
        rows = hub_day(sandbox.dataset, day, count, payers)  # type: ignore[arg-type]
        return [(row, expected_eligibility(sandbox.dataset, row)) for row in rows]

    return make
