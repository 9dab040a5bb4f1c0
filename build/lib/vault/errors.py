"""Finer vault errors. All are `aggregator.errors.VaultError`, so callers may catch that one class.

Messages name the file, the record id or the problem, never a secret value.
"""

from __future__ import annotations

from aggregator.errors import VaultError


class MasterKeyError(VaultError):
    """No master key could be found, or its source is unsafe (key file readable by others) or malformed."""


class WrongMasterKey(VaultError):
    """The key does not match the vault's key-check value."""


class VaultMissing(VaultError):
    """There is no vault file where one was expected."""


class VaultCorrupted(VaultError):
    """The file is not a vault we can trust: bad JSON, truncated, or modified outside the vault."""


class AccountNotFound(VaultError):
    """No record with that account id."""


class InvalidAccount(VaultError, ValueError):
    """Account input that cannot be stored (bad carrier slug, empty password, duplicate label...)."""


__all__ = ["AccountNotFound", "InvalidAccount", "MasterKeyError", "VaultCorrupted", "VaultError", "VaultMissing",
           "WrongMasterKey"]
