"""On-demand lookups with dispatch `queue` (aggregator/dispatch/lookup_tasks.py), on the local PostgreSQL
(a throw-away database per test: conftest.py), without a browser: the web app stores the job and defers it
under a portal account's lock, a worker (here in this process, on a runner answering from the ground truth)
runs it, and the web app shows what the worker wrote. The same with the sandbox, Chromium and worker processes: test_web_queue_e2e.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from aggregator.dispatch.app import ensure_queue_schema, queue_conninfo
from aggregator.dispatch.locks import account_lock
from aggregator.dispatch.lookup_tasks import DESK_PRIORITY, QUEUED_STEP, TASK_NAME
from aggregator.dispatch.worker import run_worker
from aggregator.settings import Settings
from aggregator.store.tables import WebhookEventRow
from aggregator.web import create_app
from aggregator.webhooks import endpoints
from tests.unit.test_capabilities import DAY, PortalRunner, active_members
from tests.web.conftest import Seed, login, no_runner, page_token, seed_data
from vault.configured import open_vault


@pytest.fixture
def queued(tmp_path: Path, postgres_url: str) -> Seed:
    return seed_data(Settings(data_dir=tmp_path / "data", database_url=postgres_url, dispatch="queue"))


@pytest.fixture
def client(queued: Seed) -> Iterator[TestClient]:
    # No runner for the app: with dispatch `queue` the web process never runs a lookup itself.
    with TestClient(create_app(queued.settings, runner_provider=no_runner), base_url="http://127.0.0.1") as client:
        yield client


def queue_jobs(settings: Settings) -> list[dict]:
    ensure_queue_schema(settings)  # when nothing was queued yet
    with psycopg.connect(queue_conninfo(settings)) as connection:
        rows = connection.execute("SELECT task_name, lock, priority, args, status FROM procrastinate_jobs "
                                  "ORDER BY id").fetchall()
    return [dict(zip(("task_name", "lock", "priority", "args", "status"), row, strict=True)) for row in rows]


def desk_request(member, checks=("eligibility",)) -> dict:  # type: ignore[no-untyped-def]
    return {"carrier": "ridgeline", "member_id": member.member_id, "date_of_birth": member.date_of_birth.isoformat(),
            "service_date": DAY.isoformat(), "checks": list(checks), "last_name": member.last_name}


def bearer(seed: Seed, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seed.api_tokens[role]}"}


async def test_a_desk_lookup_is_queued_under_an_account_lock_and_the_page_shows_what_the_worker_did(
        queued: Seed, client: TestClient) -> None:
    member = active_members(1)[0]
    endpoints.register(queued.repository, url="http://127.0.0.1:9/hook", role="staff", event_types=["lookup.completed"])
    started = client.post("/api/lookups", json=desk_request(member), headers=bearer(queued, "staff"))
    assert started.status_code == 202, started.text
    job = started.json()
    assert (job["state"], job["step"], job["outcomes"]) == ("queued", QUEUED_STEP, {})
    # Both Ridgeline accounts are idle: the first in the vault's order; the queue's job names the job and the
    # account, never the member asked about.
    [queued_job] = queue_jobs(queued.settings)
    assert queued_job["task_name"] == TASK_NAME and queued_job["priority"] == DESK_PRIORITY
    assert queued_job["lock"] == account_lock("ridgeline", "billing")
    assert queued_job["args"] == {"job_id": job["id"], "account_label": "billing"}
    assert member.member_id not in json.dumps(queued_job["args"])
    assert client.get(started.headers["location"], headers=bearer(queued, "staff")).json()["state"] == "queued"

    runner = PortalRunner(queued.settings, queued.repository, open_vault(queued.settings))
    await run_worker(queued.settings, concurrency=1, wait=False, runner=runner)  # type: ignore[arg-type]

    done = client.get(started.headers["location"], headers=bearer(queued, "staff")).json()
    assert (done["state"], done["step"], done["outcomes"], done["error"]) == ("done", "done", {"eligibility": "found"},
                                                                               None)
    assert runner.calls == [("eligibility", "ridgeline")]
    lookup_id = done["lookup_ids"]["eligibility"]
    [record] = queued.repository.records_for_lookup(lookup_id)
    # The worker asked with the account the job's lock names.
    assert record.member.member_id == member.member_id and record.provenance.portal_account == "billing"
    with queued.repository.session() as session:
        events = session.exec(select(WebhookEventRow).where(WebhookEventRow.event_type == "lookup.completed")).all()
    assert [e.subject_id for e in events] == [job["id"]]  # the worker announced the end (webhooks)
    assert [j["status"] for j in queue_jobs(queued.settings) if j["task_name"] == TASK_NAME] == ["succeeded"]
    # Only the user who asked (or an admin) sees the job, as with inline dispatch.
    assert client.get(started.headers["location"], headers=bearer(queued, "auditor")).status_code == 403
    assert client.get(started.headers["location"], headers=bearer(queued, "admin")).json()["state"] == "done"


def test_the_form_queues_too_and_its_page_polls_the_stored_job(queued: Seed, client: TestClient) -> None:
    member = active_members(1)[0]
    login(client, "staff")
    form = {key: value for key, value in desk_request(member).items() if key != "checks"}
    response = client.post("/lookups", data={**form, "checks": "eligibility", "csrf_token": page_token(client)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[1]
    status = client.get(f"/lookups/jobs/{job_id}/status").json()
    assert (status["id"], status["state"], status["step"]) == (job_id, "queued", QUEUED_STEP)
    assert client.get(f"/lookups/jobs/{job_id}").status_code == 200
    assert [j["args"]["job_id"] for j in queue_jobs(queued.settings)] == [job_id]
    login(client, "victim")  # another desk user: the job is answered as missing
    assert client.get(f"/lookups/jobs/{job_id}/status").status_code == 404


def test_a_desk_lookup_takes_the_account_with_the_least_work_queued(queued: Seed, client: TestClient) -> None:
    member = active_members(1)[0]
    first = client.post("/api/lookups", json=desk_request(member), headers=bearer(queued, "staff")).json()
    # The first job holds billing (as a worker running it would): the next desk lookup takes frontdesk.
    with psycopg.connect(queue_conninfo(queued.settings), autocommit=True) as connection:
        connection.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE args->>'job_id' = %s", (first["id"],))
    second = client.post("/api/lookups", json=desk_request(member), headers=bearer(queued, "staff")).json()
    # Both busy now (one running, one waiting): the third waits behind the waiting one, not the running one.
    third = client.post("/api/lookups", json=desk_request(member), headers=bearer(queued, "staff")).json()
    locks = {j["args"]["job_id"]: j["lock"] for j in queue_jobs(queued.settings)}
    assert locks == {first["id"]: account_lock("ridgeline", "billing"),
                     second["id"]: account_lock("ridgeline", "frontdesk"),
                     third["id"]: account_lock("ridgeline", "frontdesk")}


def test_a_lookup_that_cannot_run_ends_at_once_and_queues_nothing(queued: Seed, client: TestClient) -> None:
    member = active_members(1)[0]
    headers = bearer(queued, "staff")
    unknown = client.post("/api/lookups", json={**desk_request(member), "carrier": "nosuchcarrier"},
                          headers=headers).json()
    assert unknown["state"] == "failed" and "nosuchcarrier" in unknown["error"]
    # Summit declares eligibility only: asking it for authorizations alone needs no portal, no worker.
    summit = client.post("/api/lookups", json={**desk_request(member, ["authorizations"]), "carrier": "summit"},
                         headers=headers).json()
    assert summit["state"] == "done" and summit["outcomes"] == {"authorizations": "not_available"}
    vault = open_vault(queued.settings)
    for account in vault.accounts("ridgeline"):
        vault.freeze(account.account_id, "the portal rejected the password")
    frozen = client.post("/api/lookups", json=desk_request(member), headers=headers).json()
    assert frozen["state"] == "failed" and "frozen" in frozen["error"]
    assert member.member_id not in json.dumps([unknown, summit, frozen])
    for job in (unknown, summit, frozen):  # stored: the job's page reads them back
        assert client.get(f"/api/lookups/jobs/{job['id']}", headers=headers).json()["state"] == job["state"]
    assert queue_jobs(queued.settings) == []
