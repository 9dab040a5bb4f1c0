"""`aggregator vault ...`: the practice's portal accounts in the encrypted vault.

Secrets (passwords, TOTP seeds, security answers, keys, passphrases) are only ever read from a hidden
prompt or, with `--stdin`, from standard input: never from command-line arguments, which end up in
shell history and in `ps`. Nothing here prints a secret; `list` shows masked values only.
Exit codes: 0 ok, 1 a user error reported in one line (click's own usage errors keep exit code 2).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from aggregator.cli.common import app
from aggregator.errors import AggregatorError
from aggregator.jsonlimits import TooDeeplyNested, loads_bounded
from aggregator.settings import Settings, get_settings, private_dirs
from vault import AccountInput, AccountSecrets, MasterKey, PortalAccount, Vault
from vault.configured import copy_file_to_database, create_vault, open_vault, vault_exists, vault_location
from vault.keys import ENV_KEY, ENV_PASSPHRASE

vault_app = typer.Typer(name="vault", help="Manage portal accounts in the encrypted credential vault.",
                        no_args_is_help=True, add_completion=False)
app.add_typer(vault_app, name="vault")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default: AGGREGATOR_DATA_DIR).")]
Carrier = Annotated[str, typer.Option("--carrier", help="Carrier slug, e.g. ridgeline.")]
Label = Annotated[str, typer.Option("--label", help="Account label, unique per carrier, e.g. main.")]
TaxId = Annotated[str | None, typer.Option("--tax-id", help="On a hub: the organization (Tax ID NN-NNNNNNN) the "
                                         "account acts for; \"\" clears it.")]
Npi = Annotated[str | None, typer.Option("--npi", help="On a hub: the provider (NPI) the account acts for; "
                                     "\"\" clears it.")]
Stdin = Annotated[bool, typer.Option("--stdin", help="Read secrets from standard input (a JSON object or lines) "
                                                     "instead of prompting.")]

P = ParamSpec("P")
R = TypeVar("R")
JSON_MAX_DEPTH = 8  # an accounts file nests four levels (accounts, account, security answers); deeper is not one


class UserError(Exception):
    """A mistake the user can fix; reported in one line, exit code 1."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _one_line(error: ValidationError, *where_prefix: str) -> str:
    """'accounts[2].password: Field required' -- the place and the problem, never the value."""
    first = error.errors(include_input=False)[0]
    where = ".".join([*where_prefix, *(str(part) for part in first["loc"])])
    return f"{where}: {first['msg']}" if where else first["msg"]


def _user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Expected failures become `error: ...` and exit 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AggregatorError as error:
            _fail(error.reason)
        except UserError as error:
            _fail(str(error))
        except ValidationError as error:
            _fail(_one_line(error))

    return wrapper


def _settings(data_dir: Path | None) -> Settings:
    settings = get_settings()
    settings = settings if data_dir is None else settings.model_copy(update={"data_dir": data_dir})
    private_dirs(settings)  # made 0700, or refused (one line) when others can use it
    return settings


def _open(data_dir: Path | None) -> tuple[Settings, Vault]:
    settings = _settings(data_dir)
    return settings, open_vault(settings)  # the file, or PostgreSQL when AGGREGATOR_VAULT_URL is set


def _account(vault: Vault, carrier: str, label: str) -> PortalAccount:
    account = vault.find(carrier, label)
    if account is None:
        raise UserError(f"no account {carrier}/{label} in the vault")
    return account


# --- reading secrets ------------------------------------------------------------------------------

def _stdin_secrets(line_fields: list[str]) -> dict[str, Any]:
    """A JSON object with any of username/password/totp_secret/security_answers, or plain lines that
    fill `line_fields` in order (an empty line leaves that field out)."""
    text = sys.stdin.read()
    if text.lstrip().startswith("{"):
        try:
            data = loads_bounded(text, max_depth=JSON_MAX_DEPTH)
        except ValueError as error:
            where = f" (line {error.lineno})" if isinstance(error, json.JSONDecodeError) else ""
            raise UserError(f"standard input is not valid JSON{where}") from None
        if not isinstance(data, dict):
            raise UserError("standard input must hold one JSON object")
        return data
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and lines[-1] == "":
        lines.pop()
    if lines and not line_fields:
        raise UserError("say which secrets the lines hold (--username/--password/--totp), or pipe a JSON object")
    if len(lines) > len(line_fields):
        raise UserError(f"expected at most {len(line_fields)} lines on standard input: {', '.join(line_fields)}")
    return {name: line for name, line in zip(line_fields, lines, strict=False) if line}


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """Validate secret input (naming the field, never the value) and drop what was not given."""
    try:
        AccountSecrets.model_validate(data)
    except ValidationError as error:
        raise UserError("secret input: " + _one_line(error)) from None
    return {k: v for k, v in data.items() if v is not None}


