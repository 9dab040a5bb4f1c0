"""Payers and portals in the worklist and the lookup pages, items deferred by the daily search limit, and
the notices portals give accounts (a password expiring), in the web app and the CLI worklist.

A payer reached through a hub reads "Ridgeline Mutual via Crossway"; its own site answering, the payer's name
alone. Names come from the manifests (`payer_name`, the portal's display name), not from this file.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from aggregator.cli import app as cli_app
from aggregator.cli.common import console
from aggregator.errors import Outcome
from aggregator.models import EligibilityQuery
from aggregator.overnight import worklist
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import default_routes, payer_name
from aggregator.store import budgets, new_id
from aggregator.store.tables import AppointmentRow, BatchItemRow
from sandbox.accounts import vault_inputs
from tests.web.conftest import Seed, dataset, login
from vault import MasterKey, Vault

HUB = "crossway"
PAYER = "ridgeline"  # the payer with its own site and a seat on the hub (checked below, from the manifests)


@pytest.fixture
def hub(seed: Seed) -> list:
    """The hub's accounts in the vault, an appointment of the payer answered through the hub, and one the
    day's search budget deferred."""
    assert {r.portal for r in default_routes(PAYER)} == {PAYER, HUB}
    inputs = vault_inputs(dataset(), [HUB])
    vault = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings))
    vault.upsert_accounts(inputs)
    for entry in inputs:
        seed.secrets += [entry.username.get_secret_value(), entry.password.get_secret_value()]
    with seed.repository.session() as session:
        first = session.get(AppointmentRow, seed.appointment_id)
        assert first is not None
        day = first.service_date
        base = first.model_dump()
        query = EligibilityQuery(member_id=first.member_id, date_of_birth=first.patient_dob, service_date=day,
                                 last_name=first.patient_last_name)
    lookup = seed.repository.create_lookup(flow="eligibility", carrier=PAYER, query=query, source="batch")
    seed.repository.set_lookup_account(lookup.id, inputs[0].label, portal=HUB)
    seed.repository.finish_lookup(lookup.id, Outcome.FOUND, None, None)
    now = datetime.now(UTC)
    runs_from = datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo("America/New_York"))
    with seed.repository.session() as session:
        for n, extra in ((2, {"state": "verified", "eligibility_lookup_id": lookup.id, "finished_at": now}),
                         (3, {"state": "deferred", "reason_code": "daily_limit", "not_before": runs_from,
                              "reason": f"deferred: daily limit (each Crossway account may search 150 times a "
                                        f"day); it can run after {runs_from:%Y-%m-%d %H:%M %Z}"})):
            session.add(AppointmentRow(**{**base, "id": f"appt-{n}", "starts_at": first.starts_at + timedelta(hours=n),
                                          "fingerprint": str(n) * 64}))
            session.commit()
            session.add(BatchItemRow(id=new_id(), batch_date=day, appointment_id=f"appt-{n}", carrier=PAYER,
                                     attempts=1, updated_at=now, **extra))
            session.commit()
    return [lookup.id, day, runs_from, vault.accounts(HUB)]


def via_hub() -> str:
    return f"{payer_name(PAYER)} via {adapter_for(HUB).manifest.display_name}"


def test_the_worklist_rows_carry_payer_and_portal(seed: Seed, hub):
    lookup_id, day, runs_from, _ = hub
    rows = {r.appointment_id: r for r in worklist.worklist(seed.repository, day)}
    own, through_hub, deferred = rows[seed.appointment_id], rows["appt-2"], rows["appt-3"]
    assert (own.carrier, own.portal, own.payer_via) == (PAYER, None, payer_name(PAYER))
    assert (through_hub.carrier, through_hub.portal, through_hub.payer_via) == (PAYER, HUB, via_hub())
    assert deferred.daily_limit and deferred.state_words == "deferred: daily limit"
    assert deferred.not_before == runs_from
    # CSV: the old columns first, in their order, then the new ones.
    table = list(csv.reader(io.StringIO(worklist.as_csv(list(rows.values())))))
    assert table[0][:17] == ["appointment_id", "starts_at", "patient_name", "patient_dob", "carrier", "member_id",
                             "state", "coverage", "plan", "copay", "coinsurance", "deductible_remaining", "auth",
                             "changes", "reason", "action", "call_the_payer"]
    by_id = {line[0]: dict(zip(table[0], line, strict=True)) for line in table[1:]}
    assert (by_id["appt-2"]["carrier"], by_id["appt-2"]["portal"]) == (PAYER, HUB)
    assert by_id[seed.appointment_id]["portal"] == ""
    assert datetime.fromisoformat(by_id["appt-3"]["not_before"]) == runs_from
    data = {r["appointment_id"]: r for r in json.loads(worklist.as_json(list(rows.values())))}
    assert (data["appt-2"]["carrier"], data["appt-2"]["portal"]) == (PAYER, HUB)
    assert data["appt-2"]["payer_name"] == payer_name(PAYER)


