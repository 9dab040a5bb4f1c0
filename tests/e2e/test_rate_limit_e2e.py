"""A portal's "too many requests" (HTTP 429) with `Retry-After`, against the real sandbox and Chromium: the
lookup ends "retry later" saying how long the portal asked us to wait, and nothing more is asked of that
account (not even a login) until then, while the practice's other account goes on working."""

from __future__ import annotations

from aggregator.errors import Outcome
from sandbox.ground_truth import sample_members
from tests.e2e.fixtures import EXAMPLE_CARRIER


async def test_a_429_holds_the_account_for_as_long_as_the_portal_asked(make_runner, sandbox, portal):
    samples = sample_members(sandbox.dataset, EXAMPLE_CARRIER, 4)
    async with make_runner() as runner:
        first = await runner.eligibility(EXAMPLE_CARRIER, samples[0].query, account_label="frontdesk")
        assert first.outcome in (Outcome.FOUND, Outcome.NOT_FOUND), first.reason
        # From now on the sandbox answers a session's second request in a minute with 429, Retry-After: 60.
        portal.update_faults({"rate_limit": 1})
        limited = await runner.eligibility(EXAMPLE_CARRIER, samples[1].query, account_label="frontdesk")
        assert limited.outcome is Outcome.RETRY_LATER and limited.reason_code == "rate_limited", limited.reason
        assert limited.retry_after_seconds == 60 and "wait 60 s" in (limited.reason or "")

        # The portal would answer again (the fault is gone), but it asked for a minute: we do not ask.
        portal.update_faults({"rate_limit": None})
        asked_before = portal.stats()["totals"]["requests"]
        held = await runner.eligibility(EXAMPLE_CARRIER, samples[2].query, account_label="frontdesk")
        assert held.outcome is Outcome.RETRY_LATER and held.reason_code == "rate_limited", held.reason
        assert held.retry_after_seconds is not None and 0 < held.retry_after_seconds <= 60
        assert "frontdesk" in (held.reason or "") and portal.stats()["totals"]["requests"] == asked_before

        # A lookup that names no account goes to the one the portal has not asked to wait.
        other = await runner.eligibility(EXAMPLE_CARRIER, samples[3].query)
        assert other.outcome in (Outcome.FOUND, Outcome.NOT_FOUND) and other.account_label == "billing", other.reason
