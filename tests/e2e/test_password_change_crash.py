"""A password change cut short by a crash never loses the password.

`aggregator vault change-password` runs in a process of its own against the sandbox and is killed
(`os._exit(86)`, no cleanup: aggregator/failpoints.py) at each step of the change: after the new password
was stored as pending, after it was marked submitted (just before the portal's button), and after the
portal accepted it (before the vault confirmed it). The next sign-in (a lookup in another runner) must then
use the password the portal holds: the portal shows no lock, at most one refused login (the pending password
tried first when the portal may hold it), and the vault's password is the portal's, with no change left
pending.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from aggregator.errors import Outcome
from aggregator.failpoints import ENV, EXIT_CODE
from aggregator.scrapers.registry import adapter_for, all_adapters
from sandbox import ground_truth
from tests.e2e.fixtures import stored_account
from vault import MasterKey, Vault

LABEL = "frontdesk"
# Every portal whose password the product changes (a hub: at its identity provider).
CHANGEABLE = sorted(a.manifest.slug for a in all_adapters() if a.manifest.password_policy is not None)
# failpoint -> (the stage the vault is left in, whether the portal took the new password, refused logins
# the next sign-in meets: the pending password is tried first when the portal may hold it)
POINTS = {
    "password:pending": ("pending", False, 0),
    "password:submitted": ("submitted", False, 1),
    "password:accepted": ("submitted", True, 0),
}


@dataclass
class Portal:
    """What the test needs of a sandbox portal: its current password and login counters, and a lookup."""

    slug: str
    username: str
    handle: Any
    hub: bool

    def password(self) -> str:
        if self.hub:
            return str(self.handle.idp.passwords[self.username])
        return str(self.handle.current_password(self.username))

    def stats(self) -> dict[str, Any]:
        source = self.handle.idp if self.hub else self.handle
        return dict(source.stats()["accounts"][self.username])


def _portal(sandbox: Any, slug: str) -> Portal:
    if slug in sandbox.hubs:
        hub = sandbox.hubs[slug]
        return Portal(slug, next(a.username for a in hub.directory.accounts if a.role == LABEL), hub, True)
    state = sandbox.states[slug]
    return Portal(slug, next(a.username for a in state.data.accounts if a.label == LABEL), state, False)


def _clear_saved_session(settings: Any, slug: str) -> None:
    vault = Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings))
    try:
        vault.clear_session(stored_account(settings, slug, LABEL).account_id)
    finally:
        vault.close()


async def _lookup(make_runner: Any, sandbox: Any, slug: str) -> tuple[Any, Any]:
    """One eligibility lookup through the account (a new runner: a new sign-in) and what the portal says."""
    if slug in sandbox.hubs:
        truth = importlib.import_module(f"sandbox.{slug}.truth")  # what the hub shows for a payer
        hub = sandbox.hubs[slug]
        payer = adapter_for(slug).manifest.payers[0].slug
        sample = ground_truth.sample_members(hub.hub, payer, 1, kinds=("active_subscriber",))[0]
        async with make_runner() as runner:
            result = await runner.eligibility(payer, sample.query, account_label=LABEL, portal=slug)
        return result, truth.eligibility(hub.hub, payer, sample.query)
    sample = ground_truth.sample_members(sandbox.dataset, slug, 1, kinds=("active_subscriber",))[0]
    async with make_runner() as runner:
        result = await runner.eligibility(slug, sample.query, account_label=LABEL)
    return result, sample.expected


@pytest.mark.parametrize("slug", CHANGEABLE)
@pytest.mark.parametrize("point", sorted(POINTS))
async def test_a_crash_at_each_step_of_a_password_change_loses_no_password(
        slug: str, point: str, sandbox, portals, settings, vault, make_runner):
    stage, portal_took_it, refused_logins = POINTS[point]
    portal = _portal(sandbox, slug)
    old = portal.password()
    account = vault.find(slug, LABEL)
    assert account is not None and account.password.get_secret_value() == old
    vault.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env.update(AGGREGATOR_DATA_DIR=str(settings.resolved_data_dir), AGGREGATOR_CARRIER_URLS=json.dumps(sandbox.urls),
               AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS="false", **{ENV: point})

    crashed = subprocess.run([sys.executable, "-m", "aggregator", "vault", "change-password", "--portal", slug,
                              "--account", LABEL], env=env, capture_output=True, text=True, timeout=180)

    assert crashed.returncode == EXIT_CODE, (crashed.returncode, crashed.stderr[-2000:])
    left = stored_account(settings, slug, LABEL)
    pending = left.pending_password.get_secret_value() if left.pending_password else None
    assert left.password_change_stage == stage and pending is not None
    assert left.password.get_secret_value() == old, "the vault's password is still the one it was"
    assert (portal.password() == pending, portal.password() == old) == (portal_took_it, not portal_took_it)
    assert portal.stats()["failed_logins"] == 0  # the crashed run signed in with the right password

    # The crashed run's saved session would serve the next lookup without a sign-in (the change then settles at
    # the sign-in after it expires): the sign-in is what settles it, so the test starts from none.
    _clear_saved_session(settings, slug)
    result, expected = await _lookup(make_runner, sandbox, slug)

    assert result.outcome is Outcome.FOUND and result.answer is not None, result.reason
    assert result.answer.without_provenance() == expected
    stats = portal.stats()
    assert (stats["locked"], stats["consecutive_failures"], stats["failed_logins"]) == (False, 0, refused_logins)
    after = stored_account(settings, slug, LABEL)
    assert after.password_change_stage is None and after.pending_password is None
    assert after.password.get_secret_value() == portal.password(), "the vault holds the portal's password"
    assert after.password.get_secret_value() == (pending if portal_took_it else old)
    assert not after.is_frozen
