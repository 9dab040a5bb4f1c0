"""Payers and portals: the default routes from the manifests, the routing file's checks, forced portals and name
searches (aggregator/scrapers/routing.py, aggregator/planning.py). No browser."""

from __future__ import annotations

import json
from datetime import date

import pytest

from aggregator.errors import ConfigurationError, NotAvailableAtCarrier
from aggregator.models import AuthorizationQuery, EligibilityQuery
from aggregator.planning import routes_for, routing_of
from aggregator.scrapers.framework import Capability
from aggregator.scrapers.registry import all_adapters
from aggregator.scrapers.routing import (
    ROUTING_FILE,
    PayerRoute,
    Routing,
    RoutingFile,
    known_payers,
    parse_routing,
    resolve_payer,
    save_routing,
)
from aggregator.settings import Settings


def hub_and_payer() -> tuple[str, str, str]:
    """A hub, a payer it serves that also has its own site, and a payer reached only through it."""
    hub = next(a.manifest for a in all_adapters() if a.manifest.is_hub)
    own_sites = {a.manifest.slug for a in all_adapters() if not a.manifest.is_hub}
    shared = next(p.slug for p in hub.served_payers() if p.slug in own_sites)
    only = next(p.slug for p in hub.served_payers() if p.slug not in own_sites)
    return hub.slug, shared, only


def query(**fields: object) -> EligibilityQuery:
    return EligibilityQuery.model_validate({"date_of_birth": date(1980, 1, 2), "service_date": date(2026, 12, 1),
                                            **fields})


def test_every_payer_of_every_portal_is_known_and_its_own_site_comes_before_a_hub():
    hub, shared, only = hub_and_payer()
    payers = known_payers()
    for adapter in all_adapters():
        for entry in adapter.manifest.served_payers():
            assert entry.slug in payers
    assert [r.portal for r in Routing().routes(shared)] == [shared, hub]
    assert [r.portal for r in Routing().routes(only)] == [hub]
    assert resolve_payer(payers[only].display_name.upper()) == only


def test_a_hub_is_not_a_payer_and_an_unknown_payer_names_the_known_ones():
    hub, _, _ = hub_and_payer()
    with pytest.raises(ConfigurationError, match="serves several payers"):
        resolve_payer(hub)
    with pytest.raises(ConfigurationError, match="unknown carrier 'no-such-plan' \\(known: "):
        resolve_payer("no-such-plan")


def test_the_routing_file_orders_portals_and_limits_accounts(tmp_path):
    hub, shared, _ = hub_and_payer()
    settings = Settings(data_dir=tmp_path)
    save_routing(tmp_path, RoutingFile(payers={shared: PayerRoute(portals=(hub, shared),
                                                                  accounts={hub: ("frontdesk",)})}))
    routes = routing_of(settings).routes(shared)
    assert [r.portal for r in routes] == [hub, shared]
    assert routes[0].allows("frontdesk") and not routes[0].allows("billing") and routes[1].allows("billing")
    # Forcing a portal keeps the file's account limits; forcing one that does not serve the payer is an error.
    assert routing_of(settings).routes(shared, portal=hub)[0].accounts == frozenset({"frontdesk"})
    other = next(a.manifest.slug for a in all_adapters() if not a.manifest.serves(shared))
    with pytest.raises(ConfigurationError, match="does not serve"):
        routing_of(settings).routes(shared, portal=other)


@pytest.mark.parametrize(("content", "says"), [
    ('{"payers": {"nobody": {"portals": ["x"]}}}', "payers.nobody: no portal serves"),
    ('{"payers": {"PAYER": {"portals": ["no-such-portal"]}}}', "payers.PAYER.portals[0]: unknown portal"),
    ('{"payers": {"PAYER": {"portals": []}}}', "payers.PAYER.portals"),
    ('{"payers": {"PAYER": {"portals": ["HUB", "HUB"]}}}', "listed twice"),
    ('{"payers": {"PAYER": {"portals": ["HUB"], "accounts": {"OTHER": ["a"]}}}}', "not one of this payer's portals"),
    ('{"payers": {"PAYER": {"portal": ["HUB"]}}}', "payers.PAYER.portal"),
    ('{"payers": ', "not valid JSON"),
    ("[" * 50 + "]" * 50, "not valid JSON"),
])
def test_a_bad_routing_file_names_the_place_and_nothing_routes(tmp_path, content, says):
    hub, shared, _ = hub_and_payer()
    other = next(a.manifest.slug for a in all_adapters() if a.manifest.slug not in (hub, shared))
    text = content.replace("PAYER", shared).replace("HUB", hub).replace("OTHER", other)
    says = says.replace("PAYER", shared)
    (tmp_path / ROUTING_FILE).write_text(text)
    with pytest.raises(ConfigurationError) as raised:
        Routing.load(tmp_path)
    assert str(tmp_path / ROUTING_FILE) in raised.value.reason and says in raised.value.reason


def test_a_bad_save_writes_nothing(tmp_path):
    _, shared, _ = hub_and_payer()
    with pytest.raises(ConfigurationError):
        save_routing(tmp_path, RoutingFile(payers={shared: PayerRoute(portals=("no-such-portal",))}))
    assert not (tmp_path / ROUTING_FILE).exists()
    assert parse_routing(json.dumps({"payers": {}})) == RoutingFile()


def test_a_question_goes_only_to_portals_that_answer_it(tmp_path):
    hub, shared, only = hub_and_payer()
    settings = Settings(data_dir=tmp_path)
    hub_manifest = next(a.manifest for a in all_adapters() if a.manifest.slug == hub)
    if Capability.AUTHORIZATION not in hub_manifest.capabilities:
        auth = AuthorizationQuery(member_id="X1", date_of_birth=date(1980, 1, 2))
        # The shared payer's own site answers; the hub-only payer has nowhere to ask: call the payer.
        assert [r.portal for r in routes_for(settings, Capability.AUTHORIZATION, shared, auth)] == [shared]
        with pytest.raises(NotAvailableAtCarrier):
            routes_for(settings, Capability.AUTHORIZATION, only, auth)


def test_a_name_search_goes_only_where_the_payer_allows_it(tmp_path):
    settings = Settings(data_dir=tmp_path)
    by_name = query(first_name="Ann", last_name="Lee")
    for payer, entry in known_payers().items():
        allowed = [a.manifest.slug for a in all_adapters() if a.manifest.serves(payer)
                   and a.manifest.payer(payer).name_search]
        if allowed:
            assert [r.portal for r in routes_for(settings, Capability.ELIGIBILITY, payer, by_name)] == allowed
        else:
            with pytest.raises(ConfigurationError, match=f"{entry.display_name} patients cannot be searched by name"):
                routes_for(settings, Capability.ELIGIBILITY, payer, by_name)


def test_a_query_needs_a_member_id_or_both_names():
    with pytest.raises(ValueError, match="member id, or the first and last name"):
        query(last_name="Lee")
    assert query(first_name=" Ann ", last_name="Lee").by_name and query(member_id="x-1").member_id == "X1"
    with pytest.raises(ValueError, match="by name"):
        _ = query(first_name="Ann", last_name="Lee").required_member_id