def _prompt_answers() -> dict[str, str]:
    answers: dict[str, str] = {}
    while question := typer.prompt("Security question (empty to finish)", default="", show_default=False).strip():
        answers[question] = typer.prompt("Answer", hide_input=True)
    return answers


def _prompt_secrets(*, username: bool, password: bool, totp: bool, answers: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if username:
        data["username"] = typer.prompt("Portal username")
    if password:
        data["password"] = typer.prompt("Portal password", hide_input=True, confirmation_prompt=True)
    if totp:
        data["totp_secret"] = typer.prompt("TOTP seed (empty for none)", default="", show_default=False,
                                           hide_input=True) or None
    if answers:
        data["security_answers"] = _prompt_answers()
    return data


def _new_secret(stdin: bool, prompt: str) -> str:
    """A new key or passphrase: first line of stdin, or a hidden prompt typed twice."""
    if stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise UserError("nothing on standard input")
        return value
    value = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return value


# --- display --------------------------------------------------------------------------------------

def mask(value: str) -> str:
    """'drsmith' -> 'dr***th': enough for a person to recognise their account, not to reuse it."""
    if len(value) <= 4:
        return value[:1] + "***"
    return value[:2] + "***" + value[-2:]


def _session_text(account: PortalAccount) -> str:
    if account.session_expires_at is None:
        return "-"
    if account.session_expires_at <= datetime.now(UTC):
        return "expired"
    return f"until {account.session_expires_at:%Y-%m-%d %H:%M}Z"


# --- commands -------------------------------------------------------------------------------------

@vault_app.command()
@_user_errors
def init(
    data_dir: DataDir = None,
    from_file: Annotated[bool, typer.Option("--from-file", help="With AGGREGATOR_VAULT_URL: start the database "
                                            "vault as a copy of the vault file, opened with its key.")] = False,
) -> None:
    """Create an empty vault; without AGGREGATOR_VAULT_KEY/PASSPHRASE also an owner-only key file."""
    settings = _settings(data_dir)
    if from_file and not settings.vault_url:
        raise UserError("--from-file copies the vault file into a database vault: set AGGREGATOR_VAULT_URL first")
    path = vault_location(settings)
    if vault_exists(settings):
        raise UserError(f"a vault already exists at {path}")
    if from_file:  # moving to a shared vault: same document, same key (docs/vault.md)
        copy = copy_file_to_database(settings, MasterKey.resolve(settings))
        copy.close()
        typer.echo(f"copied vault {settings.resolved_vault_path} into {path} (key from {copy.key.source}); "
                   "the file is no longer used while AGGREGATOR_VAULT_URL is set")
        return
    created_key_file: Path | None = None
    if os.environ.get(ENV_KEY) or os.environ.get(ENV_PASSPHRASE):
        key = MasterKey.resolve(settings)
    else:
        key_file = MasterKey.default_key_file(settings)
        if key_file.exists():
            key = MasterKey.from_key_file(key_file)
        else:
            key = MasterKey.generate()
            key.write_key_file(key_file)
            created_key_file = key_file
    create_vault(settings, key).close()
    typer.echo(f"created vault {path} (key from {key.source})")
    if created_key_file is not None:
        typer.echo(f"created key file {created_key_file} (mode 0600). Back it up apart from the vault: "
                   "without it the vault cannot be opened.")


@vault_app.command()
@_user_errors
def add(carrier: Carrier, label: Label, stdin: Stdin = False, tax_id: TaxId = None, npi: Npi = None,
        data_dir: DataDir = None) -> None:
    """Add a portal account; secrets are prompted for (hidden) or read with --stdin."""
    _, vault = _open(data_dir)
    if vault.find(carrier, label) is not None:
        raise UserError(f"account {carrier}/{label} already exists; use `update`")
    if stdin:
        data = _checked(_stdin_secrets(["username", "password", "totp_secret"]))
    else:
        data = _prompt_secrets(username=True, password=True, totp=True, answers=True)
    for required in ("username", "password"):
        if not data.get(required):
            raise UserError(f"{required} is required")
    account = vault.add_account(carrier=carrier, label=label, tax_id=tax_id, npi=npi, **data)
    typer.echo(f"added {account.display_name} (id {account.account_id})")


@vault_app.command("list")
@_user_errors
def list_accounts(carrier: Annotated[str | None, typer.Option("--carrier", help="Only this carrier.")] = None,
                  data_dir: DataDir = None) -> None:
    """Show accounts with masked credentials, status and frozen reasons."""
    _, vault = _open(data_dir)
    accounts = vault.accounts(carrier)
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 200  # piped or captured: do not squeeze the table to 80 columns
    if not accounts:
        console.print("no accounts in the vault" + (f" for {carrier}" if carrier else ""))
        return
    table = Table("account", "id", "username", "password", "totp", "answers", "acts for", "status",
                  "frozen reason", "session", "updated")
    for account in accounts:
        table.add_row(
            account.display_name, account.account_id[:8], mask(account.username.get_secret_value()), "********",
            "set" if account.totp_secret else "unset", str(len(account.security_answers)),
            " / ".join(part for part in (account.tax_id, account.npi and f"NPI {account.npi}") if part),
            "FROZEN" if account.is_frozen else "active", account.frozen_reason or "", _session_text(account),
            f"{account.updated_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@vault_app.command()
@_user_errors
def update(
    carrier: Carrier,
    label: Label,
    username: Annotated[bool, typer.Option("--username", help="Enter a new username.")] = False,
    password: Annotated[bool, typer.Option("--password", help="Enter a new password.")] = False,
    totp: Annotated[bool, typer.Option("--totp", help="Enter a new TOTP seed (empty removes it).")] = False,
    answers: Annotated[bool, typer.Option("--answers", help="Enter all security questions and answers anew.")] = False,
    new_label: Annotated[str | None, typer.Option("--new-label", help="Rename the account.")] = None,
    unfreeze: Annotated[bool, typer.Option("--unfreeze", help="Resume logins without changing credentials.")] = False,
    tax_id: TaxId = None,
    npi: Npi = None,
    stdin: Stdin = False,
    data_dir: DataDir = None,
) -> None:
    """Change credentials, rename, or unfreeze. New credentials also unfreeze a frozen account."""
    _, vault = _open(data_dir)
    account = _account(vault, carrier, label)
    chosen = [name for name, flag in (("username", username), ("password", password), ("totp_secret", totp))
              if flag]
    if stdin:
        data = _checked(_stdin_secrets(chosen))
        if "totp_secret" in chosen and "totp_secret" not in data:
            data["totp_secret"] = ""  # an empty line for the seed: remove it
    else:
        data = _prompt_secrets(username=username, password=password, totp=totp, answers=answers)
        if totp and data.get("totp_secret") is None:
            data["totp_secret"] = ""
    if not data and new_label is None and not unfreeze and tax_id is None and npi is None:
        raise UserError("nothing to update: give --username/--password/--totp/--answers, --tax-id/--npi, "
                        "--new-label or --unfreeze")
    was_frozen = account.is_frozen
    account = vault.update_account(account.account_id, label=new_label, unfreeze=unfreeze, tax_id=tax_id, npi=npi,
                                   **data)
    note = " (unfrozen)" if was_frozen and not account.is_frozen else ""
    typer.echo(f"updated {account.display_name}{note}")


@vault_app.command()
@_user_errors
def remove(carrier: Carrier, label: Label,
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
           data_dir: DataDir = None) -> None:
    """Delete an account and its saved session."""
    _, vault = _open(data_dir)
    account = _account(vault, carrier, label)
    if not yes and not typer.confirm(f"Remove {account.display_name} from the vault?", default=False):
        raise UserError("not removed")
    vault.remove_account(account.account_id)
    typer.echo(f"removed {account.display_name}")


@vault_app.command()
@_user_errors
def freeze(carrier: Carrier, label: Label,
           reason: Annotated[str, typer.Option("--reason", help="Why logins must stop (shown to staff).")],
           data_dir: DataDir = None) -> None:
    """Stop all logins for an account until someone runs `update` (e.g. the practice changed its password)."""
    _, vault = _open(data_dir)
    account = vault.freeze(_account(vault, carrier, label).account_id, reason)
    typer.echo(f"froze {account.display_name}: {account.frozen_reason}")


@vault_app.command("rotate-key")
@_user_errors
def rotate_key(
    to: Annotated[str, typer.Option("--to", help="New key source: key-file (generated), key (base64, you give "
                                                 "it) or passphrase.")] = "key-file",
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the new key/passphrase from standard input.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Re-encrypt every record's data key under a new master key; the old key then opens nothing."""
    settings, vault = _open(data_dir)
    old_source = vault.key.source
    key_file = MasterKey.default_key_file(settings)
    if to == "key-file":
        vault.rotate_to_key_file(key_file)
        typer.echo(f"vault re-keyed; the new key is in {key_file} (back it up)")
        if old_source in (ENV_KEY, "passphrase"):
            typer.echo(f"unset {ENV_KEY} and {ENV_PASSPHRASE} so the key file is used")
    elif to == "key":
        vault.rotate_key(MasterKey.from_base64(_new_secret(stdin, "New master key (base64 of 32 bytes)"),
                                               source="the new key"))
        typer.echo(f"vault re-keyed; set {ENV_KEY} to the new key before the next run")
    elif to == "passphrase":
        vault.rotate_key(MasterKey.from_passphrase(_new_secret(stdin, "New vault passphrase")))
        typer.echo(f"vault re-keyed; set {ENV_PASSPHRASE} to the new passphrase before the next run")
    else:
        raise UserError("--to must be key-file, key or passphrase")
    if to != "key-file" and key_file.exists():
        typer.echo(f"the key file {key_file} no longer opens the vault: delete it")
    if settings.vault_url:  # the other machines still hold the old key, which opens nothing now
        typer.echo("the vault is shared: give every other machine the new key before its next run (docs/vault.md)")


@vault_app.command("import")
@_user_errors
def import_accounts(file: Annotated[Path, typer.Argument(help="JSON file: {\"accounts\": [{carrier, label, "
                                                              "username, password, totp_secret?, "
                                                              "security_answers?}]}")],
                    data_dir: DataDir = None) -> None:
    """Add or update many accounts from a JSON file, all or nothing (matched by carrier + label)."""
    try:
        data = loads_bounded(file.read_text(encoding="utf-8"), max_depth=JSON_MAX_DEPTH)
    except OSError as error:
        raise UserError(f"cannot read {file}: {error.strerror}") from None
    except (UnicodeDecodeError, ValueError) as error:
        where = f" (line {error.lineno})" if isinstance(error, json.JSONDecodeError) else ""
        why = f": {error}" if isinstance(error, TooDeeplyNested) else ""
        raise UserError(f"{file} is not valid JSON{where}{why}") from None
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        raise UserError(f'{file} must hold {{"accounts": [...]}}')
    entries: list[AccountInput] = []
    for index, raw in enumerate(data["accounts"]):
        if not isinstance(raw, dict):
            raise UserError(f"{file}: accounts[{index}] must be an object")
        try:
            entries.append(AccountInput.model_validate(raw))
        except ValidationError as error:
            raise UserError(f"{file}: " + _one_line(error, f"accounts[{index}]")) from None
    _, vault = _open(data_dir)
    added, updated = vault.upsert_accounts(entries)
    typer.echo(f"imported {len(entries)} accounts ({added} added, {updated} updated)")
    typer.echo(f"reminder: {file} holds plaintext passwords; delete it now (e.g. shred -u {file})")


# --- a new portal password, chosen and stored by the product ------------------------------------------

Portal = Annotated[str, typer.Option("--portal", help="Portal slug, e.g. crossway.")]
Account = Annotated[str, typer.Option("--account", help="The account's label in the vault, e.g. main.")]
EXIT_CHANGED, EXIT_USAGE, EXIT_NOT_CHANGED = 0, 2, 3


@vault_app.command("change-password")
def change_password(portal: Portal, account: Account, data_dir: DataDir = None) -> None:
    """Choose a new password for a portal account, change it on the portal and store it (never shown).

    The product signs in afresh (a code or a push is asked here when the portal wants one), chooses a
    password that keeps the portal's rules, and keeps both passwords in the vault until the portal said
    which one it holds. Exit 0 changed, 3 not changed (the reason is printed), 2 usage."""
    import asyncio

    from aggregator.cli.common import err_console, load_settings
    from aggregator.cli.person import TerminalPerson
    from aggregator.password_change import PasswordChangeOutcome
    from aggregator.password_change import change_password as change
    from aggregator.runner import Runner
    from aggregator.scrapers.registry import adapter_for

    settings = load_settings(data_dir)
    try:
        slug = adapter_for(portal).manifest.slug
        vault = open_vault(settings)
        try:
            if vault.find(slug, account) is None:
                raise UserError(f"no account {slug}/{account} in the vault")
        finally:
            vault.close()
    except (AggregatorError, UserError) as error:
        typer.echo(f"error: {getattr(error, 'reason', error)}", err=True)
        raise typer.Exit(EXIT_USAGE) from None

    async def run() -> PasswordChangeOutcome:
        async with Runner.open(settings) as runner:
            return await change(runner, slug, account, person=TerminalPerson(err_console))

    try:
        outcome = asyncio.run(run())
    except AggregatorError as error:
        typer.echo(f"error: {error.reason}", err=True)
        raise typer.Exit(EXIT_NOT_CHANGED) from None
    if not outcome.ok:
        typer.echo(f"not changed ({outcome.reason_code}): {outcome.reason}", err=True)
        raise typer.Exit(EXIT_NOT_CHANGED)
    when = f" at {outcome.changed_at:%Y-%m-%d %H:%M}Z" if outcome.changed_at else ""
    typer.echo(f"changed the password of {slug}/{account}{when}; the vault holds the new one")
