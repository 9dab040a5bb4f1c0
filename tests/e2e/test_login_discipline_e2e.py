"""Safe logins against the real portal: freeze on rejection, one session per account, session reuse,
and nothing secret or identifying in the logs."""

from __future__ import annotations

import asyncio
import io
import json

from aggregator.errors import Outcome
from aggregator.logging import configure_logging, forget_secrets
from sandbox.ground_truth import sample_members
from tests.e2e.fixtures import account_stats


async def test_wrong_password_logs_in_once_freezes_and_spares_other_accounts(make_runner, sandbox, portal, vault):
    frontdesk = vault.find("ridgeline", "frontdesk")
    vault.update_account(frontdesk.account_id, password="not-the-password-1!")
    samples = sample_members(sandbox.dataset, "ridgeline", 12)
    async with make_runner() as runner:
        queued = await asyncio.gather(*(runner.eligibility("ridgeline", s.query, account_label="frontdesk")
                                        for s in samples[:10]))
        others = [await runner.eligibility("ridgeline", s.query, account_label="billing") for s in samples[10:]]

    assert [r.outcome for r in queued] == [Outcome.NEEDS_HUMAN] * 10
    stats = account_stats(portal, "frontdesk")
    assert stats["login_attempts"] == 1 and stats["failed_logins"] == 1
    assert stats["consecutive_failures"] == 1 and not stats["locked"]  # the portal's lockout (3) never reached
    frozen = runner.vault.find("ridgeline", "frontdesk")
    assert frozen.is_frozen and "rejected" in frozen.frozen_reason
    assert all("frozen" in r.reason or "rejected" in r.reason for r in queued)
    assert [r.outcome for r in others] == [s.expected and (Outcome.FOUND if s.expected.kind == "eligibility" else Outcome.NOT_FOUND)
                                           for s in samples[10:]]
    assert account_stats(portal, "billing")["login_attempts"] == 1


async def test_frozen_account_stays_frozen_for_a_new_process_until_updated(make_runner, sandbox, portal, vault):
    frontdesk = vault.find("ridgeline", "frontdesk")
    vault.update_account(frontdesk.account_id, password="not-the-password-1!")
    sample = sample_members(sandbox.dataset, "ridgeline", 1)[0]
    async with make_runner() as runner:
        await runner.eligibility("ridgeline", sample.query, account_label="frontdesk")
    async with make_runner() as restarted:
        again = await restarted.eligibility("ridgeline", sample.query, account_label="frontdesk")
    assert again.outcome is Outcome.NEEDS_HUMAN
    assert account_stats(portal, "frontdesk")["login_attempts"] == 1
    # A person fixes the password: the account thaws and logs in.
    real = next(a for a in sandbox.dataset.carrier("ridgeline").accounts if a.label == "frontdesk")
    vault.update_account(frontdesk.account_id, password=real.password)
    async with make_runner() as fixed:
        result = await fixed.eligibility("ridgeline", sample.query, account_label="frontdesk")
    assert result.outcome is Outcome.FOUND


async def test_twenty_lookups_one_login_then_one_more_after_idle_timeout(make_runner, sandbox, portal):
    samples = sample_members(sandbox.dataset, "ridgeline", 21)
    async with make_runner() as runner:
        first = [await runner.eligibility("ridgeline", s.query, account_label="frontdesk") for s in samples[:20]]
        assert account_stats(portal, "frontdesk")["successful_logins"] == 1
        assert portal.expire_sessions() >= 1  # the idle timeout, without waiting for time to pass
        after = await runner.eligibility("ridgeline", samples[20].query, account_label="frontdesk")
    assert all(r.outcome in (Outcome.FOUND, Outcome.NOT_FOUND) for r in first + [after])
    assert runner.repository.records_for_lookup(after.lookup_id)[0].without_provenance() == samples[20].expected
    stats = account_stats(portal, "frontdesk")
    assert stats["login_attempts"] == 2 and stats["successful_logins"] == 2
    assert account_stats(portal, "billing")["login_attempts"] == 0


async def test_saved_session_is_reused_by_a_new_process(make_runner, sandbox, portal):
    samples = sample_members(sandbox.dataset, "ridgeline", 2)
    async with make_runner() as runner:
        await runner.eligibility("ridgeline", samples[0].query, account_label="frontdesk")
    async with make_runner() as restarted:  # new browser context: only the vault's saved session carries over
        result = await restarted.eligibility("ridgeline", samples[1].query, account_label="frontdesk")
    assert result.outcome is Outcome.FOUND
    assert account_stats(portal, "frontdesk")["login_attempts"] == 1


async def test_concurrent_lookups_on_one_account_share_one_session(make_runner, sandbox, portal):
    samples = sample_members(sandbox.dataset, "ridgeline", 8)
    async with make_runner() as runner:
        results = await asyncio.gather(*(runner.eligibility("ridgeline", s.query, account_label="billing") for s in samples))
    assert all(r.outcome in (Outcome.FOUND, Outcome.NOT_FOUND) for r in results)
    assert account_stats(portal, "billing")["login_attempts"] == 1


async def test_debug_logs_hold_no_secret_cookie_or_member_data(make_runner, sandbox, portal, vault):
    stream = io.StringIO()
    configure_logging("json", "DEBUG", stream=stream)
    try:
        samples = sample_members(sandbox.dataset, "ridgeline", 6)
        async with make_runner() as runner:
            for sample in samples:
                await runner.eligibility("ridgeline", sample.query, account_label="frontdesk")
            saved = runner.vault.load_session(vault.find("ridgeline", "frontdesk").account_id)
            wrong = vault.find("ridgeline", "billing")
            runner.vault.update_account(wrong.account_id, password="Wrong-Password-42")
            await runner.eligibility("ridgeline", samples[0].query, account_label="billing")
    finally:
        configure_logging("console", "INFO")
        forget_secrets()
    logged = stream.getvalue()
    events = [json.loads(line) for line in logged.splitlines()]  # every line is one JSON event
    names = [e["event"] for e in events]
    # The scan is only worth something if the lookups' logs were really captured, debug ones included.
    assert names.count("lookup_finished") == 7 and "logged_in" in names and "account_frozen" in names
    assert any(e["level"] == "debug" and e["event"] == "page_landed" for e in events)
    account = next(a for a in sandbox.dataset.carrier("ridgeline").accounts if a.label == "frontdesk")
    forbidden = {"password": account.password, "totp seed": account.totp_secret, "wrong password": "Wrong-Password-42"}
    forbidden |= {f"cookie {i}": c["value"] for i, c in enumerate(saved["cookies"])}
    for sample in samples:
        q = sample.query
        forbidden[f"member id {q.member_id}"] = q.member_id
        forbidden[f"dob {q.date_of_birth}"] = q.date_of_birth.isoformat()
        forbidden[f"dob us {q.date_of_birth}"] = q.date_of_birth.strftime("%m/%d/%Y")
        if sample.member is not None:
            forbidden[f"first name of {q.member_id}"] = sample.member.first_name
            forbidden[f"last name of {q.member_id}"] = sample.member.last_name
    leaks = [what for what, value in forbidden.items() if value and value in logged]
    assert leaks == []
