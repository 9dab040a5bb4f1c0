"""The product changes a portal account's password itself, and never loses it.

The new password is chosen here (`new_password`, the portal's rules from its manifest) and written to the
vault as PENDING before it goes anywhere near the portal; the vault marks it SUBMITTED just before the
portal's button is pressed, and CONFIRMS it (it becomes the password) once the portal said it changed. A
crash between any two steps leaves the vault saying what it knows:

- "pending": the portal never saw the new password; the next sign-in abandons it and uses the current one;
- "submitted": the portal may hold either; the next sign-in tries the pending one first, then the current
  one, and keeps whichever works (aggregator/runner.py, the login's recovery).

A portal that refuses the new password (its rules) changed nothing: the change is abandoned and the outcome
says the portal's reasons (`password_change_failed`). An answer that cannot be read (an unknown page, a
timeout) leaves the change "submitted" for the next sign-in to settle. The crash tests stop the process at
each step with `aggregator.failpoints.reach` ("password:pending", "password:submitted", "password:accepted").

The password is never logged, shown or stored in clear: it is registered with the log redaction before
anything else happens, and kept as a `SecretStr` until the portal's form field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aggregator.errors import AggregatorError, ConfigurationError
from aggregator.failpoints import reach
from aggregator.human_steps import HumanStep, Person
from aggregator.logging import get_logger, register_secret
from aggregator.runner import Runner
from aggregator.scrapers.framework.adapter import PasswordChange
from aggregator.scrapers.framework.passwords import new_password
from aggregator.scrapers.registry import adapter_for
from aggregator.store import budgets

log = get_logger(__name__)

# The account notices a changed password answers (the portal no longer says them once it changed).
PASSWORD_NOTICES = (HumanStep.PASSWORD_EXPIRING.value, HumanStep.PASSWORD_EXPIRED.value)
FLOW = "password_change"  # the evidence of the change's pages is recorded under this flow


@dataclass(frozen=True)
class PasswordChangeOutcome:
    ok: bool
    reason: str | None = None  # why not (no secret, no member data)
    reason_code: str | None = None  # a HumanStep value, or an error's code
    changed_at: datetime | None = None


async def change_password(runner: Runner, portal: str, label: str, *,
                          person: Person | None = None) -> PasswordChangeOutcome:
    """Change the password of the vault's account `portal`/`label` on its portal (a fresh sign-in first;
    `person` answers a code or a push if the portal asks one)."""
    try:
        manifest = adapter_for(portal).manifest
    except ConfigurationError as error:
        return PasswordChangeOutcome(False, error.reason, "unknown_portal")
    policy = manifest.password_policy
    if policy is None:
        return PasswordChangeOutcome(False, f"the product cannot change passwords on {manifest.display_name}",
                                     HumanStep.PASSWORD_CHANGE_FAILED.value)
    account = runner.vault.find(manifest.slug, label)
    if account is None:
        return PasswordChangeOutcome(False, f"no portal account {manifest.slug}/{label} in the vault",
                                     HumanStep.CREDENTIALS_MISSING.value)
    if account.is_frozen and account.frozen_code != HumanStep.PASSWORD_EXPIRED.value:
        # Frozen for anything but an expired password: a person fixes the credentials first.
        return PasswordChangeOutcome(False, f"the account is frozen ({account.frozen_reason}): update its "
                                            f"credentials first", HumanStep.ACCOUNT_FROZEN.value)
    vault = runner.vault
    try:
        if account.password_change_stage is not None:
            # A change an earlier run left half-way: a sign-in settles it first (runner.py), then a new one.
            async with runner.signed_in(manifest.slug, label, person=person, flow=FLOW, fresh=True):
                pass
        password = new_password(policy, account.username)
        register_secret(password.get_secret_value())  # before anything that may log
        vault.begin_password_change(account.account_id, password)
        reach("password:pending")

        def submitting() -> None:  # right before the portal's button: from here it may hold the new password
            vault.mark_password_submitted(account.account_id)
            reach("password:submitted")

        change = PasswordChange(password, submitting)
        # A fresh sign-in with the current password: an expired one is changed at the portal's forced change
        # page (which is what unfreezes an account frozen for it), any other after it, on the account's page.
        async with runner.signed_in(manifest.slug, label, person=person, flow=FLOW, fresh=True,
                                    password_change=change) as adapter:
            if not adapter.password_changed:
                await adapter.change_password(password)
            reach("password:accepted")
            changed = vault.confirm_password_change(account.account_id)
    except AggregatorError as error:
        current = vault.find(manifest.slug, label)
        stage = current.password_change_stage if current is not None else None
        if stage == "pending" or error.code == HumanStep.PASSWORD_CHANGE_FAILED.value:
            # Never sent, or refused by the portal's rules: nothing changed there.
            vault.abandon_password_change(account.account_id)
            log.warning("password_change_refused", carrier=manifest.slug, account=label, error=error.code)
            return PasswordChangeOutcome(False, error.reason, error.code)
        # Sent, and an answer we could not read: the change stays "submitted", and the next sign-in finds out
        # which password the portal holds. No session outlives it, so that next sign-in comes at once.
        unsettled = stage == "submitted"
        log.warning("password_change_failed", carrier=manifest.slug, account=label, error=error.code,
                    unsettled=unsettled)
        if unsettled:
            await runner.forget_session(account.account_id)
        reason = error.reason + ("; the portal may have changed the password: the next sign-in tries both and "
                                 "keeps the one that works" if unsettled else "")
        return PasswordChangeOutcome(False, reason, error.code)
    budgets.clear_notices(runner.repository, account.account_id, PASSWORD_NOTICES)
    log.info("password_changed", carrier=manifest.slug, account=label)
    return PasswordChangeOutcome(True, changed_at=changed.password_changed_at)
