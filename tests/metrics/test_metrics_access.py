"""Who may scrape /metrics: `metrics_access` = loopback (default), token or open; /healthz and /readyz
answer anyone. A forwarded-for header is believed only through the proxy named in web_forwarded_allow_ips."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from aggregator.cli.serve import trusted_proxies
from aggregator.settings import Settings
from aggregator.web.routes_health import is_loopback
from tests.metrics.conftest import LOCAL, REMOTE, client_of
from tests.web.conftest import Seed


def status(app, *, client=LOCAL, headers=None) -> int:  # type: ignore[no-untyped-def]
    with client_of(app, client) as test_client:
        return test_client.get("/metrics", headers=headers or {}).status_code


def test_loopback_by_default_serves_this_machine_only(make_app):
    app = make_app()
    assert status(app) == 200
    assert status(app, client=("::1", 50000)) == 200
    assert status(app, client=REMOTE) == 403
    assert status(app, client=("testclient", 50000)) == 403  # not an address: not vouched for


def test_a_forwarded_header_is_not_believed_by_default(make_app):
    app = make_app()
    # A stranger claiming to be local is still a stranger.
    assert status(app, client=REMOTE, headers={"X-Forwarded-For": "127.0.0.1"}) == 403
    # A local proxy relaying someone: with no proxy named, the request is not taken for a local one.
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        assert status(app, headers={header: "203.0.113.9"}) == 403, header


def test_through_a_trusted_proxy_the_real_client_decides(make_app):
    app = make_app(web_forwarded_allow_ips="127.0.0.1")
    # What `aggregator serve` runs: uvicorn's proxy-header rewrite, for the named proxy only.
    proxied = ProxyHeadersMiddleware(app, trusted_hosts=trusted_proxies(app.state.web.settings) or "")
    assert status(proxied, headers={"X-Forwarded-For": "203.0.113.9"}) == 403
    assert status(proxied, headers={"X-Forwarded-For": "127.0.0.1"}) == 200
    assert status(proxied, client=REMOTE, headers={"X-Forwarded-For": "127.0.0.1"}) == 403  # not the named proxy


def test_token_access_takes_an_api_token_of_the_named_roles(make_app, seed: Seed):
    app = make_app(metrics_access="token")
    bearer = {role: {"Authorization": f"Bearer {token}"} for role, token in seed.api_tokens.items()}
    assert status(app) == 401  # even from this machine: a token is the rule now
    assert status(app, headers={"Authorization": "Bearer agt_not-a-token"}) == 401
    assert status(app, client=REMOTE, headers=bearer["admin"]) == 200
    assert status(app, headers=bearer["staff"]) == 403
    assert status(app, headers=bearer["auditor"]) == 403
    auditors_too = make_app(metrics_access="token", metrics_token_roles="admin,auditor")
    assert status(auditors_too, headers=bearer["auditor"]) == 200
    assert status(auditors_too, headers=bearer["staff"]) == 403


def test_open_access_serves_anyone(make_app):
    assert status(make_app(metrics_access="open"), client=REMOTE) == 200


def test_health_endpoints_answer_anyone(make_app):
    with client_of(make_app(), REMOTE) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200


def test_bad_access_settings_are_refused_with_the_setting_named():
    with pytest.raises(ValidationError, match="metrics_access"):
        Settings(metrics_access="public")
    with pytest.raises(ValidationError, match="metrics_token_roles"):
        Settings(metrics_token_roles="admin,root")


@pytest.mark.parametrize(("host", "local"), [
    ("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.0.0.1", False), ("::ffff:10.0.0.1", False), ("localhost", False), (None, False), ("", False)])
def test_loopback_addresses(host, local):
    assert is_loopback(host) is local
