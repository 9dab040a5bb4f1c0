"""`aggregator vault ...` through typer's CliRunner: secrets in via stdin/prompt only, never out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aggregator.cli.vault import mask, vault_app
from vault import MasterKey, Vault

PASSWORD = "Pa55word-For-Ridgeline"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"
ANSWER = "Fluffy-the-hamster"
USERNAME = "drsmith"


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()
        self.outputs: list[str] = []

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        result = self.runner.invoke(vault_app, [*args, "--data-dir", str(self.data_dir)], input=input)
        self.outputs.append(result.output)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def vault(self) -> Vault:
        return Vault.open(self.data_dir / "vault.json", MasterKey.from_key_file(self.data_dir / "vault.key"))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "data")
    cli("init")
    return cli


def _assert_no_secret(text: str) -> None:
    for secret in (PASSWORD, SEED, ANSWER, USERNAME, "JBSWY3DP"):
        assert secret not in text


def test_init_creates_owner_only_key_file_and_refuses_twice(cli: Cli) -> None:
    assert (cli.data_dir / "vault.key").stat().st_mode & 0o777 == 0o600
    assert (cli.data_dir / "vault.json").exists()
    again = cli("init", ok=False)
    assert again.exit_code == 1
    assert again.output.startswith("error: a vault already exists") and "Traceback" not in again.output


def test_init_uses_the_env_key_when_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_VAULT_KEY", "A" * 43 + "=")
    cli = Cli(tmp_path)
    cli("init")
    assert not (tmp_path / "vault.key").exists()
    assert Vault.open(tmp_path / "vault.json", MasterKey.from_base64("A" * 43 + "=")).accounts() == []


def test_add_from_stdin_lines_then_list_shows_no_secret(cli: Cli) -> None:
    cli("add", "--carrier", "ridgeline", "--label", "main", "--stdin", input=f"{USERNAME}\n{PASSWORD}\n{SEED}\n")
    listing = cli("list").output
    assert "ridgeline/main" in listing and "dr***th" in listing and "********" in listing
    assert "set" in listing and "active" in listing
    _assert_no_secret(listing)
    stored = cli.vault().find("ridgeline", "main")
    assert stored is not None and stored.password.get_secret_value() == PASSWORD


def test_add_from_stdin_json_with_security_answers(cli: Cli) -> None:
    secrets = {"username": USERNAME, "password": PASSWORD, "security_answers": {"First pet?": ANSWER}}
    cli("add", "--carrier", "bluepeak", "--label", "main", "--stdin", input=json.dumps(secrets))
    account = cli.vault().find("bluepeak", "main")
    assert account is not None and account.security_answers["First pet?"].get_secret_value() == ANSWER
    _assert_no_secret("".join(cli.outputs))


def test_add_with_hidden_prompts(cli: Cli) -> None:
    typed = f"{USERNAME}\n{PASSWORD}\n{PASSWORD}\n{SEED}\nFirst pet?\n{ANSWER}\n\n"
    result = cli("add", "--carrier", "cascade", "--label", "main", input=typed)
    account = cli.vault().find("cascade", "main")
    assert account is not None and account.totp_secret is not None
    assert account.security_answers["First pet?"].get_secret_value() == ANSWER
    for hidden in (PASSWORD, SEED, ANSWER):  # hidden prompts do not echo what was typed
        assert hidden not in result.output


def test_secrets_cannot_be_given_as_arguments(cli: Cli) -> None:
    result = cli("add", "--carrier", "ridgeline", "--label", "main", "--password", PASSWORD, ok=False)
    assert result.exit_code != 0
    assert not (cli.vault().accounts())


def test_bad_secret_input_names_the_field_not_the_value(cli: Cli) -> None:
    result = cli("add", "--carrier", "ridgeline", "--label", "main", "--stdin",
                 input=json.dumps({"username": USERNAME, "password": PASSWORD, "totp_secret": "!!not-base32!!"}),
                 ok=False)
    assert result.exit_code == 1 and "totp_secret" in result.output
    _assert_no_secret(result.output)


def test_freeze_then_update_password_unfreezes(cli: Cli) -> None:
    cli("add", "--carrier", "ridgeline", "--label", "main", "--stdin", input=f"{USERNAME}\n{PASSWORD}\n")
    cli("freeze", "--carrier", "ridgeline", "--label", "main", "--reason", "portal: invalid password")
    listing = cli("list").output
    assert "FROZEN" in listing and "portal: invalid password" in listing
    result = cli("update", "--carrier", "ridgeline", "--label", "main", "--password", "--stdin",
                 input="a-brand-new-password\n")
    assert "unfrozen" in result.output
    account = cli.vault().find("ridgeline", "main")
    assert account is not None and not account.is_frozen
    assert account.password.get_secret_value() == "a-brand-new-password"
    assert "a-brand-new-password" not in "".join(cli.outputs)


def test_import_bad_entry_names_index_and_field_and_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    before = (cli.data_dir / "vault.json").read_bytes()
    file = tmp_path / "accounts.json"
    file.write_text(json.dumps({"accounts": [
        {"carrier": "ridgeline", "label": "main", "username": USERNAME, "password": PASSWORD},
        {"carrier": "bluepeak", "label": "main", "username": USERNAME},
    ]}))
    result = cli("import", str(file), ok=False)
    assert result.exit_code == 1
    assert "accounts[1].password" in result.output and "Field required" in result.output
    assert (cli.data_dir / "vault.json").read_bytes() == before  # all or nothing
    _assert_no_secret(result.output)

    file.write_text(json.dumps({"accounts": [{"carrier": "ridgeline", "label": "main", "username": USERNAME,
                                              "password": PASSWORD, "totp_secret": "bogus!"}]}))
    assert "accounts[0].totp_secret" in cli("import", str(file), ok=False).output


def test_import_upserts_and_reminds_to_delete_the_file(cli: Cli, tmp_path: Path) -> None:
    cli("add", "--carrier", "ridgeline", "--label", "main", "--stdin", input="old-user\nold-password\n")
    file = tmp_path / "accounts.json"
    file.write_text(json.dumps({"accounts": [
        {"carrier": "ridgeline", "label": "main", "username": USERNAME, "password": PASSWORD, "totp_secret": SEED},
        {"carrier": "bluepeak", "label": "north", "username": USERNAME, "password": PASSWORD,
         "security_answers": {"City?": ANSWER}},
    ]}))
    result = cli("import", str(file))
    assert "1 added, 1 updated" in result.output and "delete it" in result.output
    vault = cli.vault()
    assert [a.display_name for a in vault.accounts()] == ["bluepeak/north", "ridgeline/main"]
    assert vault.find("ridgeline", "main").password.get_secret_value() == PASSWORD  # type: ignore[union-attr]
    _assert_no_secret("".join(cli.outputs))


def test_import_rejects_a_file_of_the_wrong_shape(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "accounts.json"
    file.write_text("[1, 2]")
    assert '{"accounts": [...]}' in cli("import", str(file), ok=False).output
    file.write_text("{not json")
    assert "not valid JSON" in cli("import", str(file), ok=False).output
    assert "cannot read" in cli("import", str(tmp_path / "missing.json"), ok=False).output


def test_remove(cli: Cli) -> None:
    cli("add", "--carrier", "ridgeline", "--label", "main", "--stdin", input=f"{USERNAME}\n{PASSWORD}\n")
    cli("remove", "--carrier", "ridgeline", "--label", "main", "--yes")
    assert cli.vault().accounts() == []
    assert "no accounts" in cli("list").output
    missing = cli("remove", "--carrier", "ridgeline", "--label", "main", "--yes", ok=False)
    assert missing.exit_code == 1 and "no account ridgeline/main" in missing.output


def test_rotate_key_writes_a_new_key_file(cli: Cli) -> None:
    cli("add", "--carrier", "ridgeline", "--label", "main", "--stdin", input=f"{USERNAME}\n{PASSWORD}\n")
    old = MasterKey.from_key_file(cli.data_dir / "vault.key")
    result = cli("rotate-key")
    assert "re-keyed" in result.output
    assert cli.vault().find("ridgeline", "main") is not None  # the new key file opens it
    with pytest.raises(Exception, match="wrong master key"):
        Vault.open(cli.data_dir / "vault.json", old)
    assert (cli.data_dir / "vault.key").stat().st_mode & 0o777 == 0o600


def test_rotate_key_to_a_passphrase_from_stdin(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli("rotate-key", "--to", "passphrase", "--stdin", input="the new practice passphrase\n")
    assert "AGGREGATOR_VAULT_PASSPHRASE" in result.output and "no longer opens" in result.output
    assert "the new practice passphrase" not in result.output
    monkeypatch.setenv("AGGREGATOR_VAULT_PASSPHRASE", "the new practice passphrase")
    assert "no accounts" in cli("list").output


def test_user_errors_are_one_line_with_exit_code_1(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "nothing-here")
    result = cli("list", ok=False)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and result.output.startswith("error: no vault master key")


def test_key_file_with_0644_is_refused_by_the_cli(cli: Cli) -> None:
    (cli.data_dir / "vault.key").chmod(0o644)
    result = cli("list", ok=False)
    assert result.exit_code == 1 and "chmod 600" in result.output


@pytest.mark.parametrize("value, shown", [("drsmith", "dr***th"), ("bob", "b***"), ("nurse.jane@x.org", "nu***rg")])
def test_mask(value: str, shown: str) -> None:
    assert mask(value) == shown


def test_update_lines_need_to_say_what_they_are(cli: Cli) -> None:
    cli("add", "--carrier", "ridgeline", "--label", "main", "--stdin", input=f"{USERNAME}\n{PASSWORD}\n")
    result = cli("update", "--carrier", "ridgeline", "--label", "main", "--stdin", input="something\n", ok=False)
    assert result.exit_code == 1 and "--password" in result.output
