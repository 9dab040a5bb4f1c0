"""The asynchronous lookup API: POST /api/lookups answers 202 with an id at once (the job has not run yet),
GET polls it to the end, the webhook `lookup.completed` announces that end (correctly signed, ids and links
only), and the OpenAPI schema documents both with examples."""

from __future__ import annotations

import asyncio
import json
import threading

from fastapi.testclient import TestClient

from aggregator.web import create_app
from aggregator.webhooks import endpoints
from aggregator.webhooks.deliverer import WebhookDeliverer
from tests.unit.test_capabilities import DAY, PortalRunner, active_members
from tests.web.conftest import Seed
from tests.webhooks.receiver import docs_verifier, receiving, wait_until


def test_post_answers_202_at_once_get_polls_and_the_webhook_announces_the_end(seed: Seed):
    runner = PortalRunner(seed.settings, seed.repository, None)  # type: ignore[arg-type]
    may_start = threading.Event()  # the job waits for the runner until the test has seen it queued

    async def provider():  # type: ignore[no-untyped-def]
        await asyncio.to_thread(may_start.wait, 60)
        return runner

    member = active_members(1)[0]
    request = {"carrier": "ridgeline", "member_id": member.member_id, "date_of_birth": member.date_of_birth.isoformat(),
               "service_date": DAY.isoformat(), "checks": ["eligibility"], "last_name": member.last_name}
    headers = {"Authorization": f"Bearer {seed.api_tokens['staff']}"}
    with receiving() as desk, receiving() as audit:
        desk_secret = endpoints.register(seed.repository, url=desk.url, role="staff",
                                         event_types=["lookup.completed"]).secret
        endpoints.register(seed.repository, url=audit.url, role="auditor", event_types=["lookup.completed"])
        with TestClient(create_app(seed.settings, runner_provider=provider), base_url="http://127.0.0.1") as client:
            started = client.post("/api/lookups", json=request, headers=headers)
            assert started.status_code == 202, started.text
            job = started.json()
            assert job["state"] == "queued" and job["outcomes"] == {} and len(job["id"]) == 32
            assert started.headers["location"] == f"/api/lookups/jobs/{job['id']}"
            polled = client.get(started.headers["location"], headers=headers).json()
            assert polled["state"] == "queued" and polled["id"] == job["id"]  # still waiting: it answered at once
            may_start.set()
            wait_until(lambda: client.get(started.headers["location"], headers=headers).json()["state"]
                       in ("done", "failed"), what="the job to end")
            done = client.get(started.headers["location"], headers=headers).json()
        assert done["state"] == "done" and done["outcomes"] == {"eligibility": "found"}
        lookup_id = done["lookup_ids"]["eligibility"]
        assert runner.calls == [("eligibility", "ridgeline")]
        # The app's job wrote the event to the outbox; a deliverer (as `aggregator serve` runs) sends it.
        assert asyncio.run(WebhookDeliverer(seed.repository, seed.settings).drain(30)) == 0
    [announced] = desk.requests
    assert docs_verifier()(desk_secret, announced.headers, announced.body)
    event = json.loads(announced.body)
    assert event["type"] == "lookup.completed" == announced.headers["Webhook-Event"]
    assert event["id"] == announced.headers["Webhook-Id"]
    data = event["data"]
    assert data["job_id"] == job["id"] and data["state"] == "done" and data["outcomes"] == {"eligibility": "found"}
    assert data["lookup_ids"] == {"eligibility": lookup_id} and data["carrier"] == "ridgeline"
    assert data["links"] == {"job": f"/api/lookups/jobs/{job['id']}", "eligibility_lookup": f"/api/lookups/{lookup_id}"}
    [audited] = audit.requests
    assert "job_id" not in json.loads(audited.body)["data"]  # auditors do not read lookup jobs
    for body in (announced.body.decode(), audited.body.decode()):  # no PHI: the member stays in the API
        for phi in (member.member_id, member.date_of_birth.isoformat(), member.last_name, member.first_name):
            assert phi not in body


def test_a_failed_job_is_announced_too(seed: Seed):
    async def broken():  # type: ignore[no-untyped-def]
        from aggregator.errors import ConfigurationError

        raise ConfigurationError("no portal runner in this test")

    with receiving() as receiver:
        endpoints.register(seed.repository, url=receiver.url, role="admin", event_types=["lookup.completed"])
        with TestClient(create_app(seed.settings, runner_provider=broken), base_url="http://127.0.0.1") as client:
            started = client.post("/api/lookups", headers={"Authorization": f"Bearer {seed.api_tokens['admin']}"},
                                  json={"carrier": "ridgeline", "member_id": "RM1", "date_of_birth": "1990-01-01",
                                        "service_date": DAY.isoformat()})
            assert started.status_code == 202
            client.portal.call(client.app.state.web.jobs.wait_all)  # type: ignore[union-attr]
        assert asyncio.run(WebhookDeliverer(seed.repository, seed.settings).drain(30)) == 0
    [announced] = receiver.requests
    data = json.loads(announced.body)["data"]
    assert data["state"] == "failed" and data["job_id"] == started.json()["id"] and data["lookup_ids"] == {}
    assert "RM1" not in announced.body.decode() and "no portal runner" not in announced.body.decode()


def test_the_openapi_schema_documents_the_asynchronous_api_with_examples(client: TestClient, seed: Seed):
    schema = client.get("/api/openapi.json", headers={"Authorization": f"Bearer {seed.api_tokens['staff']}"}).json()
    post = schema["paths"]["/api/lookups"]["post"]
    assert set(post["responses"]) >= {"202"} and "Location" in post["responses"]["202"]["headers"]
    assert post["responses"]["202"]["content"]["application/json"]["examples"]["queued"]["value"]["state"] == "queued"
    assert "lookup.completed" in post["description"]
    body_examples = post["requestBody"]["content"]["application/json"]["examples"]
    assert {"eligibility", "prior_auth"} <= set(body_examples)
    get = schema["paths"]["/api/lookups/jobs/{job_id}"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["examples"]["done"]["value"]["state"] == "done"
