"""Issue 12, web part: one test (or a few) per item, each failing on the code before the fix.

3  X-Forwarded-For from loopback must not pick the address the throttle counts and the access log records.
4  The on-demand lookup job (page and API) is PHI: logged, and only for the user who started it (or an admin).
6  Odd evidence filters are a 4xx or no match, never a 500; every answer (500, 404, 405) has the headers.
10 scrypt runs off the event loop; tokens expire and die with a disabled user; names are plain text; a
   portal password has a minimum length.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aggregator.cli import app as cli_app
from aggregator.store import web as store
from aggregator.web.app import SECURITY_HEADERS
from aggregator.web.auth import EVERYONE, api, keyed_hash, load_secret_key, new_api_token
from tests.web.conftest import PASSWORDS, Seed, csrf_of, login, page_token
from vault import MasterKey, Vault

SPOOFED = "203.0.113.77"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token_for(seed: Seed, name: str) -> str:
    value = new_api_token()
    store.add_token(seed.repository, user_id=seed.users[name], name="test",
                    token_hash=keyed_hash(load_secret_key(seed.settings.resolved_web_secret_key_file), value))
    return value


# --- 3: proxy headers ---------------------------------------------------------------------------------------

def _config_of_serve(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The uvicorn configuration `aggregator serve` really uses (its server is stopped before it starts)."""
    import uvicorn

    from aggregator.cli import serve

    captured = {}

    async def keep_config(self, sockets=None):  # type: ignore[no-untyped-def]
        captured["config"] = self.config

    monkeypatch.setattr(uvicorn.Server, "serve", keep_config)
    monkeypatch.setattr(serve, "start_scheduler", lambda *a, **k: SimpleNamespace(shutdown=lambda wait: None))
    asyncio.run(serve.serve_forever(settings, host="127.0.0.1", port=0))
    monkeypatch.undo()
    return captured["config"]


