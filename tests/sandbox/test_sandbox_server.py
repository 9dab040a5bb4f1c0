"""The real thing over TCP: start_sandbox and the `aggregator sandbox` commands."""

import json
import stat
from urllib.parse import urlparse

import httpx
import pytest
from typer.testing import CliRunner

from sandbox.accounts import portal_accounts
from sandbox.carriers import carrier_slugs, hubs, portal_slugs
from sandbox.cli import sandbox_app
from sandbox.server import idp_port, ports_from, require_loopback, start_sandbox


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
    expected = [a.export_row() for slug in portal_slugs() for a in portal_accounts(dataset, slug)]
    assert rows == expected
    # The hubs' accounts too (carrier = the hub's slug), with the organization and provider they act for.
    for slug in hubs():
        hub_rows = [r for r in rows if r["carrier"] == slug]
        assert [r["label"] for r in hub_rows] == ["frontdesk", "billing"]
        assert all(r["tax_id"] == dataset.provider.tax_id and r["npi"] == dataset.provider.npi for r in hub_rows)
    # A carrier portal's rows are what they always were: no tax id or NPI keys.
    assert not any("tax_id" in r for r in rows if r["carrier"] in carrier_slugs())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert all(a["password"] not in result.output for a in rows)


def test_up_prints_addresses_and_usernames_never_secrets(tmp_path, dataset):
    export = tmp_path / "up.json"
    result = CliRunner().invoke(sandbox_app, ["up", "--port-base", "0", "--exit-after", "0.2",
                                              "--accounts-file", str(export)], terminal_width=200)
    assert result.exit_code == 0, result.output
    accounts = [a for slug in portal_slugs() for a in portal_accounts(dataset, slug)]
    assert "http://127.0.0.1:" in result.output and str(export) in result.output
    assert all(a.username in result.output for a in accounts)
    assert not any(a.password in result.output or (a.totp_secret and a.totp_secret in result.output)
                   for a in accounts)
    assert json.loads(export.read_text())["accounts"][0]["totp_secret"] == accounts[0].totp_secret


def test_start_sandbox_starts_every_hub_beside_the_carriers_on_the_same_dataset(dataset):
    with start_sandbox(dataset=dataset) as sandbox:
        assert tuple(sandbox.urls) == portal_slugs() and tuple(sandbox.states) == carrier_slugs()
        assert set(sandbox.hubs) == set(hubs()) and hubs()
        for slug, running in sandbox.hubs.items():
            assert sandbox.urls[slug] == running.hub_url and running.idp_url != running.hub_url
            assert running.dataset is dataset, "the hub shares the handle's dataset"
            assert httpx.get(f"{running.hub_url}/_sandbox/health").json()["ok"]
            assert httpx.get(f"{running.idp_url}/_sandbox/health").json()["ok"]
            # reset_hubs is the hub's reset-all: settings and the day back to the start.
            running.world.settings.update({"daily_search_cap": 5})
            sandbox.reset_hubs()
            assert httpx.get(f"{running.hub_url}/_sandbox/settings").json()["daily_search_cap"] != 5
        hub_urls = [(r.hub_url, r.idp_url) for r in sandbox.hubs.values()]
    for hub_url, idp_url in hub_urls:
        for url in (hub_url, idp_url):
            with pytest.raises(httpx.ConnectError):
                httpx.get(url + "/_sandbox/health", timeout=2)


def test_a_hub_starts_only_when_named_or_by_default(dataset):
    with start_sandbox(carriers=("ridgeline",), dataset=dataset) as sandbox:
        assert sandbox.hubs == {} and list(sandbox.urls) == ["ridgeline"]
    with start_sandbox(dataset=dataset, with_hubs=False) as sandbox:
        assert sandbox.hubs == {} and tuple(sandbox.urls) == carrier_slugs()
    slug = next(iter(hubs()))
    with start_sandbox(carriers=(slug,), dataset=dataset) as sandbox:
        assert list(sandbox.urls) == [slug] and sandbox.states == {}


def test_fixed_ports_put_a_hub_and_its_identity_provider_on_their_own_offsets():
    ports = ports_from(8101)
    for slug, hub in hubs().items():
        assert ports[slug] == 8101 + hub.port_offset
        assert idp_port(slug, ports[slug]) == 8101 + hub.idp_port_offset
        assert idp_port(slug, 0) == 0, "a free hub port, a free identity-provider port"
    assert (ports["crossway"], idp_port("crossway", ports["crossway"])) == (8105, 8106), "documented ports"


def test_the_hub_shows_the_ridgeline_portals_very_records_and_appointments_cli_takes_hub_payers(tmp_path, dataset):
    from sandbox.carriers import hub_payers

    with start_sandbox(dataset=dataset) as sandbox:
        for slug, running in sandbox.hubs.items():
            shared = [p for p in hubs()[slug].payers if p in carrier_slugs()]
            assert shared, "the hub shares a payer with a carrier portal"
            for payer in shared:  # a payer with a portal of its own: the same objects, not a copy
                assert running.hub.current_dataset().carrier(payer) is dataset.carrier(payer)
    out = tmp_path / "hub.csv"
    result = CliRunner().invoke(sandbox_app, ["appointments", "--date", "2026-12-01", "--count", "6", "--out", str(out),
                                              *(arg for p in hub_payers() for arg in ("--carrier", p))])
    assert result.exit_code == 0, result.output
    assert "wrote 6 appointment(s)" in result.output
