import json
import os
import re
import subprocess
import sys
from datetime import date

import pyotp

from aggregator.models import Relationship
from sandbox.carriers import profiles
from sandbox.dataset import MIN_MEMBERS, dataset_fingerprint, generate_dataset
from sandbox.identifiers import luhn_check_digit, npi_valid


def test_same_seed_same_data(dataset):
    again = generate_dataset()
    assert again == dataset
    assert dataset_fingerprint(again) == dataset_fingerprint(dataset)


def test_same_data_in_another_process_with_another_hash_seed(dataset):
    # Set iteration order of strings changes with PYTHONHASHSEED; the data must not.
    code = "from sandbox.dataset import generate_dataset, dataset_fingerprint; print(dataset_fingerprint(generate_dataset()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == dataset_fingerprint(dataset)


def test_other_seed_other_data(dataset):
    assert dataset_fingerprint(generate_dataset(seed=7)) != dataset_fingerprint(dataset)


def test_carriers_do_not_influence_each_other(dataset):
    alone = generate_dataset(carriers=("ridgeline",))
    assert alone.carrier("ridgeline") == dataset.carrier("ridgeline")


def test_every_carrier_has_enough_members_of_every_kind(dataset):
    from sandbox.carriers import hub_payers, payer_source

    # The payers only a sandbox hub serves too: their members come from the same generator.
    hub_data = {slug: payer_source(dataset, slug).carrier(slug) for slug in hub_payers()}
    assert hub_data, "the sandbox has a hub with payers of its own"
    for slug, data in {**dataset.carriers, **hub_data}.items():
        members = list(data.members.values())
        assert len(members) >= max(200, MIN_MEMBERS), slug
        assert {m.coverage_kind(dataset.as_of) for m in members} == {"active", "termed", "future"}
        assert {m.relationship for m in members} == {Relationship.SELF, Relationship.SPOUSE, Relationship.CHILD}
        assert {m.gender for m in members} == {"F", "M"}
        active = [m for m in members if m.coverage_kind(dataset.as_of) == "active"]
        assert any(not m.is_subscriber for m in active)
        assert any(m.termination_date for m in active), "some active members have a known end date"
        assert {data.plan_for(m).code for m in active} == set(data.plans), "every plan has active members"


def test_kinds_are_relative_to_as_of():
    later = generate_dataset(as_of=date(2031, 3, 15), carriers=("ridgeline",))
    members = later.carrier("ridgeline").members.values()
    for member in members:
        if member.coverage_kind(later.as_of) == "termed":
            assert member.termination_date < later.as_of
        if member.coverage_kind(later.as_of) == "future":
            assert member.effective_date > later.as_of
    assert {m.coverage_kind(later.as_of) for m in members} == {"active", "termed", "future"}


def test_member_ids_follow_the_carrier_format_and_households_hold_together(dataset):
    assert all(re.fullmatch(r"RM\d{9}", i) for i in dataset.carrier("ridgeline").members)
    for slug, data in dataset.carriers.items():
        assert all(data.profile.looks_like_member_id(i) for i in data.members), slug
        for subscriber_id, ids in data.households.items():
            household = [data.members[i] for i in ids]
            assert household[0].relationship is Relationship.SELF and household[0].member_id == subscriber_id
            assert {m.subscriber_id for m in household} == {subscriber_id}
            assert len({(m.effective_date, m.termination_date, m.group_number) for m in household}) == 1
            assert all(m.family_coverage == (len(household) > 1) for m in household)
            assert all(m.date_of_birth < dataset.as_of for m in household)
    bluepeak = dataset.carrier("bluepeak")
    dependent = next(m for m in bluepeak.members.values() if not m.is_subscriber)
    assert dependent.member_id.startswith(dependent.subscriber_id) and len(dependent.member_id) == 14


def test_not_found_ids_are_well_formed_and_unused(dataset):
    for data in dataset.carriers.values():
        assert len(data.not_found_ids) >= 5
        for member_id in data.not_found_ids:
            assert data.profile.looks_like_member_id(member_id)
            assert data.member(member_id) is None


def test_npi_check_digit():
    assert npi_valid("1234567893")  # the CMS example
    assert npi_valid("1999999984")
    assert not npi_valid("1234567890")
    assert not npi_valid("3234567893")
    assert luhn_check_digit("80840123456789") == "3"


def test_provider(dataset):
    provider = dataset.provider
    assert npi_valid(provider.npi)
    assert re.fullmatch(r"\d{2}-\d{7}", provider.tax_id)
    for seed in range(20):  # the generator never makes an invalid NPI
        assert npi_valid(generate_dataset(seed=seed, carriers=()).provider.npi)


def test_accounts(dataset):
    ridgeline = dataset.carrier("ridgeline").accounts
    assert len(ridgeline) == 2
    assert len({a.username for a in ridgeline}) == 2 and len({a.label for a in ridgeline}) == 2
    for account in ridgeline:
        assert account.carrier == "ridgeline" and account.label in ("frontdesk", "billing")
        assert re.search(r"[A-Z]", account.password) and re.search(r"\d", account.password)
        assert len(pyotp.TOTP(account.totp_secret).now()) == 6
        assert set(json.loads(json.dumps(account.export_row()))) == {"carrier", "label", "username", "password", "totp_secret"}
    cascade = dataset.carrier("cascade").accounts
    assert all(a.totp_secret is None and len(a.security_answers) == 3 for a in cascade)
    assert generate_dataset(seed=99).carrier("ridgeline").accounts != ridgeline


def test_plan_catalogue_shapes(dataset):
    for slug, profile in profiles().items():
        plans = dataset.carrier(slug).plans
        assert len(plans) == len(profile.plans)
        assert any(not p.has_out_of_network for p in plans.values()), "an HMO/EPO without OON benefits"
        assert any(p.has_out_of_network for p in plans.values())