async def _failed_sign_in_from(base_url: str, forwarded_for: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        page = await client.get("/login")
        response = await client.post("/login", data={"username": "staff", "password": "wrong-password-123",
                                                      "csrf_token": csrf_of(page.text)},
                                     headers={"X-Forwarded-For": forwarded_for})
        assert response.status_code == 401


def _failure_addresses(seed: Seed) -> set[str | None]:
    from sqlmodel import select

    from aggregator.store.tables import WebLoginFailureRow

    with seed.repository.session() as s:
        return {row.client_ip for row in s.exec(select(WebLoginFailureRow))}


def test_item3_forwarded_for_from_loopback_is_not_believed(seed: Seed, monkeypatch):
    from tests.web.server import serving_config

    config = _config_of_serve(seed.settings, monkeypatch)

    async def scenario() -> None:
        async with serving_config(config) as url:
            await _failed_sign_in_from(url, SPOOFED)

    asyncio.run(scenario())
    # The throttle counted (and would log) the real peer, not the address the client claimed.
    assert _failure_addresses(seed) == {"127.0.0.1"}


def test_item3_a_named_proxy_is_believed(seed: Seed, monkeypatch):
    from tests.web.server import serving_config

    seed.settings.web_forwarded_allow_ips = "127.0.0.1"
    config = _config_of_serve(seed.settings, monkeypatch)

    async def scenario() -> None:
        async with serving_config(config) as url:
            await _failed_sign_in_from(url, SPOOFED)

    asyncio.run(scenario())
    assert _failure_addresses(seed) == {SPOOFED}


# --- 4: lookup jobs -----------------------------------------------------------------------------------------

LOOKUP_FORM = {"carrier": "ridgeline", "member_id": "RM1", "date_of_birth": "1990-01-01",
               "service_date": "2026-11-27", "checks": "eligibility"}


def _start_job(client: TestClient) -> str:
    response = client.post("/lookups", data={**LOOKUP_FORM, "csrf_token": page_token(client)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def _logged(seed: Seed) -> set[tuple[str, str, str, str]]:
    return {(r.username, r.action, r.object_type, r.object_id) for r in store.access_log(seed.repository, limit=5000)}


def test_item4_lookup_jobs_are_logged_and_only_for_their_owner(app, seed: Seed):
    with TestClient(app, base_url="http://127.0.0.1") as owner, TestClient(app, base_url="http://127.0.0.1") as other, \
            TestClient(app, base_url="http://127.0.0.1") as admin:
        login(owner, "staff")
        job_id = _start_job(owner)
        page = owner.get(f"/lookups/jobs/{job_id}")
        assert page.status_code == 200 and "RM1" in page.text
        assert owner.get(f"/lookups/jobs/{job_id}/status").status_code == 200
        api_answer = owner.get(f"/api/lookups/jobs/{job_id}", headers=_bearer(seed.api_tokens["staff"]))
        assert api_answer.status_code == 200
        logged = _logged(seed)
        assert ("staff", "view", "lookup_job", job_id) in logged
        assert ("staff", "api_read", "lookup_job", job_id) in logged

        # Another member of staff: the job does not exist for them (page, progress and API), nothing logged.
        login(other, "victim")
        before = len(store.access_log(seed.repository, limit=5000))
        assert other.get(f"/lookups/jobs/{job_id}").status_code == 404
        assert other.get(f"/lookups/jobs/{job_id}/status").status_code == 404
        assert other.get(f"/api/lookups/jobs/{job_id}", headers=_bearer(_token_for(seed, "victim"))).status_code == 404
        assert len(store.access_log(seed.repository, limit=5000)) == before

        # Admins may look at any job, and that view is logged as theirs.
        login(admin, "admin")
        assert admin.get(f"/lookups/jobs/{job_id}").status_code == 200
        assert admin.get(f"/api/lookups/jobs/{job_id}", headers=_bearer(seed.api_tokens["admin"])).status_code == 200
        assert {("admin", "view", "lookup_job", job_id), ("admin", "api_read", "lookup_job", job_id)} <= _logged(seed)


# --- 6: filters and headers ----------------------------------------------------------------------------------

def _has_security_headers(response) -> bool:  # type: ignore[no-untyped-def]
    return all(name.lower() in response.headers for name in SECURITY_HEADERS)


def test_item6_odd_evidence_filters_are_not_500s(app, seed: Seed):
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        login(client, "auditor")
        auditor = _bearer(seed.api_tokens["auditor"])
        for params in ({"member_id": "---"}, {"member_id": "  -  "}, {"member_id": "A/B"}, {"member_id": "\u202e1"}):
            page = client.get("/audit/evidence", params=params)
            assert page.status_code == 422 and "member_id" in page.text, (params, page.status_code)
            answer = client.get("/api/evidence", params=params, headers=auditor)
            assert answer.status_code == 422 and "member_id" in answer.text, (params, answer.status_code)
        for params in ({"date_to": "9999-12-31"}, {"date_from": "0001-01-01", "date_to": "9999-12-31"}):
            page = client.get("/audit/evidence", params=params)
            assert page.status_code == 200 and all(f"/audit/evidence/{e}" in page.text for e in seed.evidence_ids)
            answer = client.get("/api/evidence", params=params, headers=auditor)
            assert answer.status_code == 200 and {e["id"] for e in answer.json()} == set(seed.evidence_ids)
        assert client.get("/audit/evidence", params={"date_to": "31/12/9999"}).status_code == 422
        assert client.get("/api/evidence", params={"date_to": "10000-01-01"}, headers=auditor).status_code == 422


def test_item6_every_answer_carries_the_security_headers(app, seed: Seed):
    async def crash() -> None:
        raise RuntimeError("a bug")

    app.router.add_api_route("/api/crash-for-test", crash, dependencies=[Depends(api(EVERYONE))])
    app.router.add_api_route("/crash-for-test", crash)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        login(client, "staff")
        answers = {
            "500 page": client.get("/crash-for-test"),
            "500 api": client.get("/api/crash-for-test", headers=_bearer(seed.api_tokens["staff"])),
            "404 page": client.get("/no/such/page"),
            "404 api": client.get("/api/no-such-endpoint"),
            "404 static": client.get("/static/no-such-file.css"),
            "405": client.put("/worklist"),
            "405 api": client.delete("/api/me"),
            "422": client.get("/worklist", params={"date": "yesterday"}),
        }
    for what, response in answers.items():
        assert _has_security_headers(response), what
        assert response.status_code == int(what[:3]), (what, response.status_code)
    assert answers["500 api"].json() == {"detail": "internal error"}
    assert "a bug" not in answers["500 page"].text


# --- 10: scrypt, tokens, names, portal passwords -------------------------------------------------------------

def test_item10_password_check_runs_off_the_event_loop(client, seed: Seed, monkeypatch):
    from aggregator.web import auth, routes_auth

    threads = []

    def watched(name, real):  # type: ignore[no-untyped-def]
        def call(*args):  # type: ignore[no-untyped-def]
            try:
                asyncio.get_running_loop()
                threads.append((name, "event loop"))
            except RuntimeError:
                threads.append((name, "worker thread"))
            return real(*args)
        return call

    monkeypatch.setattr(routes_auth, "verify_password", watched("verify", auth.verify_password))
    monkeypatch.setattr(routes_auth, "burn_time", watched("burn", auth.burn_time))
    for username, password in (("staff", PASSWORDS["staff"]), ("nobody", "any-password-12345")):
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                    follow_redirects=False)
    assert threads == [("verify", "worker thread"), ("burn", "worker thread")]


def test_item10_re_enabling_a_user_does_not_revive_their_tokens(client, seed: Seed):
    headers = _bearer(seed.api_tokens["staff"])
    assert client.get("/api/me", headers=headers).status_code == 200
    store.update_user(seed.repository, seed.users["staff"], disabled=True)
    store.update_user(seed.repository, seed.users["staff"], disabled=False)
    assert client.get("/api/me", headers=headers).status_code == 401
    assert all(t.revoked_at is not None for t in store.tokens(seed.repository, seed.users["staff"]))
    # The CLI path does the same.
    auditor = _bearer(seed.api_tokens["auditor"])
    data = ["--data-dir", str(seed.settings.resolved_data_dir)]
    assert CliRunner().invoke(cli_app, ["users", "disable", "auditor", *data]).exit_code == 0
    assert CliRunner().invoke(cli_app, ["users", "enable", "auditor", *data]).exit_code == 0
    assert client.get("/api/me", headers=auditor).status_code == 401


def test_item10_api_tokens_expire(app, client, seed: Seed):
    headers = _bearer(seed.api_tokens["staff"])
    ctx = app.state.web
    assert client.get("/api/me", headers=headers).status_code == 200
    ctx.now = lambda: datetime.now(UTC) + timedelta(days=89)
    assert client.get("/api/me", headers=headers).status_code == 200
    ctx.now = lambda: datetime.now(UTC) + timedelta(days=91)
    expired = client.get("/api/me", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    # The CLI's --days sets a token's own lifetime, and the users page shows when each one ends.
    ctx.now = lambda: datetime.now(UTC)
    made = CliRunner().invoke(cli_app, ["users", "token", "staff", "short-lived", "--days", "2",
                                        "--data-dir", str(seed.settings.resolved_data_dir)])
    assert made.exit_code == 0, made.output
    value = made.stdout.strip().splitlines()[-1]
    assert client.get("/api/me", headers=_bearer(value)).status_code == 200
    ctx.now = lambda: datetime.now(UTC) + timedelta(days=3)
    assert client.get("/api/me", headers=_bearer(value)).status_code == 401
    short = next(t for t in store.tokens(seed.repository) if t.name == "short-lived")
    assert timedelta(days=1, hours=23) < store.token_expiry(short) - store.as_utc(short.created_at) <= timedelta(days=2)


@pytest.mark.parametrize("bad", ["eve\x00", "eve\u202egnp.exe", "e\u200bve", "eve\u2066x\u2069", "eve\nroot", "   "])
def test_item10_control_and_bidi_characters_are_refused_in_names(client, seed: Seed, bad: str):
    login(client, "admin")
    token = csrf_of(client.get("/admin/users").text)
    for fields in ({"username": bad, "display_name": "Eve"},
                   {"username": "eve", "display_name": f"Eve {bad}" if bad.strip() else bad}):
        response = client.post("/admin/users", data={"csrf_token": token, "role": "staff",
                                                      "password": "eve-password-0001", **fields})
        assert response.status_code == 422, (fields, response.status_code)
        assert re.search(r"(user|display) name (may not contain|is empty)", response.text), fields
    assert [u.username for u in store.users(seed.repository) if u.username.startswith("eve")] == []
    cli = CliRunner().invoke(cli_app, ["users", "add", bad, "--password-stdin", "--data-dir",
                                       str(seed.settings.resolved_data_dir)], input="eve-password-0001\n")
    assert cli.exit_code == 2
    with pytest.raises(ValueError):
        store.add_user(seed.repository, username="eve", display_name=bad, role="staff", password_hash="x")


def test_item10_portal_password_needs_eight_characters(client, seed: Seed):
    login(client, "admin")
    page = client.get("/admin/accounts")
    for short in ("x", "1234567"):
        response = client.post(f"/admin/accounts/{seed.account_id}", data={"csrf_token": csrf_of(page.text),
                                                                           "password": short})
        assert response.status_code == 422 and "at least 8 characters" in response.text
    nul = client.post(f"/admin/accounts/{seed.account_id}", data={"csrf_token": csrf_of(page.text),
                                                                 "password": "long-enough\x00"})
    assert nul.status_code == 422 and "control character" in nul.text
    vault = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings))
    account = vault.get(seed.account_id)
    assert account.is_frozen and account.password.get_secret_value() not in ("x", "1234567", "long-enough\x00")
    ok = client.post(f"/admin/accounts/{seed.account_id}", data={"csrf_token": csrf_of(page.text),
                                                                "password": "12345678"})
    assert ok.status_code == 200 and "updated password; unfrozen" in ok.text
