""""Sign in now": the worklist's button for an account waiting for a person, the sign-in page, its job page
and the API (POST /api/signin, GET /api/signin/{id}, the code endpoints), and the code a person types for a
desk lookup's sign-in.

Most tests drive the app with a stand-in runner whose sign-in asks the person for a code exactly as the real
one does (`WaitingPerson.code`) and records what it was given; `test_real_sandbox_*` signs a Crossway account
in against the sandbox (Crossway ID sending the code by text message), with the real runner and browser.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from aggregator.errors import Outcome
from aggregator.human_steps import HumanStep, Person, Prompt
from aggregator.models import EligibilityRecord
from aggregator.runner import LookupResult, Runner, SignInOutcome
from aggregator.settings import Settings
from aggregator.store import Repository, budgets, new_id
from aggregator.store import web as web_store
from aggregator.store.tables import AppointmentRow, BatchItemRow
from aggregator.web import create_app
from aggregator.web.auth import hash_password, keyed_hash, load_secret_key, new_api_token
from sandbox import ground_truth
from sandbox.accounts import vault_inputs
from sandbox.crossway import truth
from tests.e2e.fixtures import QUIET_TIME
from tests.web.conftest import Seed, login, page_token
from tests.web.server import serving
from vault import MasterKey, Vault

CODE = "246810"
WHERE_IT_WENT = "We sent a 6-digit code by text message to (•••) •••-0142."
DEADLINE_SECONDS = 20


@dataclass
class StandInRunner:
    """The runner's side of an attended sign-in and of a lookup whose sign-in sends a code: it asks the person
    and keeps what they answered (no portal: the web layer is what is tested here)."""

    lookup_id: str
    rerun: int = 2
    step: HumanStep = HumanStep.CODE_BY_TEXT
    answers: list[str | None] = field(default_factory=list)
    after_sign_in: list[Callable[..., Any]] = field(default_factory=list)

    async def _ask(self, person: Person) -> str | None:
        prompt = Prompt(self.step, "Ridgeline Mutual", WHERE_IT_WENT, datetime.now(UTC) + timedelta(seconds=60))
        if self.step is HumanStep.PUSH_APPROVAL:
            await person.approve(prompt)
            return None
        answer = await person.code(prompt)
        self.answers.append(answer)
        return answer

    async def sign_in(self, portal: str, label: str, person: Person) -> SignInOutcome:
        if await self._ask(person) != CODE:
            person.done("That code is not correct.")
            return SignInOutcome(False, "Ridgeline Mutual did not accept the code", HumanStep.CODE_REFUSED.value)
        person.done(None)
        return SignInOutcome(True, rerun=self.rerun)

    async def eligibility(self, carrier: str, query: Any, *, person: Person | None = None, **_: Any) -> LookupResult:
        assert person is not None, "an inline desk lookup has a person at the screen"
        await self._ask(person)
        return LookupResult(lookup_id=self.lookup_id, carrier=carrier, outcome=Outcome.FOUND)


@pytest.fixture
def stand_in(seed: Seed) -> StandInRunner:
    return StandInRunner(lookup_id=seed.lookup_id)


@pytest.fixture
def app(seed: Seed, stand_in: StandInRunner):  # type: ignore[no-untyped-def]
    async def provider() -> StandInRunner:
        return stand_in

    return create_app(seed.settings, runner_provider=provider)  # type: ignore[arg-type]


def account_id(seed: Seed, portal: str, label: str) -> str:
    vault = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings))
    account = vault.find(portal, label)
    assert account is not None
    return account.account_id


def wait_for(read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll a status until `done` says so (the job runs in the app's loop); fail after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        status = read()
        if done(status):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def test_worklist_offers_sign_in_now_for_an_account_waiting_for_a_code_only(client, seed: Seed):
    repository = seed.repository
    ridgeline = budgets.AccountRef(account_id(seed, "ridgeline", "frontdesk"), "ridgeline", "frontdesk")
    bluepeak = budgets.AccountRef(account_id(seed, "bluepeak", "billing"), "bluepeak", "billing")
    budgets.record_notice(repository, ridgeline, HumanStep.CODE_BY_TEXT.value, "the portal sent a code by text", None)
    budgets.record_notice(repository, bluepeak, "password_expiring", "your password expires soon", datetime.now(UTC).date())
    login(client, "staff")
    page = client.get("/worklist").text
    assert 'href="/signin/ridgeline/frontdesk">Sign in now</a>' in page
    assert "/signin/bluepeak/billing" not in page  # a password notice is not cleared by signing in

    form = client.get("/signin/ridgeline/frontdesk")
    assert form.status_code == 200
    assert "Sign in to Ridgeline Mutual as “frontdesk”" in form.text and "Code by text message" in form.text
    assert 'id="signin-start"' in form.text
    assert client.get("/signin/ridgeline/nobody").status_code == 404
    assert client.get("/signin/nowhere/frontdesk").status_code == 404


def test_sign_in_now_asks_for_the_code_and_reports_the_rerun(client, seed: Seed, stand_in: StandInRunner):
    login(client, "staff")
    started = client.post("/signin/ridgeline/frontdesk", data={"csrf_token": page_token(client)}, follow_redirects=False)
    assert started.status_code == 303
    job_url = started.headers["location"]
    assert job_url.startswith("/signin/jobs/")
    status = wait_for(lambda: client.get(job_url + "/status").json(), lambda s: s["prompt"] is not None)
    assert status["state"] == "running"
    assert status["prompt"]["step"] == "code_by_text" and status["prompt"]["message"] == WHERE_IT_WENT
    assert 0 < status["prompt"]["seconds_left"] <= 60
    page = client.get(job_url).text
    assert 'id="signin-code"' in page and 'autocomplete="one-time-code"' in page and 'id="signin-code-submit"' in page
    assert f'action="{job_url}/code"' in page

    sent = client.post(job_url + "/code", data={"csrf_token": page_token(client), "code": f" {CODE} "},
                       follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == job_url
    status = wait_for(lambda: client.get(job_url + "/status").json(), lambda s: s["state"] != "running")
    assert status["state"] == "done" and status["signed_in"] and status["rerun"] == 2 and status["prompt"] is None
    assert stand_in.answers == [CODE]  # the runner got exactly what was typed (trimmed), once
    assert len(stand_in.after_sign_in) == 1  # the app installed the re-run hook on its runner
    result = client.get(job_url).text
    assert "Signed in. 2 blocked checks were run again." in result
    # The code went to the sign-in only: no page, status or stored byte holds it.
    assert CODE not in result and CODE not in str(status)
    for path in seed.settings.resolved_data_dir.rglob("*"):
        if path.is_file():
            assert CODE.encode() not in path.read_bytes(), path


def test_a_refused_code_says_what_to_do_and_a_late_code_is_not_used(client, stand_in: StandInRunner):
    login(client, "staff")
    job_url = client.post("/signin/ridgeline/frontdesk", data={"csrf_token": page_token(client)},
                          follow_redirects=False).headers["location"]
    wait_for(lambda: client.get(job_url + "/status").json(), lambda s: s["prompt"] is not None)
    client.post(job_url + "/code", data={"csrf_token": page_token(client), "code": "111111"})
    status = wait_for(lambda: client.get(job_url + "/status").json(), lambda s: s["state"] != "running")
    assert status["state"] == "failed" and status["reason_code"] == "code_refused"
    assert status["person_message"] == "That code is not correct."
    page = client.get(job_url).text
    assert "Not signed in: Ridgeline Mutual did not accept the code" in page
    assert "did not accept the code (wrong, or entered after it expired)" in page  # human_steps' what to do
    assert 'href="/signin/ridgeline/frontdesk">Sign in again' in page

    late = client.post(job_url + "/code", data={"csrf_token": page_token(client), "code": CODE}, follow_redirects=False)
    assert late.headers["location"] == job_url + "?code=late"
    assert 'id="code-late"' in client.get(late.headers["location"]).text
    assert stand_in.answers == ["111111"]  # the late code went nowhere


def test_api_sign_in_and_its_code(client, seed: Seed, stand_in: StandInRunner):
    staff = {"Authorization": f"Bearer {seed.api_tokens['staff']}"}
    admin = {"Authorization": f"Bearer {seed.api_tokens['admin']}"}
    assert client.post("/api/signin", json={"portal": "ridgeline", "account": "nobody"}, headers=staff).status_code == 404
    started = client.post("/api/signin", json={"portal": "ridgeline", "account": "frontdesk"}, headers=staff)
    assert started.status_code == 202
    job = started.json()
    assert started.headers["location"] == f"/api/signin/{job['id']}" and job["state"] == "running"

    def read() -> dict[str, Any]:
        return client.get(f"/api/signin/{job['id']}", headers=staff).json()

    waiting = wait_for(read, lambda s: s["prompt"] is not None)
    assert waiting["prompt"] == {"step": "code_by_text", "portal": "Ridgeline Mutual", "message": WHERE_IT_WENT,
                                 "seconds_left": waiting["prompt"]["seconds_left"]}
    # The same account again: the sign-in under way, not a second one (which would send another code).
    assert client.post("/api/signin", json={"portal": "ridgeline", "account": "frontdesk"},
                       headers=staff).json()["id"] == job["id"]
    assert client.post(f"/api/signin/{job['id']}/code", json={"code": CODE}, headers=staff).status_code == 202
    done = wait_for(read, lambda s: s["state"] != "running")
    assert done["signed_in"] and done["rerun"] == 2 and done["message"] == "Signed in. 2 blocked checks were run again."
    assert client.post(f"/api/signin/{job['id']}/code", json={"code": CODE}, headers=staff).status_code == 409
    assert client.get(f"/api/signin/{job['id']}", headers=admin).status_code == 200  # admins see every job
    assert stand_in.answers == [CODE]
    schema = client.get("/api/openapi.json", headers=staff).json()
    assert {"/api/signin", "/api/signin/{job_id}", "/api/signin/{job_id}/code",
            "/api/lookups/{job_id}/code"} <= set(schema["paths"])


def test_someone_elses_sign_in_is_not_found(client, seed: Seed):
    login(client, "staff")
    job_url = client.post("/signin/ridgeline/frontdesk", data={"csrf_token": page_token(client)},
                          follow_redirects=False).headers["location"]
    client.post("/logout", data={"csrf_token": page_token(client)})
    login(client, "victim")
    assert client.get(job_url).status_code == 404
    assert client.get(job_url + "/status").status_code == 404
    assert client.post(job_url + "/code", data={"csrf_token": page_token(client), "code": CODE}).status_code == 404
    # Starting one for the same account while the other waits: refused, not joined.
    assert client.post("/signin/ridgeline/frontdesk", data={"csrf_token": page_token(client)},
                       follow_redirects=False).status_code == 409


def test_a_desk_lookup_asks_for_the_code_on_its_page_and_through_the_api(client, seed: Seed, stand_in: StandInRunner):
    staff = {"Authorization": f"Bearer {seed.api_tokens['staff']}"}
    body = {"carrier": "ridgeline", "member_id": "RM1", "date_of_birth": "1990-01-01", "service_date": "2026-11-27"}
    job = client.post("/api/lookups", json=body, headers=staff).json()

    def read() -> dict[str, Any]:
        return client.get(f"/api/lookups/jobs/{job['id']}", headers=staff).json()

    waiting = wait_for(read, lambda s: s["prompt"] is not None)
    assert waiting["prompt"]["step"] == "code_by_text" and waiting["state"] == "running"
    assert client.post(f"/api/lookups/{job['id']}/code", json={"code": CODE}, headers=staff).status_code == 202
    done = wait_for(read, lambda s: s["state"] in ("done", "failed"))
    assert done["state"] == "done" and done["outcomes"] == {"eligibility": "found"} and done["prompt"] is None
    assert client.post(f"/api/lookups/{job['id']}/code", json={"code": CODE}, headers=staff).status_code == 409
    assert stand_in.answers == [CODE]

    # The page: the code form while the job waits for one, posted like any form.
    login(client, "staff")
    page_job = client.post("/lookups", data={**body, "checks": "eligibility", "csrf_token": page_token(client)},
                           follow_redirects=False).headers["location"]
    wait_for(lambda: client.get(page_job + "/status").json(), lambda s: s["prompt"] is not None)
    assert 'id="signin-code"' in client.get(page_job).text
    sent = client.post(page_job + "/code", data={"csrf_token": page_token(client), "code": CODE}, follow_redirects=False)
    assert sent.headers["location"] == page_job
    wait_for(lambda: client.get(page_job + "/status").json(), lambda s: s["state"] == "done")
    assert stand_in.answers == [CODE, CODE]


def test_push_approval_shows_the_phone_text_not_the_form(client, stand_in: StandInRunner):
    stand_in.step = HumanStep.PUSH_APPROVAL
    stand_in.sign_in = push_sign_in(stand_in)  # type: ignore[method-assign]
    login(client, "staff")
    job_url = client.post("/signin/ridgeline/frontdesk", data={"csrf_token": page_token(client)},
                          follow_redirects=False).headers["location"]
    status = wait_for(lambda: client.get(job_url + "/status").json(), lambda s: s["prompt"] is not None)
    assert status["prompt"]["step"] == "push_approval"
    page = client.get(job_url).text
    assert '<p id="push-waiting">Approve the sign-in request on your phone</p>' in page
    assert '<form id="code-form" class="code-form" method="post" action="' + job_url + '/code" hidden>' in page
    stand_in.approved.set()  # type: ignore[attr-defined]
    wait_for(lambda: client.get(job_url + "/status").json(), lambda s: s["state"] == "done")


def push_sign_in(stand_in: StandInRunner) -> Callable[..., Any]:
    """A sign-in that waits for the phone's approval (the test, in another thread, approves it)."""
    import threading

    approved = threading.Event()
    stand_in.approved = approved  # type: ignore[attr-defined]

    async def sign_in(portal: str, label: str, person: Person) -> SignInOutcome:
        await stand_in._ask(person)
        while not approved.is_set():
            await asyncio.sleep(0.02)
        person.done(None)
        return SignInOutcome(True, rerun=0)

    return sign_in


