"""Credential and session-state vault: portal logins of a practice, encrypted at rest.

See docs/vault.md for the user's view (key sources, CLI, import format, freeze, rotation) and
vault/format.py for the file layout and what each check protects against.
"""

from vault.errors import (
    AccountNotFound,
    InvalidAccount,
    MasterKeyError,
    VaultCorrupted,
    VaultError,
    VaultMissing,
    WrongMasterKey,
)
from vault.keys import MasterKey
from vault.models import AccountInput, AccountSecrets, AccountStatus, PortalAccount
from vault.store import Vault
from vault.totp import TotpCodes

__all__ = [
    "AccountInput",
    "AccountNotFound",
    "AccountSecrets",
    "AccountStatus",
    "InvalidAccount",
    "MasterKey",
    "MasterKeyError",
    "PortalAccount",
    "TotpCodes",
    "Vault",
    "VaultCorrupted",
    "VaultError",
    "VaultMissing",
    "WrongMasterKey",
]
