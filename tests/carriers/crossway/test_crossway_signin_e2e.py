"""Crossway sign-in end to end, the adapter on a session of its own (real Chromium, the hub and Crossway ID on
loopback): the password warning becomes an account notice; a sign-in whose `state` comes back altered is
refused and reported with evidence, never taken as signed in."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from pydantic import SecretStr

from aggregator.browser import CapturedPage, PortalSession
from aggregator.errors import PortalUnavailable
from aggregator.models import EligibilityRecord
from aggregator.scrapers.crossway import CrosswayAdapter
from aggregator.scrapers.framework import Credentials
from sandbox import ground_truth
from sandbox.crossway import truth
from sandbox.crossway.server import vault_accounts


async def _session(browser_pool: Any, hub: Any, captured: list[CapturedPage]) -> PortalSession:
    async def sink(page: CapturedPage) -> str:
        captured.append(page)
        return f"evidence-{len(captured)}"

    return await PortalSession.open(browser_pool, base_url=hub.hub_url, carrier="crossway", account_label="frontdesk",
                                    evidence_sink=sink)


def _credentials(hub: Any) -> Credentials:
    account = next(a for a in vault_accounts(hub.dataset) if a.label == "frontdesk")
    # A TOTP step of its own for this test (the clock only moves forward): no code is ever used twice.
    offset = hub.idp.advance_totp_clock(to_offset=hub.idp.advance_totp_clock(to_offset=0) + 90)

    async def next_totp() -> str:
        return pyotp.TOTP(account.totp_secret).at(int(time.time() + offset))

    return Credentials(username=SecretStr(account.username), password=SecretStr(account.password),
                       totp_secret=SecretStr(account.totp_secret), next_totp=next_totp, tax_id=account.tax_id,
                       npi=account.npi)


async def test_password_warning_becomes_an_account_notice(browser_pool, hub):
    captured: list[CapturedPage] = []
    session = await _session(browser_pool, hub, captured)
    try:
        adapter = CrosswayAdapter(session, _credentials(hub), payer="harborview")
        await adapter.login()
        sample = ground_truth.sample_members(hub.hub, "harborview", 1, kinds=("active_subscriber",))[0]
        answer = await adapter.check_eligibility(sample.query)
    finally:
        await session.close()
    assert isinstance(answer, EligibilityRecord)
    assert answer.without_provenance() == truth.eligibility(hub.hub, "harborview", sample.query)
    user = next(a.username for a in hub.directory.accounts if a.role == "frontdesk")
    days_left = hub.idp.stats()["accounts"][user]["password_days_left"]
    assert [(n.kind, (n.due - hub.hub.calendar.today()).days) for n in adapter.notices] == [
        ("password_expiring", days_left)]
    assert user not in adapter.notices[0].message  # the warning names no user (nor any member)


async def test_a_state_mismatch_is_refused_and_reported(browser_pool, hub):
    captured: list[CapturedPage] = []
    session = await _session(browser_pool, hub, captured)

    async def tamper(route: Any) -> None:
        """Crossway ID's answer to the form post that ends its sign-in (302 back to the hub) with the
        `state` altered on the way, as an attacker or a bug would."""
        if route.request.method != "POST":
            await route.continue_()
            return
        response = await route.fetch(max_redirects=0)
        headers = dict(response.headers)
        if "oidc/callback" in headers.get("location", ""):
            headers["location"] = re.sub(r"state=[^&]+", "state=tampered", headers["location"])
        await route.fulfill(response=response, headers=headers)

    await session._page.route(re.compile(r".*/(mfa|consent)$"), tamper)
    try:
        adapter = CrosswayAdapter(session, _credentials(hub), payer="ridgeline")
        with pytest.raises(PortalUnavailable, match="could not verify the sign-in") as refused:
            await adapter.login()
    finally:
        await session.close()
    assert refused.value.evidence_ids and "Sign-in Error" in captured[-1].html
    assert hub.hub.stats()["totals"]["state_mismatches"] == 1
    assert not [s for s in hub.hub.stats()["sessions"] if s["stage"] == "auth"]  # nobody signed in