# --- the real thing: Crossway ID texts a code, the API signs the account in, the blocked item runs again ---------

@pytest.mark.e2e
async def test_real_sandbox_sign_in_through_the_api_reruns_the_blocked_item(tmp_path, sandbox, browser_pool, portals):
    hub = sandbox.hubs["crossway"]
    username = next(a.username for a in hub.directory.accounts if a.role == "frontdesk")
    settings = Settings(data_dir=tmp_path / "data")
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)
    user = web_store.add_user(repository, username="dana", display_name="Dana", role="staff",
                              password_hash=hash_password("front-desk-password-1"))
    token = new_api_token()
    web_store.add_token(repository, user_id=user.id, name="test",
                        token_hash=keyed_hash(load_secret_key(settings.resolved_web_secret_key_file), token))
    key = MasterKey.generate()
    key.write_key_file(settings.resolved_data_dir / "vault.key")
    Vault.create(settings.resolved_vault_path, key).upsert_accounts(vault_inputs(sandbox.dataset, list(sandbox.urls)))
    (settings.resolved_data_dir / "routing.json").write_text(json.dumps(
        {"payers": {"harborview": {"portals": ["crossway"], "accounts": {"crossway": ["frontdesk"]}}}}))
    sample = ground_truth.sample_members(hub.hub, "harborview", 1, kinds=("active_subscriber",))[0]
    now = datetime.now(UTC)
    item_id = new_id()
    with repository.session() as s:  # last night's item for that member, blocked: Crossway ID texted a code
        s.add(AppointmentRow(id="appt-1", starts_at=now, service_date=sample.query.service_date,
                             patient_last_name=sample.expected.member.last_name,
                             patient_first_name=sample.expected.member.first_name,
                             patient_dob=sample.query.date_of_birth, carrier="harborview",
                             member_id=sample.query.member_id, source="test.csv", fingerprint="0" * 64,
                             imported_at=now, updated_at=now))
        s.commit()
        s.add(BatchItemRow(id=item_id, batch_date=QUIET_TIME.date(), appointment_id="appt-1", carrier="harborview",
                           account_label="frontdesk", state="needs_human", reason_code="code_by_text", attempts=1,
                           finished_at=now, updated_at=now))
        s.commit()
    runner = Runner(settings=settings, repository=Repository.open(settings.resolved_database_url),
                    vault=Vault.open(settings.resolved_vault_path, MasterKey.resolve(settings)), pool=browser_pool,
                    base_urls=sandbox.urls, clock=lambda: QUIET_TIME)

    async def provider() -> Runner:
        return runner

    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=hub.idp_url) as idp, \
                serving(create_app(settings, runner_provider=provider)) as base, \
                httpx.AsyncClient(base_url=base, headers=headers) as api:
            assert (await idp.post("/_sandbox/second-factor", json={"username": username, "kind": "sms"})).status_code == 200

            async def poll(job_id: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
                deadline = time.monotonic() + 60
                while True:
                    status = (await api.get(f"/api/signin/{job_id}")).json()
                    if done(status):
                        return status
                    assert time.monotonic() < deadline, status
                    await asyncio.sleep(0.05)

            started = await api.post("/api/signin", json={"portal": "crossway", "account": "frontdesk"})
            assert started.status_code == 202, started.text
            job = started.json()
            waiting = await poll(job["id"], lambda s: s["prompt"] is not None or s["state"] != "running")
            assert waiting["prompt"] is not None, waiting
            assert waiting["prompt"]["step"] == "code_by_text" and "text message" in waiting["prompt"]["message"]
            messages = (await idp.get("/_sandbox/outbox", params={"username": username})).json()["messages"]
            assert len(messages) == 1
            sent = await api.post(f"/api/signin/{job['id']}/code", json={"code": messages[0]["code"]})
            assert sent.status_code == 202
            done = await poll(job["id"], lambda s: s["state"] != "running")
    finally:
        await runner.close()
    assert done["signed_in"] and done["rerun"] == 1, done
    assert done["message"] == "Signed in. 1 blocked check was run again."
    item = web_store.batch_item(repository, item_id)
    assert item is not None and item.state == "verified" and item.eligibility_lookup_id
    stored = repository.records_for_lookup(item.eligibility_lookup_id)
    assert isinstance(stored[0], EligibilityRecord)
    assert [r.without_provenance() for r in stored] == [truth.eligibility(hub.hub, "harborview", sample.query)]
    assert hub.idp.stats()["accounts"][username]["successful_logins"] == 1  # one sign-in served both
    assert hub.idp.stats()["totals"]["codes_sent"] == 1


def test_a_blocked_worklist_item_links_where_the_person_acts(client, seed: Seed):
    """A needs-human item shows the taxonomy's page beside its action: the attended sign-in for a code (staff
    and admins), the account's admin page for a password (admins only: staff could not open it)."""
    from aggregator.store.tables import LookupRow

    with seed.repository.session() as s:
        item = s.get(BatchItemRow, seed.item_id)
        lookup = s.get(LookupRow, seed.lookup_id)
        assert item is not None and lookup is not None
        item.state, item.reason_code, item.action = "needs_human", "code_by_text", "Sign in to Ridgeline Mutual now"
        lookup.account_label = "frontdesk"
        s.add(item)
        s.add(lookup)
        s.commit()
        day = s.get(AppointmentRow, seed.appointment_id).service_date  # type: ignore[union-attr]
    login(client, "staff")
    page = client.get(f"/worklist?date={day.isoformat()}").text
    assert '<a class="person-step-link" href="/signin/ridgeline/frontdesk">Sign in now</a>' in page

    with seed.repository.session() as s:
        item = s.get(BatchItemRow, seed.item_id)
        item.reason_code = "password_expired"  # type: ignore[union-attr]
        s.add(item)
        s.commit()
    assert "person-step-link" not in client.get(f"/worklist?date={day.isoformat()}").text
    client.post("/logout", data={"csrf_token": page_token(client)})
    login(client, "admin")
    page = client.get(f"/worklist?date={day.isoformat()}").text
    assert '<a class="person-step-link" href="/admin/accounts/ridgeline/frontdesk">Password expired</a>' in page
