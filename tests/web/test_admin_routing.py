"""Admin: the routing page (which portals answer for each payer, in order, with which accounts).

The page writes `<data dir>/routing.json` through `save_routing`; what it writes is read back with the
routing module the runner uses, so the test checks the routes in force, not the page's own idea of them.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from aggregator.planning import SearchBudget
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import ROUTING_FILE, Routing, default_routes, known_payers
from aggregator.store import budgets
from sandbox.accounts import vault_inputs
from tests.web.conftest import Seed, csrf_of, dataset, login
from vault import MasterKey, Vault

HUB = "crossway"


def hub_payer_of_two_portals() -> str:
    """A payer reachable both on its own site and through the hub (from the manifests, not written here)."""
    return next(slug for slug in known_payers() if {r.portal for r in default_routes(slug)} == {slug, HUB})


def hub_only_payer() -> str:
    return next(slug for slug in known_payers() if [r.portal for r in default_routes(slug)] == [HUB])


@pytest.fixture
def hub_accounts(seed: Seed) -> list[str]:
    """The sandbox hub's portal accounts in the seeded vault (their secrets join the ones no page may show)."""
    inputs = vault_inputs(dataset(), [HUB])
    vault = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings))
    vault.upsert_accounts(inputs)
    for entry in inputs:
        seed.secrets += [entry.username.get_secret_value(), entry.password.get_secret_value()]
        if entry.totp_secret:
            seed.secrets.append(entry.totp_secret.get_secret_value())
    return sorted(entry.label for entry in inputs)


def routing_file(seed: Seed) -> dict | None:
    path = seed.settings.resolved_data_dir / ROUTING_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def test_admin_sees_every_payer_with_its_default_portals_and_hub_budgets(client, seed: Seed, hub_accounts):
    login(client, "admin")
    hub = adapter_for(HUB).manifest
    account = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings)).accounts(HUB)[0]
    budget = SearchBudget(seed.settings, seed.repository, lambda: datetime.now().astimezone())
    day = budget.day(hub)
    for _ in range(3):
        assert budgets.reserve_search(seed.repository, budgets.AccountRef(account.account_id, HUB, account.label),
                                      day, budget.cap(hub))
    page = client.get("/admin/routing")
    assert page.status_code == 200
    for slug, entry in known_payers().items():
        assert f'id="payer-{slug}"' in page.text and entry.display_name in page.text
    assert page.text.count('<span class="badge pending">default</span>') == len(known_payers())
    cap = budget.cap(hub)
    assert f"{account.label}: 3 used, {cap - 3} left" in page.text
    other = next(label for label in hub_accounts if label != account.label)
    assert f"{other}: 0 used, {cap} left" in page.text
    assert account.tax_id and account.tax_id in page.text  # whom the hub account acts for
    for secret in seed.secrets:
        assert secret not in page.text


