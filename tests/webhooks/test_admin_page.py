"""The admin page: admins only, CSRF on every form, URLs checked, the secret shown once and never again,
removal, and the delivery log (status, error class, duration; never a body or a secret)."""

from __future__ import annotations

import asyncio
import re

from fastapi.testclient import TestClient

from aggregator.webhooks import endpoints, events, outbox
from aggregator.webhooks.deliverer import WebhookDeliverer
from tests.web.conftest import Seed, csrf_of, login
from tests.webhooks.receiver import receiving
from tests.webhooks.test_delivery import terminal_item

SECRET_SHOWN = re.compile(r'<code class="secret-once">(whsec_[0-9a-f]{64})</code>')


def register(client: TestClient, csrf: str | None, **fields: object):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {"url": "https://pms.example.org/hooks", "role": "staff",
                               "event_types": ["appointment.checked", "lookup.completed"], **fields}
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post("/admin/webhooks", data=data, follow_redirects=False)


def test_staff_and_auditors_are_refused_and_anonymous_sent_to_sign_in(client: TestClient, seed: Seed):
    anonymous = client.get("/admin/webhooks", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for role in ("staff", "auditor"):
        login(client, role)
        assert client.get("/admin/webhooks").status_code == 403
        csrf = csrf_of(client.get("/lookups/new" if role == "staff" else "/audit/evidence").text)
        assert register(client, csrf).status_code == 403
        assert "/admin/webhooks" not in client.get("/lookups/new" if role == "staff" else "/audit/evidence").text
        client.post("/logout", data={"csrf_token": csrf})
    assert endpoints.endpoints(seed.repository) == []


def test_forms_without_the_csrf_token_are_refused(client: TestClient, seed: Seed):
    login(client, "admin")
    page = client.get("/admin/webhooks")
    assert page.status_code == 200 and 'href="/admin/webhooks"' in page.text  # in the admin's menu
    real = csrf_of(page.text)
    for token in (None, "", "0" * 64, real[:-1] + ("0" if real[-1] != "0" else "1")):
        assert register(client, token).status_code == 403
    assert endpoints.endpoints(seed.repository) == []
    kept = endpoints.register(seed.repository, url="https://pms.example.org/h", role="staff",
                              event_types=["lookup.completed"]).endpoint
    response = client.post(f"/admin/webhooks/{kept.id}/remove", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert response.status_code == 403 and [e.id for e in endpoints.endpoints(seed.repository)] == [kept.id]


def test_the_secret_is_shown_once_and_never_again(client: TestClient, seed: Seed):
    login(client, "admin")
    csrf = csrf_of(client.get("/admin/webhooks").text)
    answer = register(client, csrf, description="Practice PMS", role="auditor", event_types=["lookup.completed"])
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    shown = SECRET_SHOWN.findall(answer.text)
    assert len(shown) == 1
    [endpoint] = endpoints.endpoints(seed.repository)
    assert endpoint.secret == shown[0] and endpoint.role == "auditor" and endpoint.event_types == "lookup.completed"
    assert endpoint.created_by == "admin" and endpoint.description == "Practice PMS"
    later = client.get("/admin/webhooks")
    assert shown[0] not in later.text and shown[0][6:] not in later.text
    assert "https://pms.example.org/hooks" in later.text and "Practice PMS" in later.text
    # Nowhere else either: not the API (an admin's token), not another admin page.
    headers = {"Authorization": f"Bearer {seed.api_tokens['admin']}"}
    for path in ("/api/openapi.json", "/api/me"):
        assert shown[0] not in client.get(path, headers=headers).text
    assert shown[0] not in client.get("/admin/users").text
    # A second registration gets a different secret.
    again = SECRET_SHOWN.findall(register(client, csrf).text)
    assert len(again) == 1 and again[0] != shown[0]


def test_bad_registrations_say_why_and_store_nothing(client: TestClient, seed: Seed):
    login(client, "admin")
    csrf = csrf_of(client.get("/admin/webhooks").text)
    for fields, why in (({"url": "https://me:hunter22@pms.example.org/h"}, "user name or password"),
                        ({"url": "ftp://pms.example.org/h"}, "http:// or https://"),
                        ({"url": ""}, "empty"),
                        ({"role": "superuser"}, "role must be one of"),
                        ({"event_types": []}, "at least one event type")):
        answer = register(client, csrf, **fields)
        assert answer.status_code == 422 and why in answer.text, fields
        assert "hunter22" not in answer.text and not SECRET_SHOWN.search(answer.text)
    assert endpoints.endpoints(seed.repository) == []


def test_remove_and_the_delivery_log(client: TestClient, seed: Seed):
    login(client, "admin")
    with receiving(statuses=[500]) as receiver:
        registered = endpoints.register(seed.repository, url=receiver.url, role="staff",
                                        event_types=["appointment.checked"])
        events.appointment_checked(seed.repository, terminal_item())
        asyncio.run(WebhookDeliverer(seed.repository, seed.settings.model_copy(update={
            "webhook_retry_base_seconds": 0.05, "webhook_poll_seconds": 0.05})).drain(30))
    page = client.get("/admin/webhooks").text
    log = page.split("<h2>Delivery log</h2>", 1)[1]
    assert log.count("<tr><td>") == 2 and "http_status" in log and ">500<" in log and ">200<" in log
    assert " ms<" in log and "appointment.checked" in log and "delivered" in log
    assert registered.secret not in page and "A-1001" not in page  # neither the secret nor a body
    csrf = csrf_of(page)
    removed = client.post(f"/admin/webhooks/{registered.endpoint.id}/remove", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert removed.status_code == 303
    assert endpoints.endpoints(seed.repository) == [] and outbox.delivery_log(seed.repository)  # the log stays
    assert "Removed endpoints" in client.get("/admin/webhooks").text
    missing = client.post("/admin/webhooks/no-such-endpoint/remove", data={"csrf_token": csrf}, follow_redirects=False)
    assert missing.status_code == 404
