"""Provider accounts for the sandbox portals, generated from the seed, and their vault export.

These are sandbox secrets: printing a username is fine, passwords and TOTP seeds only ever leave in the
export file that `aggregator vault import` reads.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sandbox.carriers import NOT_DATA, CarrierProfile
from sandbox.identifiers import base32_secret

if TYPE_CHECKING:
    from vault.models import AccountInput

SECURITY_QUESTIONS = (
    "What was the name of your first pet?",
    "In what city was your practice first licensed?",
    "What is your mother's maiden name?",
    "What was the make of your first car?",
    "What street did you grow up on?",
)
_ANSWER_WORDS = ("willow", "copper", "harbor", "juniper", "falcon", "meadow", "granite", "saffron", "cobalt")


@dataclass(frozen=True)
class ProviderAccount:
    carrier: str
    label: str  # the vault label (unique per carrier): the role; staff see this, never the username
    username: str
    password: str
    totp_secret: str | None = None  # portals with TOTP MFA
    security_answers: tuple[tuple[str, str], ...] = ()  # portals with security questions
    # The organization (Tax ID) and provider (NPI) the account acts for, where the portal asks (hubs); not secrets.
    # Not generated carrier data (a carrier's accounts have none): left out of dataset_fingerprint, so adding the
    # fields changed no carrier's fingerprint.
    tax_id: str | None = field(default=None, metadata=NOT_DATA)
    npi: str | None = field(default=None, metadata=NOT_DATA)

    def export_row(self) -> dict[str, object]:
        row: dict[str, object] = {
            "carrier": self.carrier, "label": self.label, "username": self.username,
            "password": self.password, "totp_secret": self.totp_secret,
        }
        if self.security_answers:
            row["security_answers"] = dict(self.security_answers)
        # Only where set, so a carrier portal's export rows are exactly what they were.
        row.update({key: value for key, value in (("tax_id", self.tax_id), ("npi", self.npi)) if value})
        return row


def _password(rng: random.Random) -> str:
    # Mixed classes in fixed slots so every password satisfies a typical portal password policy.
    upper, lower, digit = "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789"
    body = [rng.choice(upper), rng.choice(lower), rng.choice(lower), rng.choice(digit), rng.choice(upper)]
    body += [rng.choice(lower + digit) for _ in range(6)]
    return "".join(body) + rng.choice("!#%*+-=?@")


def make_accounts(rng: random.Random, profile: CarrierProfile, practice_name: str) -> tuple[ProviderAccount, ...]:
    initials = "".join(word[0] for word in practice_name.split() if word[0].isalpha()).lower()
    accounts = []
    for role in profile.account_roles:
        username = f"{initials}.{role}{rng.randint(10, 99)}"
        totp = base32_secret(rng) if profile.mfa == "totp" else None
        answers: tuple[tuple[str, str], ...] = ()
        if profile.mfa == "security_questions":
            questions = rng.sample(SECURITY_QUESTIONS, 3)
            answers = tuple((q, f"{rng.choice(_ANSWER_WORDS)}{rng.randint(1, 99)}") for q in questions)
        accounts.append(ProviderAccount(profile.slug, role, username, _password(rng),
                                        totp, answers))
    return tuple(accounts)


def export_accounts(accounts: Iterable[ProviderAccount], path: Path) -> Path:
    """Write `{"accounts": [...]}` for `aggregator vault import`, readable by the owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"accounts": [a.export_row() for a in accounts]}, indent=2) + "\n"
    # Create with 0600 from the start rather than chmod after, so the secrets are never world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(payload)
    os.chmod(path, 0o600)
    return path


class _CarrierAccounts(Protocol):
    @property
    def accounts(self) -> Sequence[ProviderAccount]: ...


class _Dataset(Protocol):
    """What vault_inputs reads of a dataset (sandbox.dataset.Dataset, which imports this module)."""

    def carrier(self, slug: str) -> _CarrierAccounts: ...


def portal_accounts(dataset: _Dataset, portal: str) -> Sequence[ProviderAccount]:
    """One sandbox portal's provider accounts: a carrier's (from the dataset) or a hub's (sandbox.carriers.hubs())."""
    from sandbox.carriers import hubs

    found = hubs().get(portal)
    return found.accounts(dataset) if found is not None else dataset.carrier(portal).accounts


def vault_inputs(dataset: _Dataset, carriers: Iterable[str]) -> list[AccountInput]:
    """The sandbox's provider accounts as vault entries, for `Vault.upsert_accounts` (demo, tests, recorder).
    `carriers` names portals: carrier slugs and hub slugs (a hub's accounts carry the Tax ID and NPI they act for)."""
    from vault.models import AccountInput

    return [AccountInput.model_validate(a.export_row()) for slug in carriers for a in portal_accounts(dataset, slug)]