def test_admin_saves_a_payers_portals_and_accounts(client, seed: Seed, hub_accounts):
    login(client, "admin")
    payer = hub_payer_of_two_portals()
    token = csrf_of(client.get("/admin/routing").text)
    # The hub first, its first account only; the payer's own site second, with every account.
    response = client.post("/admin/routing", data={
        "csrf_token": token, "payer": payer, "action": "save", f"place.{HUB}": "1", f"place.{payer}": "2",
        f"accounts.{HUB}": hub_accounts[0], f"every.{payer}": "1"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert routing_file(seed) == {"payers": {payer: {"portals": [HUB, payer], "accounts": {HUB: [hub_accounts[0]]}}}}
    routes = Routing.load(seed.settings.resolved_data_dir).routes(payer)
    assert [r.portal for r in routes] == [HUB, payer]
    assert routes[0].allows(hub_accounts[0]) and not routes[0].allows(hub_accounts[1]) and routes[1].accounts is None
    page = client.get(response.headers["location"])
    assert "routing saved" in page.text and page.text.count('<span class="badge verified">configured</span>') == 1

    # A second payer's save keeps the first one's routes.
    only = hub_only_payer()
    client.post("/admin/routing", data={"csrf_token": token, "payer": only, "action": "save", f"place.{HUB}": "1",
                                        f"accounts.{HUB}": hub_accounts}, follow_redirects=False)
    saved = routing_file(seed)
    assert set(saved["payers"]) == {payer, only}
    assert saved["payers"][only] == {"portals": [HUB], "accounts": {HUB: hub_accounts}}

    # Reset: the payer goes back to its defaults (out of the file); the other payer stays.
    reset = client.post("/admin/routing", data={"csrf_token": token, "payer": payer, "action": "reset"},
                        follow_redirects=False)
    assert reset.status_code == 303 and "defaults" in reset.headers["location"]
    assert set(routing_file(seed)["payers"]) == {only}
    assert Routing.load(seed.settings.resolved_data_dir).routes(payer) == default_routes(payer)


@pytest.mark.parametrize(("fields", "named"), [
    ({"place.{hub}": "1", "place.{payer}": "1"}, "payers.{payer}.portals"),  # two portals in one place
    ({}, "payers.{payer}.portals"),  # no portal at all
    ({"place.{hub}": "first"}, "payers.{payer}.portals"),
    ({"place.{hub}": "1"}, "payers.{payer}.accounts.{hub}"),  # neither every account nor one ticked
    ({"place.{hub}": "1", "accounts.{hub}": "nobody"}, "payers.{payer}.accounts.{hub}"),  # not in the vault
    ({"place.bluepeak": "1", "every.bluepeak": "1"}, "payers.{payer}.portals[0]"),  # does not serve the payer
    ({"place.nowhere": "1", "every.nowhere": "1"}, "payers.{payer}.portals[0]"),  # no such portal
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(client, seed: Seed, hub_accounts, fields, named):
    login(client, "admin")
    payer = hub_payer_of_two_portals()
    token = csrf_of(client.get("/admin/routing").text)
    data = {k.format(hub=HUB, payer=payer): v.format(hub=HUB, payer=payer) for k, v in fields.items()}
    response = client.post("/admin/routing", data={"csrf_token": token, "payer": payer, "action": "save", **data})
    assert response.status_code == 422
    assert named.format(hub=HUB, payer=payer) in response.text and "nothing was saved" in response.text
    assert routing_file(seed) is None


def test_an_unknown_payer_is_refused(client, seed: Seed):
    login(client, "admin")
    token = csrf_of(client.get("/admin/routing").text)
    response = client.post("/admin/routing", data={"csrf_token": token, "payer": "acme", "action": "save",
                                                   f"place.{HUB}": "1", f"every.{HUB}": "1"})
    assert response.status_code == 422 and "payers.acme" in response.text and routing_file(seed) is None


def test_a_failed_save_leaves_the_previous_file_as_it_was(client, seed: Seed, hub_accounts):
    login(client, "admin")
    only = hub_only_payer()
    token = csrf_of(client.get("/admin/routing").text)
    client.post("/admin/routing", data={"csrf_token": token, "payer": only, "action": "save", f"place.{HUB}": "1",
                                        f"every.{HUB}": "1"})
    before = (seed.settings.resolved_data_dir / ROUTING_FILE).read_bytes()
    refused = client.post("/admin/routing", data={"csrf_token": token, "payer": only, "action": "save",
                                                  "place.bluepeak": "1", "every.bluepeak": "1"})
    assert refused.status_code == 422
    assert (seed.settings.resolved_data_dir / ROUTING_FILE).read_bytes() == before
    assert not list(seed.settings.resolved_data_dir.glob(".routing-*"))  # no temporary file left behind


def test_a_broken_file_is_shown_and_its_payer_can_be_reset(client, seed: Seed):
    path = seed.settings.resolved_data_dir / ROUTING_FILE
    payer = hub_only_payer()
    path.write_text(json.dumps({"payers": {payer: {"portals": ["bluepeak"]}, "gone": {"portals": [HUB]}}}))
    login(client, "admin")
    page = client.get("/admin/routing")
    assert page.status_code == 200
    assert f"payers.{payer}.portals[0]" in page.text and "payers.gone" in page.text
    token = csrf_of(page.text)
    # Saving another payer is refused while the file holds broken entries (the error names them) ...
    refused = client.post("/admin/routing", data={"csrf_token": token, "payer": hub_payer_of_two_portals(),
                                                  "action": "save", f"place.{HUB}": "1", f"every.{HUB}": "1"})
    assert refused.status_code == 422 and "payers.gone" in refused.text
    # ... and resetting the payer named repairs the file: every entry broken on its own goes back to the defaults.
    reset = client.post("/admin/routing", data={"csrf_token": token, "payer": payer, "action": "reset"})
    assert reset.status_code == 200 and "also reset" in reset.text and "gone" in reset.text
    assert routing_file(seed) == {"payers": {}}
    assert "lookups refuse" not in client.get("/admin/routing").text


@pytest.mark.parametrize("role", ["staff", "auditor"])
def test_other_roles_are_refused(client, seed: Seed, role: str):
    login(client, role)
    assert client.get("/admin/routing").status_code == 403
    token = csrf_of(client.get("/lookups/new" if role == "staff" else "/audit/evidence").text)
    response = client.post("/admin/routing", data={"csrf_token": token, "payer": hub_only_payer(), "action": "save",
                                                   f"place.{HUB}": "1", f"every.{HUB}": "1"})
    assert response.status_code == 403 and routing_file(seed) is None


def test_the_form_needs_the_csrf_token(client, seed: Seed):
    login(client, "admin")
    real = csrf_of(client.get("/admin/routing").text)
    for token in (None, "", real[:-1] + ("0" if real[-1] != "0" else "1")):
        data = {"payer": hub_only_payer(), "action": "save", f"place.{HUB}": "1", f"every.{HUB}": "1"}
        if token is not None:
            data["csrf_token"] = token
        assert client.post("/admin/routing", data=data).status_code == 403
    assert routing_file(seed) is None
