"""What the vault hands out (`PortalAccount`) and what it accepts (`AccountSecrets`, `AccountInput`)."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from datetime import datetime
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from aggregator.identifiers import normalize_tax_id, npi_valid

CARRIER_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AccountStatus(str, Enum):
    ACTIVE = "active"
    FROZEN = "frozen"  # a portal rejected the login: no attempt until a person fixes it


# "pending": written to the vault, not yet sent to the portal; "submitted": possibly sent (the button was
# about to be pressed), so the portal may hold either password.
PasswordChangeStage = Literal["pending", "submitted"]


class PortalAccount(BaseModel):
    """One portal login of the practice. Secrets stay `SecretStr`: repr/str/logs show only stars."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    carrier: str
    label: str
    username: SecretStr
    password: SecretStr
    totp_secret: SecretStr | None = None
    security_answers: dict[str, SecretStr] = Field(default_factory=dict)  # question -> answer
    # Whom the account acts for on a hub: the organization (Tax ID) and provider (NPI) its pickers choose.
    tax_id: str | None = None
    npi: str | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    frozen_reason: str | None = None
    frozen_code: str | None = None  # why, as a reason code (aggregator/human_steps.py), when the runner froze it
    frozen_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    session_saved_at: datetime | None = None
    session_expires_at: datetime | None = None
    # The portal's "remember this device" cookie, kept apart from the session: its expiry as stored
    # (it may have passed; `Vault.load_device` hands out only one still valid).
    device_expires_at: datetime | None = None
    # A password change the product is making on the portal (`Vault.begin_password_change`): the new
    # password waits here until the portal accepted it, so a crash at any step loses neither password.
    pending_password: SecretStr | None = None
    password_change_stage: PasswordChangeStage | None = None
    password_change_started_at: datetime | None = None
    password_changed_at: datetime | None = None  # when the product last changed it (a person's update does not count)

    @property
    def is_frozen(self) -> bool:
        return self.status is AccountStatus.FROZEN

    @property
    def display_name(self) -> str:
        return f"{self.carrier}/{self.label}"


def normalize_totp_secret(value: str) -> str:
    """Seeds are base32; portals show them grouped and in either case ("abcd efgh ...")."""
    seed = re.sub(r"[\s-]", "", value).upper().rstrip("=")
    try:
        raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("not a valid base32 TOTP seed") from None
    if len(raw) < 10:  # 80 bits: the shortest seed portals issue; anything shorter is a typo
        raise ValueError("TOTP seed too short (at least 16 base32 characters)")
    return seed


def check_carrier(value: str) -> str:
    if not CARRIER_SLUG.match(value):
        raise ValueError("carrier must be a slug: lowercase letters, digits, '-' or '_'")
    return value


def check_label(value: str) -> str:
    value = value.strip()
    # Control characters and format characters (bidi overrides such as U+202E, zero-width spaces) would
    # make a label shown in the CLI and the web app read as something else.
    if (not value or len(value) > 100 or _CONTROL.search(value)
            or any(unicodedata.category(char) in ("Cc", "Cf") for char in value)):
        raise ValueError("label must be 1-100 printable characters")
    return value


class AccountSecrets(BaseModel):
    """Secret fields as typed or piped by a person; every field optional so `update` can use it too."""

    # Validation errors must never echo a password back, on screen or in logs.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    username: SecretStr | None = None
    password: SecretStr | None = None
    totp_secret: SecretStr | None = None
    security_answers: dict[str, SecretStr] | None = None
    # Not secrets, but sealed with them (so nobody edits whom an account acts for in the file): "" clears.
    tax_id: str | None = None
    npi: str | None = None

    @field_validator("tax_id")
    @classmethod
    def _tax_id(cls, value: str | None) -> str | None:
        return normalize_tax_id(value) if value else None

    @field_validator("npi")
    @classmethod
    def _npi(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.strip()
        if not npi_valid(value):
            raise ValueError("an NPI is 10 digits with a valid check digit")
        return value

    @field_validator("username", "password")
    @classmethod
    def _not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @field_validator("totp_secret")
    @classmethod
    def _seed(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # an empty seed means "no TOTP"
        return SecretStr(normalize_totp_secret(value.get_secret_value()))

    @field_validator("security_answers")
    @classmethod
    def _answers(cls, value: dict[str, SecretStr] | None) -> dict[str, SecretStr] | None:
        if value is not None:
            for question, answer in value.items():
                if not question.strip() or not answer.get_secret_value():
                    raise ValueError("questions and answers must not be empty")
        return value


class AccountInput(AccountSecrets):
    """One entry of an import file: a whole account."""

    carrier: str
    label: str
    username: SecretStr
    password: SecretStr

    @field_validator("carrier")
    @classmethod
    def _carrier(cls, value: str) -> str:
        return check_carrier(value)

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return check_label(value)
