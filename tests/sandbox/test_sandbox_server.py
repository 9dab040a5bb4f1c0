"""The real thing over TCP: start_sandbox and the `aggregator sandbox` commands."""

import json
import stat
from urllib.parse import urlparse

import httpx
import pytest
from typer.testing import CliRunner

from sandbox.carriers import carrier_slugs
from sandbox.cli import sandbox_app
from sandbox.server import require_loopback, start_sandbox


def test_start_sandbox_serves_on_loopback_and_stops(dataset):
    with start_sandbox(carriers=("ridgeline",), dataset=dataset) as sandbox:
        url = sandbox.urls["ridgeline"]
        parsed = urlparse(url)
        assert parsed.hostname == "127.0.0.1" and parsed.port
        with httpx.Client(base_url=url) as client:
            assert "Provider Login" in client.get("/login").text
            assert client.post("/_sandbox/faults", json={"maintenance": True}).status_code == 200
            assert "Scheduled Maintenance" in client.get("/home", follow_redirects=True).text
        assert sandbox.states["ridgeline"].faults.maintenance
        assert sandbox.dataset is dataset
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/login", timeout=2)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_only_loopback(host):
    with pytest.raises(ValueError, match="loopback"):
        require_loopback(host)
    require_loopback("127.0.0.1")
    require_loopback("::1")
    require_loopback("localhost")


def test_unknown_portal_is_refused():
    with pytest.raises(ValueError, match="no sandbox portal"):
        start_sandbox(carriers=("nosuchcarrier",))


def test_accounts_export(tmp_path, dataset):
    target = tmp_path / "accounts.json"
    result = CliRunner().invoke(sandbox_app, ["accounts", "--export", str(target)])
    assert result.exit_code == 0, result.output
    rows = json.loads(target.read_text())["accounts"]
    expected = [a.export_row() for slug in carrier_slugs() for a in dataset.carrier(slug).accounts]
    assert rows == expected
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert all(a["password"] not in result.output for a in rows)


def test_up_prints_addresses_and_usernames_never_secrets(tmp_path, dataset):
    export = tmp_path / "up.json"
    result = CliRunner().invoke(sandbox_app, ["up", "--port-base", "0", "--exit-after", "0.2",
                                              "--accounts-file", str(export)], terminal_width=200)
    assert result.exit_code == 0, result.output
    accounts = [a for slug in carrier_slugs() for a in dataset.carrier(slug).accounts]
    assert "http://127.0.0.1:" in result.output and str(export) in result.output
    assert all(a.username in result.output for a in accounts)
    assert not any(a.password in result.output or (a.totp_secret and a.totp_secret in result.output)
                   for a in accounts)
    assert json.loads(export.read_text())["accounts"][0]["totp_secret"] == accounts[0].totp_secret
