"""Passwords, sign-in throttling, idle timeout, API tokens, disabled users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.store import web as store
from aggregator.web.auth import FAILURES_PER_USER, hash_password, verify_password
from tests.web.conftest import PASSWORDS, Seed, csrf_of, login


def test_password_hash_is_scrypt_with_its_own_salt_and_parameters():
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("scrypt$32768$8$1$") and first != second  # per-user salt
    assert verify_password("correct horse battery", first) and verify_password("correct horse battery", second)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("anything", "md5$abc")


def test_short_passwords_are_refused():
    try:
        hash_password("short")
    except ValueError as error:
        assert "12" in str(error)
    else:
        raise AssertionError("a short password was accepted")


def _try(client, username: str, password: str):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


def test_failed_sign_ins_are_throttled_even_for_the_right_password(client, seed: Seed):
    for _ in range(FAILURES_PER_USER):
        assert _try(client, "staff", "wrong-password-123").status_code == 401
    throttled = _try(client, "staff", PASSWORDS["staff"])
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text
    assert "aggregator_session" not in client.cookies
    # Another user is not locked out by someone guessing staff's password.
    assert _try(client, "auditor", PASSWORDS["auditor"]).status_code == 303


def test_session_cookie_is_httponly_and_samesite(client, seed: Seed):
    response = _try(client, "staff", PASSWORDS["staff"])
    cookie = response.headers["set-cookie"]
    assert "aggregator_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    session_hash_stored = [r for r in _sessions(seed)]
    assert client.cookies["aggregator_session"] not in str(session_hash_stored)  # only a keyed hash is stored


def _sessions(seed: Seed):
    from sqlmodel import select

    from aggregator.store.tables import WebSessionRow

    with seed.repository.session() as s:
        return [(r.id, r.csrf_token) for r in s.exec(select(WebSessionRow))]


def test_idle_sessions_end(app, client, seed: Seed):
    login(client, "staff")
    assert client.get("/worklist").status_code == 200
    ctx = app.state.web
    later = datetime.now(UTC) + timedelta(minutes=seed.settings.web_idle_timeout_minutes + 1)
    ctx.now = lambda: later
    response = client.get("/worklist", follow_redirects=False)
    assert response.status_code == 303 and "expired=1" in response.headers["location"]
    ctx.now = lambda: datetime.now(UTC)
    assert client.get("/worklist", follow_redirects=False).status_code == 303  # the session is gone for good


def test_api_tokens_revoked_or_of_disabled_users_stop_working(client, seed: Seed):
    headers = {"Authorization": f"Bearer {seed.api_tokens['staff']}"}
    assert client.get("/api/me", headers=headers).json() == {"username": "staff", "display_name": "Staff", "role": "staff"}
    assert client.get("/api/me", headers={"Authorization": "Bearer agt_not-a-token"}).status_code == 401
    store.update_user(seed.repository, seed.users["staff"], disabled=True)
    assert client.get("/api/me", headers=headers).status_code == 401
    auditor = {"Authorization": f"Bearer {seed.api_tokens['auditor']}"}
    token = next(t for t in store.tokens(seed.repository, seed.users["auditor"]))
    store.revoke_token(seed.repository, token.id)
    assert client.get("/api/me", headers=auditor).status_code == 401


def test_disabling_a_user_ends_their_sessions(client, seed: Seed):
    login(client, "staff")
    store.update_user(seed.repository, seed.users["staff"], disabled=True)
    assert client.get("/worklist", follow_redirects=False).headers["location"].startswith("/login")
    assert _try(client, "staff", PASSWORDS["staff"]).status_code == 401


def test_login_redirect_never_leaves_the_site(client, seed: Seed):
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "staff", "password": PASSWORDS["staff"], "csrf_token": token,
                                           "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_pages_send_security_headers(client, seed: Seed):
    login(client, "staff")
    headers = client.get("/worklist").headers
    assert "default-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
