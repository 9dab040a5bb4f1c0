"""`aggregator users ...`: people who sign in to the web app, and their API tokens.

The first admin is made here (`aggregator users add alice --role admin`); afterwards admins can add
users in the web app too. Passwords are read from the terminal (twice) or from stdin with
`--password-stdin`, never from the command line, where they would land in shell history.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from aggregator.cli.common import app
from aggregator.errors import ConfigurationError
from aggregator.settings import Settings, private_dirs

if TYPE_CHECKING:
    from aggregator.store import Repository

users_app = typer.Typer(help="Web app users (admin, staff, auditor) and their API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="state directory (default: AGGREGATOR_DATA_DIR or .)")]


def _repository(data_dir: Path | None) -> tuple[Settings, Repository]:
    from aggregator.store import Repository

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    try:  # made 0700, or refused when other users can read it (aggregator.settings.private_data_dir)
        private_dirs(settings)
    except ConfigurationError as error:
        raise _fail(error.reason, 2) from None
    return settings, Repository.open(settings.resolved_database_url)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Again", hide_input=True) != first:
        raise _fail("the two passwords differ", 2)
    return first


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="the name they sign in with")],
    role: Annotated[str, typer.Option(help="admin, staff or auditor")] = "staff",
    name: Annotated[str | None, typer.Option(help="display name (default: the user name)")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Add a web user (the first admin is made this way)."""
    from aggregator.store import web as store
    from aggregator.web.auth import hash_password

    _, repository = _repository(data_dir)
    try:
        password_hash = hash_password(_read_password(password_stdin))
        store.add_user(repository, username=username.strip(), display_name=(name or username).strip(), role=role,
                       password_hash=password_hash)
    except ValueError as error:
        raise _fail(str(error), 2) from None
    console.print(f"added {role} [bold]{username}[/bold]", highlight=False)


@users_app.command("list")
def list_users(data_dir: DataDirOption = None) -> None:
    """Users with their role, status and last sign-in."""
    from aggregator.store import web as store

    _, repository = _repository(data_dir)
    table = Table()
    for header in ("User", "Name", "Role", "Status", "Last sign-in", "API tokens"):
        table.add_column(header)
    for user in store.users(repository):
        active = [t for t in store.tokens(repository, user.id) if t.revoked_at is None]
        table.add_row(user.username, user.display_name, user.role, "disabled" if user.disabled else "active",
                      str(user.last_login_at or ""), str(len(active)))
    console.print(table)


def _set_disabled(username: str, disabled: bool, data_dir: Path | None) -> None:
    from aggregator.store import web as store

    _, repository = _repository(data_dir)
    user = store.user_by_name(repository, username)
    if user is None:
        raise _fail(f"no user '{username}'", 2)
    if disabled and user.role == "admin" and not user.disabled and store.count_admins(repository) <= 1:
        raise _fail("the last active admin cannot be disabled", 2)
    store.update_user(repository, user.id, disabled=disabled)
    console.print(f"{'disabled' if disabled else 'enabled'} {username}", highlight=False)


@users_app.command("disable")
def disable(username: str, data_dir: DataDirOption = None) -> None:
    """Stop a user signing in; their sessions end now and their API tokens stop working."""
    _set_disabled(username, True, data_dir)


@users_app.command("enable")
def enable(username: str, data_dir: DataDirOption = None) -> None:
    """Let a disabled user sign in again (their old API tokens stay revoked: make new ones)."""
    _set_disabled(username, False, data_dir)


@users_app.command("token")
def token(
    username: str,
    name: Annotated[str, typer.Argument(help="what the token is for, e.g. 'billing-sync'")] = "api",
    days: Annotated[int | None, typer.Option(help="days until it expires (default AGGREGATOR_WEB_API_TOKEN_DAYS, 90)",
                                             min=1, max=3650)] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Make an API token for a user. It is printed once; only a keyed hash is stored; it expires."""
    from aggregator.store import web as store
    from aggregator.web.auth import keyed_hash, load_secret_key, new_api_token

    settings, repository = _repository(data_dir)
    user = store.user_by_name(repository, username)
    if user is None or user.disabled:
        raise _fail(f"no active user '{username}'", 2)
    try:
        store.check_name("token name", name)
    except ValueError as error:
        raise _fail(str(error), 2) from None
    value = new_api_token()
    lifetime = days or settings.web_api_token_days
    row = store.add_token(repository, user_id=user.id, name=name[:80], days=lifetime,
                          token_hash=keyed_hash(load_secret_key(settings.resolved_web_secret_key_file), value))
    err_console.print(f"API token '{name}' for {username} ({user.role}), valid until {row.expires_at:%Y-%m-%d}; "
                      "it is shown only now:", highlight=False)
    print(value)
