"""Who uses the Crossway hub: organizations (Tax IDs) with their providers (NPIs), and the hub's user
accounts (Crossway ID username, password, TOTP seed) with the organizations each belongs to.

Generated from the dataset seed with streams of their own (`"<seed>:crossway:..."`), so the hub never
changes any carrier's data. The first organization is the sandbox practice itself (the dataset's
`Provider`: its tax id and its group NPI); the second is a sister practice. Every NPI passes the Luhn
check (`sandbox.identifiers.npi_valid`).

Accounts: `frontdesk` belongs to both organizations, `billing` to the first only. The second organization
is not enrolled with every payer (`Organization.payers`): hubs list only the payers an organization has
enrolled with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from sandbox import names
from sandbox.accounts import ProviderAccount
from sandbox.dataset import Dataset
from sandbox.identifiers import base32_secret, make_npi, make_tax_id
from sandbox.rng import rng_for

HUB = "crossway"  # the account's `carrier` in the vault export: the portal the account signs in to
_CLINICIANS = (("Dr. Amara Okafor", "Family Medicine"), ("Dr. Lucas Brennan", "Internal Medicine"),
               ("Dr. Mei Tanaka", "Pediatrics"), ("Dr. Rafael Ortiz", "Physical Medicine"),
               ("Dr. Hannah Lindqvist", "Family Medicine"), ("Dr. Samuel Achebe", "Cardiology"))


@dataclass(frozen=True)
class HubProvider:
    npi: str
    name: str
    specialty: str


@dataclass(frozen=True)
class Organization:
    tax_id: str
    name: str
    providers: tuple[HubProvider, ...]
    payers: tuple[str, ...]  # payer slugs this organization is enrolled with (in the hub's payer order)

    def provider(self, npi: str) -> HubProvider | None:
        return next((p for p in self.providers if p.npi == npi), None)


@dataclass(frozen=True)
class HubAccount:
    role: str  # frontdesk | billing: the vault label
    username: str
    password: str  # the initial password (a forced change replaces it in the identity provider's state)
    totp_secret: str
    display_name: str
    organizations: tuple[str, ...]  # tax ids, in picker order

    def vault_account(self) -> ProviderAccount:
        """The account as the sandbox exports accounts (`aggregator vault import`), carrier "crossway"."""
        return ProviderAccount(HUB, self.role, self.username, self.password, self.totp_secret)


@dataclass(frozen=True)
class Directory:
    organizations: tuple[Organization, ...]
    accounts: tuple[HubAccount, ...]

    def organization(self, tax_id: str) -> Organization | None:
        return next((o for o in self.organizations if o.tax_id == tax_id), None)

    def account(self, username: str) -> HubAccount | None:
        return next((a for a in self.accounts if a.username == username), None)

    def organizations_of(self, username: str) -> tuple[Organization, ...]:
        account = self.account(username)
        if account is None:
            return ()
        return tuple(o for tax_id in account.organizations if (o := self.organization(tax_id)) is not None)


def make_directory(dataset: Dataset, payer_slugs: tuple[str, ...]) -> Directory:
    return _directory(dataset.seed, dataset.provider.practice_name, dataset.provider.tax_id, dataset.provider.npi,
                      payer_slugs)


@cache
def _directory(seed: int, practice: str, tax_id: str, group_npi: str, payer_slugs: tuple[str, ...]) -> Directory:
    rng = rng_for(seed, HUB, "organizations")
    clinicians = list(_CLINICIANS)
    rng.shuffle(clinicians)
    first = Organization(tax_id, practice, (
        HubProvider(group_npi, practice, "Group Practice"),
        *(HubProvider(make_npi(rng), name, specialty) for name, specialty in clinicians[:2])), payer_slugs)
    sister_name = rng.choice([p for p in names.PRACTICES if p != practice])
    while (sister_tax_id := make_tax_id(rng)) == tax_id:
        pass
    second = Organization(sister_tax_id, sister_name, tuple(
        HubProvider(make_npi(rng), name, specialty) for name, specialty in clinicians[2:5]),
        payer_slugs[::2])  # not enrolled with every payer
    accounts = _accounts(rng_for(seed, HUB, "accounts"), practice, (first.tax_id, second.tax_id))
    return Directory((first, second), accounts)


def _accounts(rng: random.Random, practice: str, tax_ids: tuple[str, str]) -> tuple[HubAccount, ...]:
    initials = "".join(word[0] for word in practice.split() if word[0].isalpha()).lower()
    people = (("frontdesk", "Front Desk", tax_ids), ("billing", "Billing Office", tax_ids[:1]))
    return tuple(HubAccount(role, f"{initials}.{role}@cw{rng.randint(100, 999)}", _password(rng), base32_secret(rng),
                            f"{practice} {label}", orgs) for role, label, orgs in people)


def _password(rng: random.Random) -> str:
    # Meets the Crossway ID password rules (sandbox/crossway/idp_state.py PASSWORD_RULES).
    upper, lower, digit = "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789"
    body = [rng.choice(upper), rng.choice(lower), rng.choice(lower), rng.choice(digit), rng.choice(upper)]
    body += [rng.choice(lower + digit) for _ in range(8)]
    return "".join(body) + rng.choice("!#%*+-=?@")
