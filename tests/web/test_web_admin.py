"""Admin: portal accounts (unfreeze with new credentials, nothing secret shown) and users; the CLI."""

from __future__ import annotations

from typer.testing import CliRunner

from aggregator.cli import app as cli_app
from aggregator.store import web as store
from tests.web.conftest import Seed, csrf_of, login
from vault import MasterKey, Vault


def test_new_password_unfreezes_a_portal_account_without_showing_it(client, seed: Seed):
    login(client, "admin")
    page = client.get("/admin/accounts")
    assert "frozen" in page.text and "the portal rejected the password" in page.text
    new_password = "Brand-New-Portal-Pass-42"
    response = client.post(f"/admin/accounts/{seed.account_id}", data={"csrf_token": csrf_of(page.text),
                                                                       "password": new_password})
    assert response.status_code == 200 and "updated password; unfrozen" in response.text
    assert new_password not in response.text
    vault = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings))
    account = vault.get(seed.account_id)
    assert not account.is_frozen and account.password.get_secret_value() == new_password
    for secret in seed.secrets:
        assert secret not in response.text


def test_security_answers_are_replaced_one_by_one(client, seed: Seed):
    login(client, "admin")
    vault = Vault.open(seed.settings.resolved_vault_path, MasterKey.resolve(seed.settings))
    before = vault.get(seed.account_id).security_answers
    questions = sorted(before)
    page = client.get("/admin/accounts")
    client.post(f"/admin/accounts/{seed.account_id}", data={"csrf_token": csrf_of(page.text), "answer_1": "tangerine"})
    after = vault.get(seed.account_id).security_answers
    assert after[questions[1]].get_secret_value() == "tangerine"
    assert {q: a.get_secret_value() for q, a in after.items() if q != questions[1]} == \
        {q: a.get_secret_value() for q, a in before.items() if q != questions[1]}


def test_admin_adds_and_disables_users_but_not_the_last_admin(client, seed: Seed):
    login(client, "admin")
    token = csrf_of(client.get("/admin/users").text)
    client.post("/admin/users", data={"csrf_token": token, "username": "nina", "display_name": "Nina",
                                      "role": "auditor", "password": "nina-password-99"})
    nina = store.user_by_name(seed.repository, "nina")
    assert nina is not None and nina.role == "auditor" and nina.password_hash.startswith("scrypt$")
    refused = client.post(f"/admin/users/{seed.users['admin']}/disable", data={"csrf_token": token})
    assert refused.status_code == 409 and not store.user_by_id(seed.repository, seed.users["admin"]).disabled


def test_cli_adds_lists_and_makes_tokens(seed: Seed):
    runner = CliRunner()
    data = ["--data-dir", str(seed.settings.resolved_data_dir)]
    added = runner.invoke(cli_app, ["users", "add", "carol", "--role", "staff", "--password-stdin", *data],
                          input="carol-password-77\n")
    assert added.exit_code == 0, added.output
    token = runner.invoke(cli_app, ["users", "token", "carol", "desk-script", *data])
    assert token.exit_code == 0
    value = token.stdout.strip().splitlines()[-1]
    assert value.startswith("agt_")
    listed = runner.invoke(cli_app, ["users", "list", *data])
    assert "carol" in listed.output and value not in listed.output
    assert runner.invoke(cli_app, ["users", "disable", "carol", *data]).exit_code == 0
    assert store.user_by_name(seed.repository, "carol").disabled
    short = runner.invoke(cli_app, ["users", "add", "dave", "--password-stdin", *data], input="short\n")
    assert short.exit_code == 2
