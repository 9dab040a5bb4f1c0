"""The hub's data and its serving: payers from the seeded generator, the directory, discovery left alone,
and both apps on real loopback ports (two origins) with a whole sign-in and search over sockets."""

from __future__ import annotations

import httpx
import pyotp

from sandbox import ground_truth
from sandbox.carriers import carrier_slugs, profiles
from sandbox.crossway import start_crossway
from sandbox.crossway.directory import make_directory
from sandbox.crossway.payers import PAYERS, crossway_dataset, prior_enrollments
from sandbox.dataset import dataset_fingerprint, generate_dataset
from sandbox.identifiers import npi_valid
from tests.sandbox.crossway.client import csrf, mdy, query_of


def test_the_hub_is_not_a_carrier_folder_and_its_own_payers_are_not_carriers():
    hub_only = {p.slug for p in PAYERS if p.profile is not None}
    assert "crossway" not in carrier_slugs() and not hub_only & set(profiles())
    assert {p.slug for p in PAYERS if p.profile is None} <= set(profiles()), "the shared payer is a carrier"
    assert len(PAYERS) >= 3 and len(hub_only) >= 2
    assert len({p.layout for p in PAYERS}) == len(PAYERS), "each payer has a result layout of its own"


def test_hub_payers_come_from_the_seeded_generator_whatever_carriers_the_dataset_has(dataset):
    shared = next(p.slug for p in PAYERS if p.profile is None)
    small = generate_dataset(carriers=[shared])
    full, again = crossway_dataset(dataset), crossway_dataset(small)
    for payer in PAYERS:
        assert dataset_fingerprint(_only(full, payer.slug)) == dataset_fingerprint(_only(again, payer.slug))
        data = full.carrier(payer.slug)
        assert len(data.members) >= 220 and data.claims and data.authorizations
        assert all(data.profile.looks_like_member_id(m) for m in data.members)
    assert full.carrier(shared) is dataset.carrier(shared), "the very same data as the carrier's own portal"
    other = crossway_dataset(generate_dataset(seed=7, carriers=[shared]))
    assert set(other.carrier("prairie").members) != set(full.carrier("prairie").members)


def _only(dataset, slug):
    from dataclasses import replace
    return replace(dataset, carriers={slug: dataset.carrier(slug)})


def test_prior_enrollments_only_for_name_searchable_payers(dataset):
    hub = crossway_dataset(dataset)
    for payer in PAYERS:
        pairs = prior_enrollments(hub.carrier(payer.slug))
        assert (len(pairs) == 6) if payer.name_search else not pairs
        for older, current in pairs:
            assert older.coverage_kind(dataset.as_of) == "termed" and current.coverage_kind(dataset.as_of) == "active"
            assert not hub.carrier(payer.slug).claims_for(older.member_id)


def test_the_directory(dataset):
    directory = make_directory(dataset, tuple(p.slug for p in PAYERS))
    assert directory.organizations[0].tax_id == dataset.provider.tax_id
    assert dataset.provider.npi in [p.npi for p in directory.organizations[0].providers]
    for org in directory.organizations:
        assert len(org.providers) >= 2 and all(npi_valid(p.npi) for p in org.providers)
    assert len({p.npi for o in directory.organizations for p in o.providers}) == 6
    roles = {a.role: a for a in directory.accounts}
    assert len(roles["frontdesk"].organizations) == 2 and len(roles["billing"].organizations) == 1
    row = roles["billing"].vault_account().export_row()
    assert row["carrier"] == "crossway" and row["label"] == "billing" and row["totp_secret"]
    assert make_directory(dataset, tuple(p.slug for p in PAYERS)) == directory


def test_recorded_truth_for_the_new_payers(dataset):
    from sandbox.crossway import truth
    hub = crossway_dataset(dataset)
    for payer in (p for p in PAYERS if p.profile is not None):
        for sample in ground_truth.sample_members(hub, payer.slug, 6):
            assert truth.eligibility(dataset, payer.slug, sample.query) == sample.expected
        member = ground_truth.members_with_many_claims(hub, payer.slug, minimum=2)[0]
        query = ground_truth.member_claims_query(hub, payer.slug, member.member_id)
        found = truth.claims(dataset, payer.slug, query)
        assert found.claims and truth.claim(dataset, payer.slug, found.claims[0].payer_claim_number) == found.claims[0]


def test_both_apps_on_loopback_ports_sign_in_and_search(dataset):
    with start_crossway(dataset) as crossway:
        assert crossway.hub_url != crossway.idp_url and crossway.hub_url.startswith("http://127.0.0.1:")
        account = next(a for a in crossway.directory.accounts if a.role == "billing")
        with httpx.Client(follow_redirects=True, timeout=10) as http:
            assert http.get(f"{crossway.idp_url}/_sandbox/health").json()["app"] == "crossway-id"
            login = http.get(f"{crossway.hub_url}/signin")
            assert str(login.url).startswith(f"{crossway.idp_url}/login")
            mfa = http.post(f"{crossway.idp_url}/login", data={"username": account.username,
                                                               "password": account.password, "_csrf": csrf(login)})
            consent = http.post(f"{crossway.idp_url}/mfa", data={"code": pyotp.TOTP(account.totp_secret).now(),
                                                                 "_csrf": csrf(mfa)})
            back = http.post(f"{crossway.idp_url}/consent", data={"decision": "allow", "_csrf": csrf(consent)},
                             follow_redirects=False)
            assert query_of(back.headers["location"])["code"]
            orgs = http.get(back.headers["location"])
            assert str(orgs.url) == f"{crossway.hub_url}/organizations"
            org = crossway.directory.organizations[0]
            providers = http.post(f"{crossway.hub_url}/organizations", data={"taxId": org.tax_id, "_csrf": csrf(orgs)})
            payers = http.post(f"{crossway.hub_url}/providers", data={"npi": org.providers[1].npi,
                                                                     "_csrf": csrf(providers)})
            assert "payer-list" in payers.text
            member = next(iter(crossway.hub.current_dataset().carrier("harborview").members.values()))
            form = http.get(f"{crossway.hub_url}/payers/harborview/search")
            result = http.post(f"{crossway.hub_url}/payers/harborview/search", data={
                "transaction": "eligibility", "memberId": member.member_id, "dob": mdy(member.date_of_birth),
                "_csrf": csrf(form)})
            assert result.status_code == 200 and member.member_id in result.text
            stats = http.get(f"{crossway.hub_url}/_sandbox/stats").json()
            assert stats["users"][account.username]["searches_today"] == 1
