"""A person in the loop, in a real Chromium against the running app and the sandbox's Crossway (hub and Crossway
ID on loopback): a staff member's lookup for a payer served through Crossway meets Crossway ID's second factor,
and the job page asks the person. A code by text message: the page shows the code form, the test reads the
code from the sandbox's outbox and types it, and the answer and its screenshot appear, equal to the hub's
ground truth. A push request: the page says to approve it on the phone; the test approves it at the sandbox;
the answer appears. A wrong code: one attempt, a clear message and what to do, and Crossway ID locks nothing.

Every wait is for a state (a selector, the outbox holding a code), never for time.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from aggregator.runner import Runner
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import web as store
from aggregator.web import create_app
from aggregator.web.auth import hash_password
from sandbox import ground_truth
from sandbox.accounts import vault_inputs
from sandbox.crossway import truth
from tests.e2e.fixtures import QUIET_TIME
from tests.web.server import serving
from vault import MasterKey, Vault

pytestmark = pytest.mark.e2e
PASSWORD = "front-desk-password-1"
PAYER = "harborview"  # served through Crossway only
LABEL = "frontdesk"
WAIT_MS = 60_000


@dataclass
class Desk:
    page: Any  # a Playwright page signed in as staff
    base: str
    repository: Repository
    idp: httpx.AsyncClient  # Crossway ID's sandbox controls
    username: str  # the Crossway ID user of the `frontdesk` account


def prepare(settings: Settings, sandbox: Any) -> Repository:
    """A data directory with a staff user, the sandbox's accounts in the vault (no saved session, no remembered
    device), and the payer routed to Crossway's `frontdesk` account only."""
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)
    store.add_user(repository, username="dana", display_name="Dana", role="staff", password_hash=hash_password(PASSWORD))
    key = MasterKey.generate()
    key.write_key_file(settings.resolved_data_dir / "vault.key")
    Vault.create(settings.resolved_vault_path, key).upsert_accounts(vault_inputs(sandbox.dataset, list(sandbox.urls)))
    (settings.resolved_data_dir / "routing.json").write_text(json.dumps(
        {"payers": {PAYER: {"portals": ["crossway"], "accounts": {"crossway": [LABEL]}}}}))
    return repository


@asynccontextmanager
async def desk(tmp_path: Any, sandbox: Any, browser_pool: Any, second_factor: str) -> AsyncIterator[Desk]:
    hub = sandbox.hubs["crossway"]
    username = next(a.username for a in hub.directory.accounts if a.role == LABEL)
    settings = Settings(data_dir=tmp_path / "data")
    repository = prepare(settings, sandbox)
    runners: list[Runner] = []

    async def provider() -> Runner:
        if not runners:
            runners.append(Runner(settings=settings, repository=Repository.open(settings.resolved_database_url),
                                  vault=Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings)),
                                  pool=browser_pool, base_urls=sandbox.urls, clock=lambda: QUIET_TIME))
        return runners[0]

    context = await browser_pool.new_context()
    try:
        async with httpx.AsyncClient(base_url=hub.idp_url) as idp, serving(create_app(settings, runner_provider=provider)) as base:
            chosen = await idp.post("/_sandbox/second-factor", json={"username": username, "kind": second_factor})
            assert chosen.status_code == 200 and chosen.json()["kind"] == second_factor
            page = await context.new_page()
            await page.goto(base + "/")
            await page.fill("input[name=username]", "dana")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(re.compile(r".*/worklist.*"))
            yield Desk(page=page, base=base, repository=repository, idp=idp, username=username)
    finally:
        await context.close()
        for runner in runners:
            await runner.close()


def member(sandbox: Any) -> ground_truth.MemberSample:
    return ground_truth.sample_members(sandbox.hubs["crossway"].hub, PAYER, 1, kinds=("active_subscriber",))[0]


async def start_lookup(desk: Desk, sample: ground_truth.MemberSample) -> None:
    page = desk.page
    await page.goto(desk.base + "/lookups/new")
    await page.select_option("select[name=carrier]", PAYER)
    await page.fill("input[name=member_id]", sample.query.member_id)
    await page.fill("input[name=date_of_birth]", sample.query.date_of_birth.isoformat())
    await page.fill("input[name=service_date]", sample.query.service_date.isoformat())
    await page.click("form.lookup-form button[type=submit]")
    await page.wait_for_url(re.compile(r".*/lookups/jobs/[0-9a-f]{32}$"))


