"""Same payer, two portals, end to end: Ridgeline Mutual on its own portal and through the Crossway hub
(identity-provider sign-in, organization / provider / payer pickers), real Chromium, the real runner.

- Asked through both portals, every sampled member's eligibility record and a member's claims are the same
  records (provenance aside), and each equals its portal's ground truth field by field.
- After the sandbox changes the hub's copy of Ridgeline's data on purpose (sandbox/data_changes.py through the
  hub state: the own portal keeps the original), `aggregator reconcile` (a separate process, as staff run it)
  reports exactly the fields the two ground truths differ on, with each portal's value, and exits 8; before
  the change it exits 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.cli.common import EXIT_DISAGREE
from aggregator.errors import Outcome
from aggregator.flows.reconcile import comparable, differences
from aggregator.models import ClaimList, EligibilityRecord, MemberNotFound
from aggregator.scrapers.registry import all_adapters
from sandbox import ground_truth
from sandbox.crossway import truth as hub_truth
from sandbox.server import SandboxHandle

_HUB = next(adapter.manifest for adapter in all_adapters() if adapter.manifest.is_hub)
# The hub and a payer reached both through its own site and through the hub (read from the registry).
HUB = _HUB.slug
PAYER = next(p.slug for p in _HUB.payers if p.slug in {a.manifest.slug for a in all_adapters() if not a.manifest.is_hub})
PORTALS = (PAYER, HUB)  # the payer's own site first, as reconcile asks them
KINDS = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob")
AGGREGATOR = [sys.executable, "-m", "aggregator"]


def own_truth(sandbox: SandboxHandle, query):  # type: ignore[no-untyped-def]
    return ground_truth.eligibility(sandbox.dataset, PAYER, query)


def hub_state(sandbox: SandboxHandle):  # type: ignore[no-untyped-def]
    return sandbox.hubs[HUB].hub


async def test_ridgeline_through_the_hub_and_its_own_portal_gives_identical_records(make_runner, sandbox):
    samples = ground_truth.sample_members(sandbox.dataset, PAYER, 6, kinds=KINDS)
    claimant = ground_truth.members_with_many_claims(sandbox.dataset, PAYER, 3)[0]
    claims_query = ground_truth.member_claims_query(sandbox.dataset, PAYER, claimant.member_id)
    async with make_runner() as runner:
        looked_up = [(s, {portal: await runner.eligibility(PAYER, s.query, portal=portal) for portal in PORTALS})
                     for s in samples]
        claims = {portal: await runner.claims(PAYER, claims_query, portal=portal) for portal in PORTALS}

    for sample, results in looked_up:
        wanted = {PAYER: own_truth(sandbox, sample.query), HUB: hub_truth.eligibility(hub_state(sandbox), PAYER, sample.query)}
        for portal, result in results.items():
            assert result.portal == portal, (sample.kind, portal)
            expected = wanted[portal]
            outcome = Outcome.NOT_FOUND if isinstance(expected, MemberNotFound) else Outcome.FOUND
            assert result.outcome is outcome, (sample.kind, portal, result.reason)
            assert result.answer is not None and result.answer.without_provenance() == expected, (sample.kind, portal)
            # Provenance names the portal only when it is not the payer's own site.
            assert result.answer.provenance is not None
            assert result.answer.provenance.portal == (None if portal == PAYER else portal)
        # The hub's copy of Ridgeline is Ridgeline's own data: the two portals say the same.
        assert wanted[PAYER] == wanted[HUB], sample.kind
        assert differences({portal: r.answer for portal, r in results.items()}) == (), sample.kind
        assert comparable(results[PAYER].answer) == comparable(results[HUB].answer)

    expected_claims = ground_truth.claims(sandbox.dataset, PAYER, claims_query)
    assert isinstance(expected_claims, ClaimList) and len(expected_claims.claims) >= 3
    for portal, result in claims.items():
        assert result.outcome is Outcome.FOUND, (portal, result.reason)
        assert comparable(result.answer) == comparable(expected_claims), portal
    assert differences({portal: r.answer for portal, r in claims.items()}) == ()


@pytest.fixture
def cli_env(tmp_path: Path, sandbox: SandboxHandle, portals) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A data directory whose vault holds every sandbox account (the hub's with their Tax ID and NPI), for the
    `aggregator` command in its own process, as in tests/e2e/test_cli_e2e.py."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env.update(AGGREGATOR_DATA_DIR=str(tmp_path / "data"), AGGREGATOR_CARRIER_URLS=json.dumps(sandbox.urls))
    accounts = tmp_path / "accounts.json"
    for args in (["sandbox", "accounts", "--export", str(accounts)], ["vault", "init"], ["vault", "import", str(accounts)]):
        subprocess.run([*AGGREGATOR, *args], env=env, check=True, capture_output=True)
    return env


def reconcile(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGGREGATOR, "reconcile", "--carrier", PAYER, *args], env=env, capture_output=True,
                          text=True, timeout=180)


def test_reconcile_reports_exactly_the_field_the_hub_copy_changed(cli_env, sandbox):
    sample = ground_truth.sample_members(sandbox.dataset, PAYER, 1, kinds=("active_subscriber",))[0]
    query = sample.query
    who = ["--member-id", str(query.member_id), "--dob", query.date_of_birth.isoformat(),
           "--service-date", query.service_date.isoformat()]

    same = reconcile(cli_env, *who, "--json")
    assert same.returncode == 0, same.stderr
    payload = json.loads(same.stdout)
    assert payload["agree"] is True and payload["differences"] == []
    assert [(p["portal"], p["outcome"]) for p in payload["portals"]] == [(PAYER, "found"), (HUB, "found")]

    # The hub's copy lags: it has the member's coverage ending a month after the visit (still active on it).
    ends = query.service_date + timedelta(days=30)
    hub_state(sandbox).apply_data_change(PAYER, {"action": "term_coverage", "member_id": query.member_id,
                                                 "termination_date": ends.isoformat()})
    wanted = differences({PAYER: own_truth(sandbox, query), HUB: hub_truth.eligibility(hub_state(sandbox), PAYER, query)})
    assert [d.field for d in wanted] == ["coverage.termination_date"]  # what the sandbox changed, and only that

    apart = reconcile(cli_env, *who, "--json")
    assert apart.returncode == EXIT_DISAGREE, apart.stderr
    payload = json.loads(apart.stdout)
    assert payload["agree"] is False and payload["complete"] is True
    assert payload["differences"] == [d.as_json() for d in wanted]

    table = reconcile(cli_env, *who)
    assert table.returncode == EXIT_DISAGREE, table.stderr
    assert "coverage.termination_date" in table.stdout and ends.isoformat() in table.stdout
    assert "Traceback" not in table.stderr


def test_reconcile_claims_reports_the_claim_the_hub_paid(cli_env, sandbox):
    claim = ground_truth.open_claims(sandbox.dataset, PAYER)[0]
    query = ground_truth.member_claims_query(sandbox.dataset, PAYER, claim.member_id)
    assert query.member_id and query.date_of_birth and query.service_from and query.service_to
    who = ["--claims", "--member-id", query.member_id, "--dob", query.date_of_birth.isoformat(),
           "--from", query.service_from.isoformat(), "--to", query.service_to.isoformat()]
    hub_state(sandbox).apply_data_change(PAYER, {"action": "pay_claim", "claim_number": claim.claim_number})
    own = ground_truth.claims(sandbox.dataset, PAYER, query)
    hub = hub_truth.claims(hub_state(sandbox), PAYER, query)
    assert isinstance(own, ClaimList) and isinstance(hub, ClaimList)
    wanted = differences({PAYER: own, HUB: hub})
    assert wanted and all(d.field.startswith(f"claims[{claim.claim_number}].") for d in wanted)

    result = reconcile(cli_env, *who, "--json")
    assert result.returncode == EXIT_DISAGREE, result.stderr
    assert json.loads(result.stdout)["differences"] == [d.as_json() for d in wanted]


def lookup(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGGREGATOR, "lookup", "eligibility", *args], env=env, capture_output=True, text=True,
                          timeout=180)


def test_lookup_forced_through_the_hub_and_by_name_from_the_command_line(cli_env, sandbox):
    sample = ground_truth.sample_members(sandbox.dataset, PAYER, 1, kinds=("dependent",))[0]
    query = sample.query
    who = ["--member-id", str(query.member_id), "--dob", query.date_of_birth.isoformat(),
           "--service-date", query.service_date.isoformat()]
    hub = lookup(cli_env, "--carrier", "Ridgeline Mutual", "--portal", "crossway", *who, "--json")
    assert hub.returncode == 0, hub.stderr
    payload = json.loads(hub.stdout)
    assert (payload["payer"], payload["portal"]) == (PAYER, HUB)
    expected = hub_truth.eligibility(hub_state(sandbox), PAYER, query)
    assert EligibilityRecord.model_validate(payload["record"]).without_provenance() == expected
    shown = lookup(cli_env, "--carrier", PAYER, "--portal", "Crossway", *who)
    assert shown.returncode == 0 and "Ridgeline Mutual via Crossway" in shown.stdout, shown.stderr

    # Harborview lets the hub find a patient by name + DOB: one whose name and birth date match one member.
    state = hub_state(sandbox)
    single = next(s for s in ground_truth.sample_members(state, "harborview", 12, kinds=("active_subscriber",))
                  if len(hub_truth.name_candidates(state, "harborview", s.expected.member.first_name,
                                                   s.expected.member.last_name, s.query.date_of_birth)) == 1)
    member = single.expected.member
    by_name = lookup(cli_env, "--carrier", "Harborview Health", "--first-name", member.first_name,
                     "--last-name", member.last_name, "--dob", member.date_of_birth.isoformat(),
                     "--service-date", single.query.service_date.isoformat(), "--json")
    assert by_name.returncode == 0, by_name.stderr
    payload = json.loads(by_name.stdout)
    assert (payload["payer"], payload["portal"]) == ("harborview", HUB)
    assert EligibilityRecord.model_validate(payload["record"]).without_provenance() == single.expected
    refused = lookup(cli_env, "--carrier", PAYER, "--first-name", member.first_name, "--last-name",
                     member.last_name, "--dob", member.date_of_birth.isoformat())
    assert refused.returncode == 1 and "cannot be searched by name" in refused.stderr
