"""The vault the settings name: the file (`vault_path`, the default) or PostgreSQL (`vault_url`).

Every command, the runner and the web app open the vault through here, so one setting moves all of
them. psycopg is imported only for a database vault (it is the `postgres` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.settings import Settings
from vault.errors import VaultError
from vault.keys import MasterKey
from vault.store import Vault

if TYPE_CHECKING:
    from vault.database import DatabaseVault


def vault_location(settings: Settings) -> str:
    """Where the vault is, for messages: the file path, or `database host:port/name (table ...)`."""
    if settings.vault_url:
        return _database_vault().location_at(settings.vault_url)
    return str(settings.resolved_vault_path)


def vault_configured(settings: Settings) -> bool:
    """A vault is expected: a database vault is named, or the vault file exists."""
    return bool(settings.vault_url) or settings.resolved_vault_path.exists()


def vault_exists(settings: Settings) -> bool:
    if settings.vault_url:
        return _database_vault().exists_at(settings.vault_url)
    return settings.resolved_vault_path.exists()


def open_vault(settings: Settings, key: MasterKey | None = None) -> Vault:
    """Open and verify the configured vault with `key` (default: `MasterKey.resolve(settings)`)."""
    key = key or MasterKey.resolve(settings)
    if settings.vault_url:
        return _database_vault().open_url(settings.vault_url, key)
    return Vault.open(settings.resolved_vault_path, key)


def create_vault(settings: Settings, key: MasterKey) -> Vault:
    """A new, empty vault where the settings say; refuses to overwrite one."""
    if settings.vault_url:
        return _database_vault().create_url(settings.vault_url, key)
    return Vault.create(settings.resolved_vault_path, key)


def copy_file_to_database(settings: Settings, key: MasterKey) -> Vault:
    """The vault file (`vault_path`) copied, as it is, into the database vault the settings name."""
    if not settings.vault_url:
        raise VaultError("copying the vault file into the database needs AGGREGATOR_VAULT_URL")
    return _database_vault().copy_of_file(settings.vault_url, settings.resolved_vault_path, key)


def _database_vault() -> type[DatabaseVault]:
    """vault.database's DatabaseVault, imported on first use (it needs psycopg)."""
    try:
        from vault.database import DatabaseVault
    except ImportError as error:
        raise VaultError(f"AGGREGATOR_VAULT_URL names a database vault, but {error.name} is not installed: "
                         "install the `postgres` extra (pip install 'aggregator[postgres]')") from None
    return DatabaseVault
