"""Cascade Care: the product changes an account's password on the portal (real Chromium, the sandbox portal)
and never loses it: the vault holds exactly what the portal now accepts, the session goes on serving lookups,
the next sign-in uses the new password, the old one is refused; a password the portal refuses changes
nothing. The new password appears nowhere in clear (database, evidence, logs)."""

from __future__ import annotations

from pydantic import SecretStr

from aggregator import password_change
from aggregator.errors import Outcome
from aggregator.password_change import change_password
from aggregator.store import budgets
from sandbox.cascade import vocabulary as v
from sandbox.ground_truth import sample_members
from tests.e2e.fixtures import account_stats, files_holding, stored_account

PORTAL, LABEL = "cascade", "frontdesk"


def _username(portal) -> str:  # type: ignore[no-untyped-def]
    return next(a.username for a in portal.data.accounts if a.label == LABEL)


async def test_the_password_is_changed_on_the_portal_and_kept_in_the_vault(make_runner, sandbox, portals, settings,
                                                                           caplog):
    portal = portals[PORTAL]
    username = _username(portal)
    old = portal.current_password(username)
    sample = sample_members(sandbox.dataset, PORTAL, 1, kinds=("active_subscriber",))[0]
    async with make_runner() as runner:
        account_id = runner.vault.find(PORTAL, LABEL).account_id
        budgets.record_notice(runner.repository, budgets.AccountRef(account_id, PORTAL, LABEL), "password_expiring",
                              "Your password expires in 5 days.", None)
        outcome = await change_password(runner, PORTAL, LABEL)
        assert outcome.ok, outcome.reason
        # The session goes on serving lookups after the change ...
        first = await runner.eligibility(PORTAL, sample.query, account_label=LABEL)
        # ... and a new sign-in uses the new password.
        await runner.forget_session(account_id)
        second = await runner.eligibility(PORTAL, sample.query, account_label=LABEL)
        assert budgets.account_notices(runner.repository, account_id) == []  # the expiry notice went
    for result in (first, second):
        assert result.outcome is Outcome.FOUND and result.answer is not None, result.reason
        assert result.answer.without_provenance() == sample.expected
    stored = stored_account(settings, PORTAL, LABEL)
    new = portal.current_password(username)
    assert new != old and stored.password.get_secret_value() == new
    assert stored.password_change_stage is None and stored.pending_password is None
    assert stored.password_changed_at == outcome.changed_at
    stats = account_stats(portal, LABEL)
    assert (stats["successful_logins"], stats["failed_logins"], stats["locked"]) == (2, 0, False)
    assert portal.check_password(username, old) == "invalid"  # the portal's own check: the old one is refused
    assert files_holding(settings.resolved_data_dir, new) == []  # encrypted in the vault, nowhere in clear
    assert new not in caplog.text


async def test_a_password_the_portal_refuses_changes_nothing(make_runner, sandbox, portals, settings, monkeypatch):
    portal = portals[PORTAL]
    username = _username(portal)
    old = portal.current_password(username)
    # A password that breaks one of the portal's rules (a character it does not allow): the portal says so.
    monkeypatch.setattr(password_change, "new_password", lambda policy, user: SecretStr("refused123&&"))
    sample = sample_members(sandbox.dataset, PORTAL, 1, kinds=("active_subscriber",))[0]
    async with make_runner() as runner:
        outcome = await change_password(runner, PORTAL, LABEL)
        after = await runner.eligibility(PORTAL, sample.query, account_label=LABEL)
    assert not outcome.ok and outcome.reason_code == "password_change_failed"
    assert outcome.reason is not None and v.MSG_PASSWORD_CHARACTERS in outcome.reason
    assert "refused123&&" not in outcome.reason
    assert portal.current_password(username) == old
    stored = stored_account(settings, PORTAL, LABEL)
    assert stored.password.get_secret_value() == old and stored.password_change_stage is None
    assert not stored.is_frozen and stored.password_changed_at is None
    assert after.outcome is Outcome.FOUND and after.answer is not None
    assert after.answer.without_provenance() == sample.expected
    assert account_stats(portal, LABEL)["failed_logins"] == 0
