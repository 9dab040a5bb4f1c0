"""Every route, every role: exactly the access it should have.

The expected matrix is written out here, route by route. A route added to the app without a line here
fails `test_every_route_has_an_expected_rule`, so nobody adds a page without deciding who may see it.
Anonymous requests are sent to the sign-in page (pages) or refused with 401 (API); signed-in users
without the role get 403. Form posts without the session's CSRF token are refused. No secret (portal
password, user name, TOTP seed, security answer, web password, session cookie, API token) appears in any
page or API answer.
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.routing import APIRoute

from aggregator.evidence import sha256_hex
from aggregator.store import web as store
from aggregator.store.tables import AppointmentRow
from aggregator.web.auth import rule_of
from tests.web.conftest import PASSWORDS, Seed, csrf_of, login

ROLES = ("admin", "staff", "auditor")
ORIGINAL_VIEWERS = ("admin", "auditor")  # see evidence as captured; staff get the masked copy
A, S, U = "admin", "staff", "auditor"
PUBLIC = "public"
METRICS = "metrics"  # /metrics: its own rule, `metrics_access` (tests/metrics/test_metrics_access.py)

# (method, path) -> who may use it
EXPECTED: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/login"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): METRICS,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): frozenset({A, S, U}),
    ("GET", "/"): frozenset({A, S, U}),
    ("GET", "/worklist"): frozenset({A, S}),
    ("GET", "/appointments/{appointment_id}"): frozenset({A, S}),
    ("POST", "/worklist/items/{item_id}/rerun"): frozenset({A, S}),
    ("GET", "/lookups/new"): frozenset({A, S}),
    ("POST", "/lookups"): frozenset({A, S}),
    ("GET", "/lookups/jobs/{job_id}"): frozenset({A, S}),
    ("GET", "/lookups/jobs/{job_id}/status"): frozenset({A, S}),
    ("GET", "/lookups/{lookup_id}"): frozenset({A, S, U}),
    ("GET", "/evidence/{evidence_id}/screenshot"): frozenset({A, S, U}),
    ("GET", "/evidence/{evidence_id}/html"): frozenset({A, S, U}),
    ("GET", "/evidence/{evidence_id}/document"): frozenset({A, S, U}),
    ("GET", "/audit/evidence"): frozenset({A, U}),
    ("GET", "/audit/evidence/{evidence_id}"): frozenset({A, U}),
    ("POST", "/audit/evidence/{evidence_id}/verify"): frozenset({A, U}),
    ("POST", "/audit/chain/verify"): frozenset({A, U}),
    ("GET", "/audit/access-log"): frozenset({A, U}),
    ("GET", "/admin/accounts"): frozenset({A}),
    ("POST", "/admin/accounts/{account_id}"): frozenset({A}),
    ("GET", "/admin/accounts/{portal}/{label}"): frozenset({A}),
    ("POST", "/admin/accounts/{portal}/{label}/password"): frozenset({A}),
    ("GET", "/admin/users"): frozenset({A}),
    ("POST", "/admin/users"): frozenset({A}),
    ("POST", "/admin/users/{user_id}/disable"): frozenset({A}),
    ("POST", "/admin/users/{user_id}/enable"): frozenset({A}),
    ("POST", "/admin/tokens/{token_id}/revoke"): frozenset({A}),
    ("GET", "/admin/canary"): frozenset({A}),
    ("POST", "/admin/canary"): frozenset({A}),
    ("POST", "/admin/canary/{canary_member_id}/remove"): frozenset({A}),
    ("POST", "/admin/canary/results/{result_id}/accept"): frozenset({A}),
    ("GET", "/admin/routing"): frozenset({A}),
    ("POST", "/admin/routing"): frozenset({A}),
    ("GET", "/api/openapi.json"): frozenset({A, S, U}),
    ("GET", "/api/me"): frozenset({A, S, U}),
    ("GET", "/api/worklist"): frozenset({A, S}),
    ("POST", "/api/worklist/items/{item_id}/rerun"): frozenset({A, S}),
    ("POST", "/api/lookups"): frozenset({A, S}),
    ("GET", "/api/exports"): frozenset({A, S}),
    ("GET", "/admin/webhooks"): frozenset({A}),
    ("POST", "/admin/webhooks"): frozenset({A}),
    ("POST", "/admin/webhooks/{endpoint_id}/remove"): frozenset({A}),
    ("GET", "/api/lookups/jobs/{job_id}"): frozenset({A, S}),
    ("GET", "/api/lookups/{lookup_id}"): frozenset({A, S, U}),
    ("GET", "/api/evidence"): frozenset({A, U}),
    ("GET", "/api/evidence/{evidence_id}"): frozenset({A, U}),
    ("POST", "/api/evidence/{evidence_id}/verify"): frozenset({A, U}),
    ("GET", "/api/access-log"): frozenset({A, U}),
    # Issue 15: a person in the loop (codes, push approvals) for lookups and attended sign-ins.
    ("POST", "/lookups/jobs/{job_id}/code"): frozenset({A, S}),
    ("GET", "/signin/{portal}/{label}"): frozenset({A, S}),
    ("POST", "/signin/{portal}/{label}"): frozenset({A, S}),
    ("GET", "/signin/jobs/{job_id}"): frozenset({A, S}),
    ("GET", "/signin/jobs/{job_id}/status"): frozenset({A, S}),
    ("POST", "/signin/jobs/{job_id}/code"): frozenset({A, S}),
    ("POST", "/api/lookups/{job_id}/code"): frozenset({A, S}),
    ("POST", "/api/signin"): frozenset({A, S}),
    ("GET", "/api/signin/{job_id}"): frozenset({A, S}),
    ("POST", "/api/signin/{job_id}/code"): frozenset({A, S}),
}


def app_routes(app) -> list[tuple[str, str, APIRoute]]:
    return [(method, route.path, route) for route in app.routes if isinstance(route, APIRoute)
            for method in sorted(route.methods)]


def test_every_route_has_an_expected_rule(app):
    found = {(method, path) for method, path, _ in app_routes(app)}
    assert found - set(EXPECTED) == set(), "routes without an expected rule in this test"
    assert set(EXPECTED) - found == set(), "rules for routes that no longer exist"
    for method, path, route in app_routes(app):
        rule = rule_of(route)
        expected = EXPECTED[(method, path)]
        if expected in (PUBLIC, METRICS):
            assert rule.kind == expected, (method, path)
        else:
            assert rule.roles == expected, (method, path)
            # GETs never change anything; everything that does is a form (CSRF) or the token API.
            assert rule.kind == ("api" if path.startswith("/api/") else "page" if method == "GET" else "form"), (method, path)
    others = [r for r in app.routes if not isinstance(r, APIRoute)]
    assert [getattr(r, "path", None) for r in others] == ["/static"]  # the only unauthenticated files: CSS and JS


def appointment_day(seed: Seed) -> date:
    with seed.repository.session() as session:
        appointment = session.get(AppointmentRow, seed.appointment_id)
        assert appointment is not None
        return appointment.service_date


def concrete(path: str, seed: Seed) -> str:
    values = {"appointment_id": seed.appointment_id, "item_id": seed.item_id, "job_id": "no-such-job", "endpoint_id": "no-such-endpoint",
              "lookup_id": seed.lookup_id, "evidence_id": seed.evidence_ids[-1], "account_id": seed.account_id,
              "user_id": seed.users["victim"], "token_id": seed.token_id,
              "canary_member_id": "no-such-canary-member", "result_id": "no-such-canary-result",
              "portal": "ridgeline", "label": "frontdesk"}
    if "{portal}" in path:  # the seeded (frozen) account by its portal and label
        from vault import MasterKey, Vault

        account = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings)).get(seed.account_id)
        values |= {"portal": account.carrier, "label": account.label}
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    if path == "/api/exports":  # the seeded appointment's day, which has answers to export
        path += f"?date={appointment_day(seed).isoformat()}&format=csv"
    return path


FORMS = {
    "/lookups": {"carrier": "ridgeline", "member_id": "RM1", "date_of_birth": "1990-01-01", "service_date": "2026-11-27",
                 "checks": "eligibility"},
    "/admin/users": {"username": "newbie", "display_name": "New", "role": "staff", "password": "a-long-password-1"},
    "/admin/accounts/": {"password": "", "totp_secret": ""},
    "/admin/routing": {"payer": "ridgeline", "action": "reset"},
    "/lookups/jobs/no-such-job/code": {"code": "123456"},
    "/signin/jobs/no-such-job/code": {"code": "123456"},
}
JSON = {"/api/lookups": {"carrier": "ridgeline", "member_id": "RM1", "date_of_birth": "1990-01-01",
                         "service_date": "2026-11-27", "checks": ["eligibility"]},
        "/api/lookups/no-such-job/code": {"code": "123456"}, "/api/signin/no-such-job/code": {"code": "123456"},
        "/api/signin": {"portal": "ridgeline", "account": "frontdesk"}}


def call(client, method: str, path: str, *, csrf: str | None, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(path, headers=headers, follow_redirects=False)
    if path.startswith("/api/"):
        return client.post(path, headers=headers, json=JSON.get(path, {}), follow_redirects=False)
    data = next((dict(v) for k, v in FORMS.items() if path == k or (k.endswith("/") and path.startswith(k))), {})
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post(path, data=data, follow_redirects=False)


def is_login_redirect(response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def assert_no_secret(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret appears in {where}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_routes(app, client, seed: Seed, role: str):
    login(client, role)
    session_cookie = client.cookies.get("aggregator_session")
    secrets = [*seed.secrets, session_cookie]
    # Any signed-in page carries the sign-out form, hence the session's CSRF token.
    csrf = csrf_of(client.get("/lookups/new" if role != "auditor" else "/audit/evidence").text)
    order = sorted(app_routes(app), key=lambda item: ("logout" in item[1], "disable" in item[1], item[1]))
    for method, path, _ in order:
        expected = EXPECTED[(method, path)]
        if expected in (PUBLIC, METRICS):
            continue
        url = concrete(path, seed)
        api = path.startswith("/api/")
        response = call(client, method, url, csrf=csrf, token=seed.api_tokens[role] if api else None)
        where = f"{role} {method} {url}"
        # Admins and auditors see the evidence HTML as captured, portal user name included (by design;
        # test_evidence_files_for_each_role checks both sides); staff's copy has it masked.
        shown = {seed.portal_user} if role in ORIGINAL_VIEWERS and path == "/evidence/{evidence_id}/html" else set()
        assert_no_secret(response.text, [s for s in secrets if s not in shown], where)
        if path == "/logout":  # last in the order: the session ends, and with it every page
            assert response.status_code == 303 and response.headers["location"] == "/login"
            assert is_login_redirect(client.get("/", follow_redirects=False))
            continue
        if role in expected:
            assert response.status_code not in (401, 403) and not is_login_redirect(response), (where, response.status_code)
            if path == "/":
                assert response.headers["location"] == ("/audit/evidence" if role == "auditor" else "/worklist")
            elif method == "GET" and path != "/evidence/{evidence_id}/document" and "jobs" not in path \
                    and "{job_id}" not in path:  # a job that does not exist: 404
                assert response.status_code == 200, (where, response.status_code)
        else:
            assert response.status_code == 403, (where, response.status_code)


def test_anonymous_gets_the_login_page_or_401(app, client, seed: Seed):
    for method, path, _ in app_routes(app):
        if EXPECTED[(method, path)] in (PUBLIC, METRICS):
            continue
        url = concrete(path, seed)
        response = call(client, method, url, csrf="x")
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, url)
        else:
            assert is_login_redirect(response), (method, url, response.status_code)


def test_form_posts_without_the_csrf_token_are_refused(app, client, seed: Seed):
    login(client, "admin")
    real = csrf_of(client.get("/admin/users").text)
    for method, path, route in app_routes(app):
        if method != "POST" or path.startswith("/api/") or rule_of(route).kind == "public":
            continue
        url = concrete(path, seed)
        for token in (None, "", "0" * 64, real[:-1] + ("0" if real[-1] != "0" else "1")):
            response = call(client, method, url, csrf=token)
            assert response.status_code == 403, (url, token, response.status_code)
    # Nothing happened: still signed in, the victim still active, the token not revoked.
    from aggregator.store import web as store

    assert client.get("/admin/users").status_code == 200
    assert not store.user_by_id(seed.repository, seed.users["victim"]).disabled
    assert all(t.revoked_at is None for t in store.tokens(seed.repository))


def test_sign_in_form_needs_its_csrf_pair(client):
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]}, follow_redirects=False)
    assert response.status_code == 403
    assert "aggregator_session" not in client.cookies


@pytest.mark.parametrize("role", ROLES)
def test_evidence_files_for_each_role(client, seed: Seed, role: str):
    """Admins and auditors get the captured files byte for byte (what the hash chain covers); staff get the
    HTML with the portal user's name replaced and the PNG with its recorded box blacked out."""
    from io import BytesIO

    from PIL import Image

    login(client, role)
    for evidence_id in seed.evidence_ids:
        row = seed.repository.evidence(evidence_id)
        html = client.get(f"/evidence/{evidence_id}/html")
        png = client.get(f"/evidence/{evidence_id}/screenshot")
        assert html.status_code == png.status_code == 200, role
        assert html.headers["content-type"].startswith("text/plain") and png.headers["content-type"] == "image/png"
        assert "sandbox" in html.headers["content-security-policy"]
        original = (seed.settings.resolved_snapshots_dir / row.screenshot_path).read_bytes()
        pixels = Image.open(BytesIO(png.content)).convert("RGB")
        if role in ORIGINAL_VIEWERS:
            assert sha256_hex(html.content) == row.html_sha256 and seed.portal_user in html.text
            assert sha256_hex(png.content) == row.screenshot_sha256
        else:
            assert seed.portal_user not in html.text and "Logged in as" not in html.text
            assert "•••" in html.text and f"page {seed.evidence_ids.index(evidence_id)}" in html.text
            assert sha256_hex(png.content) != row.screenshot_sha256
            assert pixels.getpixel((0, 0)) == (0, 0, 0)  # the recorded box
            assert pixels.getpixel((1, 1)) == Image.open(BytesIO(original)).convert("RGB").getpixel((1, 1))
    actions = {r.action for r in store.access_log(seed.repository, username=role, object_type="evidence")}
    if role in ORIGINAL_VIEWERS:
        assert actions == {"view_html", "view_screenshot"}
    else:
        assert actions == {"view_html_masked", "view_screenshot_masked"}