async def texted_code(desk: Desk) -> str:
    """The newest code Crossway ID texted the user, once it has sent one."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        messages = (await desk.idp.get("/_sandbox/outbox", params={"username": desk.username})).json()["messages"]
        if messages:
            assert [m["channel"] for m in messages] == ["sms"]  # one code per sign-in
            return str(messages[-1]["code"])
        assert time.monotonic() < deadline, "Crossway ID sent no code"
        await asyncio.sleep(0.05)


async def shows_the_truth(desk: Desk, sample: ground_truth.MemberSample, hub: Any) -> None:
    """The finished page: done, the record stored equals the hub's ground truth, its screenshot loads."""
    page = desk.page
    await page.wait_for_selector("#result-state", timeout=WAIT_MS)
    assert "done" in await page.inner_text("#result-state")
    expected = truth.eligibility(hub.hub, PAYER, sample.query)
    lookup_id = re.search(r"/lookups/([0-9a-f]{32})", await page.content()).group(1)  # type: ignore[union-attr]
    stored = desk.repository.records_for_lookup(lookup_id)
    assert [r.without_provenance() for r in stored] == [expected]
    body = await page.inner_text("main")
    assert expected.member.member_id in body and "ACTIVE" in body  # type: ignore[union-attr]
    image = page.locator(".thumbs img").first
    await image.wait_for()
    await image.evaluate("img => img.complete || new Promise(done => { img.onload = img.onerror = done; })")
    assert await image.evaluate("img => img.complete && img.naturalWidth > 100")


async def test_code_by_text_typed_on_the_job_page(tmp_path, sandbox, browser_pool, portals):
    hub = sandbox.hubs["crossway"]
    sample = member(sandbox)
    async with desk(tmp_path, sandbox, browser_pool, "sms") as d:
        await start_lookup(d, sample)
        code_box = d.page.locator("#signin-code")
        await code_box.wait_for(state="visible", timeout=WAIT_MS)
        assert "text message" in await d.page.inner_text("#prompt-message")
        assert await code_box.get_attribute("autocomplete") == "one-time-code"
        assert not await d.page.locator("#push-waiting").is_visible()
        code = await texted_code(d)
        await code_box.fill(code)
        await d.page.click("#signin-code-submit")
        await shows_the_truth(d, sample, hub)
        assert code not in await d.page.content()  # never echoed back
    totals = hub.idp.stats()["totals"]
    assert totals["codes_sent"] == 1 and totals["codes_wrong"] == 0
    assert hub.idp.stats()["accounts"][d.username]["successful_logins"] == 1


async def test_push_approved_on_the_phone(tmp_path, sandbox, browser_pool, portals):
    hub = sandbox.hubs["crossway"]
    sample = member(sandbox)
    async with desk(tmp_path, sandbox, browser_pool, "push") as d:
        await start_lookup(d, sample)
        waiting = d.page.locator("#push-waiting")
        await waiting.wait_for(state="visible", timeout=WAIT_MS)
        assert await waiting.inner_text() == "Approve the sign-in request on your phone"
        assert not await d.page.locator("#signin-code").is_visible()
        requests = (await d.idp.get("/_sandbox/push", params={"username": d.username})).json()["requests"]
        assert [r["status"] for r in requests] == ["pending"]
        approved = await d.idp.post("/_sandbox/push", json={"username": d.username, "decision": "approve"})
        assert approved.status_code == 200
        await shows_the_truth(d, sample, hub)
    assert hub.idp.stats()["totals"]["push_requests"] == 1


async def test_a_wrong_code_is_tried_once_and_says_what_to_do(tmp_path, sandbox, browser_pool, portals):
    hub = sandbox.hubs["crossway"]
    sample = member(sandbox)
    async with desk(tmp_path, sandbox, browser_pool, "sms") as d:
        await start_lookup(d, sample)
        code_box = d.page.locator("#signin-code")
        await code_box.wait_for(state="visible", timeout=WAIT_MS)
        right = await texted_code(d)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        await code_box.fill(wrong)
        await d.page.click("#signin-code-submit")
        await d.page.wait_for_selector("#result-state", timeout=WAIT_MS)
        body = await d.page.inner_text("main")
        assert "Code not accepted" in body and "Sign in again to get a new code" in body
        assert await d.page.locator("a.button[href='/signin/crossway/frontdesk']").count() == 1
        lookup_id = re.search(r"/lookups/([0-9a-f]{32})", await d.page.content()).group(1)  # type: ignore[union-attr]
        row = d.repository.get_lookup(lookup_id)
        assert row is not None and row.outcome == "needs_human" and row.reason_code == "code_refused"
        assert wrong not in await d.page.content() and right not in await d.page.content()
    account = hub.idp.stats()["accounts"][d.username]
    assert hub.idp.stats()["totals"]["codes_wrong"] == 1  # one attempt, never retried blindly
    assert not account["locked"] and account["successful_logins"] == 0
