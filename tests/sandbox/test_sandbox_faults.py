"""Fault controls (`/_sandbox/*`), the fault middleware and the request log."""

import time

from sandbox.faults import FaultSettings
from sandbox.portal_state import PortalState
from sandbox.ridgeline import vocabulary as v
from tests.sandbox.portal_client import PortalClient


async def test_faults_api_reads_updates_partially_and_validates(portal):
    defaults = (await portal.http.get("/_sandbox/faults")).json()
    assert defaults == FaultSettings().model_dump()
    assert defaults["layout_version"] == "v1" and defaults["idle_timeout_seconds"] == 900
    updated = await portal.http.post("/_sandbox/faults", json={"latency_ms": 5, "layout_version": "v2"})
    assert updated.status_code == 200
    assert updated.json() == {**defaults, "latency_ms": 5, "layout_version": "v2"}
    for bad in ({"no_such_fault": 1}, {"error_rate": 2}, {"layout_version": "v3"}, [1, 2]):
        refused = await portal.http.post("/_sandbox/faults", json=bad)
        assert refused.status_code in (400, 422)
    assert (await portal.http.get("/_sandbox/faults")).json()["latency_ms"] == 5, "a refused update changes nothing"
    assert (await portal.http.get("/_sandbox/health")).json() == {"carrier": "ridgeline", "ok": True}


async def test_reset_clears_faults_counters_and_lockouts(portal, account):
    for _ in range(3):
        await portal.password(account.username, "wrong")
    await portal.http.post("/_sandbox/faults", json={"maintenance": True})
    reset = await portal.http.post("/_sandbox/reset")
    assert reset.json()["faults"] == FaultSettings().model_dump()
    stats = (await portal.http.get("/_sandbox/stats")).json()
    assert stats["accounts"][account.username]["locked"] is False and stats["requests"] == []
    assert (await portal.login(account)).url.path == "/home"


async def test_maintenance_page_everywhere_but_the_controls(portal, account, state):
    await portal.login(account)
    state.update_faults({"maintenance": True, "maintenance_until": "04:30"})
    for path in ("/login", "/home", "/eligibility", "/anything"):
        page = await portal.http.get(path)
        assert page.status_code == 200, "served as an ordinary page, like many real portals"
        assert "<title>Ridgeline Mutual - Scheduled Maintenance</title>" in page.text
        assert "the Provider Portal is unavailable" in page.text and "until 04:30 ET" in page.text
    assert (await portal.http.get("/_sandbox/stats")).status_code == 200
    state.update_faults({"maintenance": False})
    assert (await portal.http.get("/home")).url.path == "/home", "the session survived the window"


async def test_error_rate_serves_5xx_pages_and_logs_them(portal, state):
    state.update_faults({"error_rate": 1.0})
    statuses = {(await portal.http.get("/login")).status_code for _ in range(20)}
    assert statuses == {500, 502, 503}
    state.update_faults({"error_rate": 0.0})
    assert (await portal.http.get("/login")).status_code == 200
    by_status = state.stats()["totals"]["by_status"]
    assert sum(by_status[str(s)] for s in (500, 502, 503)) == 20


async def test_error_pattern_is_reproducible(dataset, clock):
    runs = []
    for _ in range(2):
        state = PortalState(dataset, "ridgeline", clock=clock)
        state.update_faults({"error_rate": 0.5})
        client = PortalClient(state, clock)
        runs.append([(await client.http.get("/login")).status_code for _ in range(12)])
        await client.http.aclose()
    assert runs[0] == runs[1] and len(set(runs[0])) > 1


async def test_latency_is_added_and_logged(portal, state):
    state.update_faults({"latency_ms": 40, "jitter_ms": 10})
    started = time.perf_counter()
    await portal.http.get("/login")
    assert time.perf_counter() - started >= 0.04
    entry = state.stats()["requests"][-1]
    assert 40 <= entry["latency_ms"] <= 50 and entry["path"] == "/login" and entry["status"] == 200


async def test_rate_limit_per_session(portal, account, state, clock):
    await portal.login(account)
    state.update_faults({"rate_limit": 3})
    assert [(await portal.http.get("/home")).status_code for _ in range(4)] == [200, 200, 200, 429]
    page = await portal.http.get("/home")
    assert page.status_code == 429 and v.MSG_TOO_MANY in page.text and page.headers["Retry-After"] == "60"
    other = PortalClient(state, clock)
    assert (await other.http.get("/login")).status_code == 200, "another session has its own budget"
    await other.http.aclose()
    clock.advance(61)
    assert (await portal.http.get("/home")).status_code == 200


async def test_stats_attribute_requests_to_usernames(portal, account, state):
    await portal.login(account)
    await portal.http.get("/eligibility")
    stats = (await portal.http.get("/_sandbox/stats")).json()
    log = stats["requests"]
    assert [e["path"] for e in log] == ["/login", "/login", "/mfa", "/mfa", "/home", "/eligibility"]
    assert log[0]["username"] is None and log[1]["username"] == account.username
    assert all(e["username"] == account.username for e in log[1:])
    assert set(log[0]) == {"time", "method", "path", "username", "latency_ms", "status", "session", "new_session",
                           "client", "drawn_ms"}
    assert all(e["drawn_ms"] == 0 for e in log), "a page that reports no drawing time has none"
    # The login page starts a session; the password post comes on it. Sessions are named by a digest, never by
    # the cookie itself, so the log holds no credential.
    cookies = {c.value for c in portal.http.cookies.jar}
    assert log[0]["session"] is None and log[0]["new_session"] is not None and log[1]["session"] == log[0]["new_session"]
    assert not cookies & {e["session"] for e in log} and all(len(e["session"]) == 12 for e in log[1:])
    assert stats["totals"]["requests"] == 6 and stats["totals"]["added_latency_ms"] == 0
    assert set(stats["accounts"]) == {a.username for a in state.dataset.carrier("ridgeline").accounts}


async def test_the_drawing_time_a_page_reports_is_logged_and_anything_else_counts_nothing(portal, state):
    for header, logged in (("85", 85), ("0", 0), ("60000", 60000), ("60001", 0), ("-5", 0), ("1e3", 0), ("12.5", 0),
                           ("", 0), ("\u0661\u0662", 0), ("9" * 40, 0)):
        await portal.http.get("/login", headers={"X-Drawn-Ms": header.encode("utf-8")})
        assert state.stats()["requests"][-1]["drawn_ms"] == logged, header