def test_web_worklist_and_lookup_pages_show_payer_via_portal(client, seed: Seed, hub):
    lookup_id, day, _, _ = hub
    login(client, "staff")
    page = client.get(f"/worklist?date={day.isoformat()}").text
    hub_name = adapter_for(HUB).manifest.display_name
    assert f"via {hub_name}" in page and payer_name(PAYER) in page
    assert "deferred: daily limit" in page and "can run from" in page
    lookup = client.get(f"/lookups/{lookup_id}").text
    assert via_hub() in lookup
    assert via_hub() not in client.get(f"/lookups/{seed.lookup_id}").text  # the payer's own site answered
    api = client.get(f"/api/worklist?day={day.isoformat()}",
                     headers={"Authorization": f"Bearer {seed.api_tokens['staff']}"}).json()
    assert {r["appointment_id"]: r["portal"] for r in api["rows"]}["appt-2"] == HUB


def test_a_password_notice_shows_in_the_admin_page_the_worklist_and_the_cli(client, seed: Seed, hub,
                                                                              monkeypatch):
    _, day, _, accounts = hub
    account = accounts[0]
    today = datetime.now(ZoneInfo(seed.settings.timezone)).date()
    due = today + timedelta(days=5)
    message = f"Your Crossway ID password expires in 5 days ({due:%m/%d/%Y}). Change it at Crossway ID."
    budgets.record_notice(seed.repository, budgets.AccountRef(account.account_id, HUB, account.label),
                          "password_expiring", message, due)
    hub_name = adapter_for(HUB).manifest.display_name
    line = f"{hub_name} account “{account.label}”: password expires on {due} (in 5 days)"

    login(client, "admin")
    admin = client.get("/admin/accounts").text
    assert message in admin and f"Password expires on {due}" in admin
    assert account.tax_id in admin and account.npi in admin  # whom the hub account acts for
    assert line in client.get(f"/worklist?date={day.isoformat()}").text
    client.cookies.clear()
    login(client, "staff")
    staff = client.get(f"/worklist?date={day.isoformat()}").text
    assert line in staff and "/admin/accounts" not in staff.split("account-warnings")[1].split("</section>")[0]

    monkeypatch.setattr(console, "width", 400)  # one table row per line, whatever the terminal
    data = ["--data-dir", str(seed.settings.resolved_data_dir)]
    shown = CliRunner().invoke(cli_app, ["worklist", "--date", day.isoformat(), *data])
    assert shown.exit_code == 0, shown.output
    assert f"Warning: {line}" in shown.output
    assert via_hub() in shown.output and "deferred: daily limit (can run from" in shown.output
    exported = CliRunner().invoke(cli_app, ["worklist", "--date", day.isoformat(), "--csv", *data])
    assert exported.exit_code == 0 and "Warning" not in exported.stdout  # the CSV stays a CSV


def test_no_notice_no_banner(client, seed: Seed, hub):
    _, day, _, _ = hub
    login(client, "staff")
    assert "account-warnings" not in client.get(f"/worklist?date={day.isoformat()}").text
    assert worklist.account_warnings(seed.repository, date.today()) == []


def test_the_lookup_form_offers_payers_not_hubs(client, seed: Seed):
    from aggregator.scrapers.routing import known_payers

    login(client, "staff")
    form = client.get("/lookups/new").text
    for slug, entry in known_payers().items():
        assert f'<option value="{slug}"' in form and entry.display_name in form
    assert f'<option value="{HUB}"' not in form  # a hub serves several payers: the payer is what staff name
