"""Crossway: the product changes an account's Crossway ID password from the hub (real Chromium, the hub and
Crossway ID on loopback): the payer list -> Crossway ID's account page -> the change form. The vault then
holds exactly what Crossway ID accepts, the hub session goes on serving lookups, the next sign-in uses the
new password, the old one is refused, and the hub's expiry warning is gone; a password Crossway ID refuses
changes nothing."""

from __future__ import annotations

from pydantic import SecretStr

from aggregator import password_change
from aggregator.errors import Outcome
from aggregator.password_change import change_password
from aggregator.store import budgets
from sandbox import ground_truth
from sandbox.crossway import truth
from sandbox.crossway.idp_state import PASSWORD_RULES
from tests.e2e.fixtures import files_holding, stored_account

PORTAL, LABEL, PAYER = "crossway", "frontdesk", "harborview"


def _username(hub) -> str:  # type: ignore[no-untyped-def]
    return next(a.username for a in hub.directory.accounts if a.role == LABEL)


async def test_the_password_is_changed_at_crossway_id_and_kept_in_the_vault(hub_runner, hub, hub_settings, caplog):
    username = _username(hub)
    old = hub.idp.passwords[username]
    sample = ground_truth.sample_members(hub.hub, PAYER, 1, kinds=("active_subscriber",))[0]
    expected = truth.eligibility(hub.hub, PAYER, sample.query)
    async with hub_runner() as runner:
        account_id = runner.vault.find(PORTAL, LABEL).account_id
        warned = await runner.eligibility(PAYER, sample.query, account_label=LABEL, portal=PORTAL)
        assert [n.kind for n in budgets.account_notices(runner.repository, account_id)] == ["password_expiring"]
        outcome = await change_password(runner, PORTAL, LABEL)
        assert outcome.ok, outcome.reason
        assert budgets.account_notices(runner.repository, account_id) == []  # the warning went with the change
        first = await runner.eligibility(PAYER, sample.query, account_label=LABEL, portal=PORTAL)  # same session
        await runner.forget_session(account_id)
        second = await runner.eligibility(PAYER, sample.query, account_label=LABEL, portal=PORTAL)  # new sign-in
        assert budgets.account_notices(runner.repository, account_id) == []  # the hub no longer warns
    for result in (warned, first, second):
        assert result.outcome is Outcome.FOUND and result.answer is not None, result.reason
        assert result.answer.without_provenance() == expected
    new = hub.idp.passwords[username]
    stored = stored_account(hub_settings, PORTAL, LABEL)
    assert new != old and stored.password.get_secret_value() == new
    assert stored.password_change_stage is None and stored.pending_password is None
    assert stored.password_changed_at == outcome.changed_at
    assert hub.idp.password_changes_of(username) == 1
    stats = hub.idp.stats()["accounts"][username]
    assert (stats["failed_logins"], stats["locked"]) == (0, False)
    assert hub.idp.check_password(username, old) == "invalid"  # Crossway ID's own check: the old one is refused
    assert files_holding(hub_settings.resolved_data_dir, new) == []
    assert new not in caplog.text


async def test_a_password_crossway_id_refuses_changes_nothing(hub_runner, hub, hub_settings, monkeypatch):
    username = _username(hub)
    old = hub.idp.passwords[username]
    # No upper-case letter: Crossway ID states the rule and refuses the password.
    monkeypatch.setattr(password_change, "new_password", lambda policy, user: SecretStr("no-upper-case-1234"))
    sample = ground_truth.sample_members(hub.hub, PAYER, 1, kinds=("active_subscriber",))[0]
    async with hub_runner() as runner:
        outcome = await change_password(runner, PORTAL, LABEL)
        after = await runner.eligibility(PAYER, sample.query, account_label=LABEL, portal=PORTAL)
    assert not outcome.ok and outcome.reason_code == "password_change_failed"
    assert outcome.reason is not None and PASSWORD_RULES[1] in outcome.reason
    assert "no-upper-case-1234" not in outcome.reason
    assert hub.idp.passwords[username] == old and hub.idp.password_changes_of(username) == 0
    stored = stored_account(hub_settings, PORTAL, LABEL)
    assert stored.password.get_secret_value() == old and stored.password_change_stage is None
    assert not stored.is_frozen
    assert after.outcome is Outcome.FOUND and after.answer is not None
    assert after.answer.without_provenance() == truth.eligibility(hub.hub, PAYER, sample.query)
    assert hub.idp.stats()["accounts"][username]["failed_logins"] == 0


async def test_an_expired_password_freezes_the_account_and_the_change_takes_it_at_the_forced_page(
        hub_runner, hub, hub_settings):
    """Crossway ID's forced change at expiry: a lookup stops there (frozen: a person decides), the product's change
    (the account page's button, `aggregator vault change-password`) sets the new password on that very page, and
    the account is unfrozen and answers again; a freeze for anything else is not the change's to lift."""
    username = _username(hub)
    old = hub.idp.passwords[username]
    hub.idp.set_password_age(username, 400)  # long past the maximum age: expired
    sample = ground_truth.sample_members(hub.hub, PAYER, 1, kinds=("active_subscriber",))[0]
    async with hub_runner() as runner:
        blocked = await runner.eligibility(PAYER, sample.query, account_label=LABEL, portal=PORTAL)
        assert blocked.outcome is Outcome.NEEDS_HUMAN and blocked.reason_code == "password_expired"
        frozen = runner.vault.find(PORTAL, LABEL)
        assert frozen is not None and frozen.is_frozen and frozen.frozen_code == "password_expired"
        outcome = await change_password(runner, PORTAL, LABEL)
        assert outcome.ok, outcome.reason
        answered = await runner.eligibility(PAYER, sample.query, account_label=LABEL, portal=PORTAL)
    assert answered.outcome is Outcome.FOUND and answered.answer is not None
    assert answered.answer.without_provenance() == truth.eligibility(hub.hub, PAYER, sample.query)
    stored = stored_account(hub_settings, PORTAL, LABEL)
    new = hub.idp.passwords[username]
    assert new != old and stored.password.get_secret_value() == new and not stored.is_frozen
    assert hub.idp.password_days_left(username) > 0 and hub.idp.password_changes_of(username) == 1
    assert hub.idp.stats()["accounts"][username]["failed_logins"] == 0


async def test_a_freeze_for_a_refused_password_is_not_lifted_by_a_change(hub_runner, hub, hub_settings):
    async with hub_runner() as runner:
        account = runner.vault.find(PORTAL, LABEL)
        runner.vault.freeze(account.account_id, "Crossway (Crossway ID) rejected the username or password",
                            code="credentials_rejected")
        outcome = await change_password(runner, PORTAL, LABEL)
    assert not outcome.ok and outcome.reason_code == "account_frozen"
    assert hub.idp.stats()["accounts"][_username(hub)]["login_attempts"] == 0  # never signed in
    assert stored_account(hub_settings, PORTAL, LABEL).is_frozen
