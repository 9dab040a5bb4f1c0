"""The `aggregator` command as a user runs it: a separate process, its own data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.ground_truth import sample_members

AGGREGATOR = [sys.executable, "-m", "aggregator"]


@pytest.fixture
def cli_env(tmp_path: Path, sandbox, portal) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env.update(AGGREGATOR_DATA_DIR=str(tmp_path / "data"), AGGREGATOR_CARRIER_URLS=json.dumps(sandbox.urls))
    accounts = tmp_path / "accounts.json"
    subprocess.run([*AGGREGATOR, "sandbox", "accounts", "--export", str(accounts)], env=env, check=True, capture_output=True)
    subprocess.run([*AGGREGATOR, "vault", "init"], env=env, check=True, capture_output=True)
    subprocess.run([*AGGREGATOR, "vault", "import", str(accounts)], env=env, check=True, capture_output=True)
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGGREGATOR, *args], env=env, capture_output=True, text=True, timeout=120)


def test_lookup_json_found_and_not_found_exit_codes(cli_env, sandbox):
    found, termed, missing = sample_members(sandbox.dataset, "ridgeline", 5)[0], *sample_members(
        sandbox.dataset, "ridgeline", 5, kinds=("termed", "not_found"))[:2]
    ok = run(cli_env, "lookup", "eligibility", "--carrier", "ridgeline", "--member-id", found.query.member_id,
             "--dob", found.query.date_of_birth.isoformat(), "--service-date", found.query.service_date.isoformat(), "--json")
    assert ok.returncode == 0, ok.stderr
    payload = json.loads(ok.stdout)
    assert payload["outcome"] == "found"
    assert payload["record"]["member"]["member_id"] == found.query.member_id
    assert payload["record"]["benefits"] == found.expected.model_dump(mode="json")["benefits"]
    assert payload["evidence"] and all(Path(e["screenshot"]).exists() for e in payload["evidence"])

    inactive = run(cli_env, "lookup", "eligibility", "--carrier", "Ridgeline Mutual", "--member-id", termed.query.member_id,
                   "--dob", termed.query.date_of_birth.isoformat(), "--service-date", termed.query.service_date.isoformat())
    assert inactive.returncode == 0 and "INACTIVE" in inactive.stdout

    absent = run(cli_env, "lookup", "eligibility", "--carrier", "ridgeline", "--member-id", missing.query.member_id,
                 "--dob", missing.query.date_of_birth.isoformat(), "--service-date", missing.query.service_date.isoformat())
    assert absent.returncode == 3
    assert absent.stderr.strip().splitlines()[-1] == "error: not_found: Subscriber/Insured Not Found"

    verify = run(cli_env, "evidence", "verify")
    assert verify.returncode == 0 and "3 evidence entries" in verify.stdout


def test_bad_input_is_named_without_a_traceback(cli_env):
    bad_date = run(cli_env, "lookup", "eligibility", "--carrier", "ridgeline", "--member-id", "RM1", "--dob", "07/09/1973")
    assert bad_date.returncode == 2 and "--dob must be a date as YYYY-MM-DD" in bad_date.stderr
    bad_carrier = run(cli_env, "lookup", "eligibility", "--carrier", "no-such-carrier", "--member-id", "RM1", "--dob", "1973-07-09")
    assert bad_carrier.returncode == 1 and "unknown carrier 'no-such-carrier'" in bad_carrier.stderr
    bad_id = run(cli_env, "lookup", "eligibility", "--carrier", "ridgeline", "--member-id", "RM#1", "--dob", "1973-07-09")
    assert bad_id.returncode == 2 and "--member-id" in bad_id.stderr
    for result in (bad_date, bad_carrier, bad_id):
        assert "Traceback" not in result.stderr


def test_authorization_answer_and_claims_from_the_command_line(cli_env, sandbox):
    from sandbox import ground_truth

    holder = ground_truth.members_with_authorizations(sandbox.dataset, "ridgeline")[0]
    auths = run(cli_env, "lookup", "authorizations", "--carrier", "ridgeline", "--member-id", holder.member_id,
                "--dob", holder.date_of_birth.isoformat(), "--service-date", sandbox.dataset.as_of.isoformat(),
                "--service-type", "62", "--json")
    assert auths.returncode == 0, auths.stderr
    payload = json.loads(auths.stdout)
    truth = ground_truth.authorizations(sandbox.dataset, "ridgeline", holder.member_id, holder.date_of_birth)
    assert [a["auth_number"] for a in payload["record"]["authorizations"]] == [a.auth_number for a in truth.authorizations]
    assert payload["authorization_answer"]["status"] in ("covered", "missing", "not_required", "expired", "pending",
                                                          "exhausted", "denied", "not_yet_effective", "unknown")

    claim = ground_truth.claims_by_category(sandbox.dataset, "ridgeline")[next(iter(
        ground_truth.claims_by_category(sandbox.dataset, "ridgeline")))][0]
    by_number = run(cli_env, "lookup", "claims", "--carrier", "ridgeline", "--claim-number", claim.claim_number, "--json")
    assert by_number.returncode == 0, by_number.stderr
    assert [c["payer_claim_number"] for c in json.loads(by_number.stdout)["record"]["claims"]] == [claim.claim_number]

    both = run(cli_env, "lookup", "claims", "--carrier", "ridgeline", "--claim-number", "1", "--member-id", "RM1")
    assert both.returncode == 2 and "not both" in both.stderr and "Traceback" not in both.stderr
