"""Carrier profiles: what makes each sandbox carrier's data its own (ids, payer, plan catalogue, MFA), and
the discovery of the sandbox carriers.

A sandbox carrier is its folder: the package `sandbox/<slug>/` with a `profile.py` that defines
`PROFILE = CarrierProfile(...)` and an `__init__.py` that exports `PROFILE` and `create_app(dataset, state)`
(the portal). `profiles()` finds them by walking the subpackages of `sandbox`; nothing else lists the
carriers. Their order, everywhere (dataset, ports, demo, appointment lists), is ascending `port_offset`,
which is also what keeps `aggregator sandbox up --port-base B` serving each carrier on the same port
(B + port_offset) when another carrier is added.

A profile is pure description; `dataset.generate_dataset` turns it into members with a random stream
of its own (seeded from the dataset seed and the slug), so adding a carrier never changes another
carrier's data.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

from sandbox.activity import DEFAULT_ACTIVITY_FORMAT, ActivityFormat
from sandbox.identifiers import digits
from sandbox.plans import PlanSpec

if TYPE_CHECKING:
    from fastapi import FastAPI

# The MFA kinds the sandbox can generate accounts for (sandbox.accounts) and its portals implement. A new
# carrier that reuses one of them names it as a string; only a new kind of MFA is added here.
MFA_KINDS: tuple[str, ...] = ("totp", "security_questions")
PROFILE_MODULE = "profile"  # a sandbox subpackage with this module is a carrier folder
_SLUG = re.compile(r"[a-z][a-z0-9_]*")
# Field metadata: how the sandbox is served or how numbers are made, not generated data; left out of
# `dataset.dataset_fingerprint` so such fields can be added without changing any carrier's fingerprint.
NOT_DATA = {"fingerprint": False}


@dataclass(frozen=True)
class CarrierProfile:
    slug: str
    display_name: str
    payer_name: str
    payer_id: str
    member_id_prefix: str
    member_id_digits: int
    # True: dependents get the subscriber's id plus a two-digit suffix (01, 02, ...), as many Blues do.
    # False: every member has an id of their own and the portal shows the subscriber id separately.
    dependent_suffix: bool
    group_number_digits: int
    plans: tuple[PlanSpec, ...]
    mfa: str  # one of MFA_KINDS
    # `aggregator sandbox up --port-base B` serves this carrier on B + port_offset. Unique per carrier and
    # never changed once given, so a carrier keeps its port when others are added; also the carriers' order.
    port_offset: int = field(metadata=NOT_DATA)
    account_roles: tuple[str, ...] = ("frontdesk", "billing")
    households: int = 110  # enough households for >= 200 members with the household mix used
    # How authorizations, claims and payments are numbered (sandbox.activity).
    activity: ActivityFormat = field(default=DEFAULT_ACTIVITY_FORMAT, metadata=NOT_DATA)

    def __post_init__(self) -> None:
        if not _SLUG.fullmatch(self.slug):
            raise ValueError(f"carrier slug '{self.slug}': use lowercase letters, digits and '_', starting "
                             "with a letter")
        if self.mfa not in MFA_KINDS:
            raise ValueError(f"carrier '{self.slug}': unknown MFA kind '{self.mfa}' (the sandbox supports: "
                             f"{', '.join(MFA_KINDS)})")
        if self.port_offset < 0:
            raise ValueError(f"carrier '{self.slug}': port_offset must be 0 or more, not {self.port_offset}")
        if not self.plans:
            raise ValueError(f"carrier '{self.slug}': a profile needs at least one plan")

    def new_member_id(self, rng: random.Random) -> str:
        return self.member_id_prefix + digits(rng, self.member_id_digits)

    def new_group_number(self, rng: random.Random) -> str:
        # Leading zeros on purpose: group numbers are strings and adapters must keep them.
        return "00" + digits(rng, self.group_number_digits - 2)

    def looks_like_member_id(self, value: str) -> bool:
        suffix = r"(\d{2})?" if self.dependent_suffix else ""
        return re.fullmatch(rf"{self.member_id_prefix}\d{{{self.member_id_digits}}}{suffix}", value) is not None


# Copay tables (dollars per visit kind) shared by the carriers' plan catalogues.
COPAYS_GOLD = {"office": 20, "urgent": 40, "emergency": 200, "therapy": 30, "mental": 20, "chiro": 25}
COPAYS_SILVER = {"office": 30, "urgent": 60, "emergency": 300, "therapy": 40, "mental": 30, "chiro": 35}
COPAYS_HMO = {"office": 15, "urgent": 35, "emergency": 150, "therapy": 25, "mental": 15, "chiro": 20}
COPAYS_POS = {"office": 25, "urgent": 50, "emergency": 250, "therapy": 35, "mental": 25, "chiro": 30}
COPAYS_EPO = {"office": 20, "urgent": 45, "emergency": 250, "therapy": 30, "mental": 20, "chiro": 25}


# --- discovery ------------------------------------------------------------------------------------

class CarrierFolderError(ValueError):
    """A folder under sandbox/ that looks like a carrier (it has profile.py) but breaks the contract."""


@dataclass(frozen=True)
class SandboxCarrier:
    profile: CarrierProfile
    create_app: Callable[..., FastAPI]


def discover(package: str = "sandbox") -> dict[str, SandboxCarrier]:
    """Every carrier folder under `package`, by slug, in port-offset order (uncached; see `profiles`)."""
    root = importlib.import_module(package)
    found: list[SandboxCarrier] = []
    for info in pkgutil.iter_modules(root.__path__):
        if not info.ispkg:
            continue
        folder = f"{package}/{info.name}"
        inside = [os.path.join(base, info.name) for base in root.__path__]
        if not any(m.name == PROFILE_MODULE for m in pkgutil.iter_modules(inside)):
            continue  # shared code, not a carrier
        module = importlib.import_module(f"{package}.{info.name}")
        found.append(_carrier_of(folder, info.name, module))
    by_offset: dict[int, str] = {}
    for carrier in found:
        taken = by_offset.setdefault(carrier.profile.port_offset, carrier.profile.slug)
        if taken != carrier.profile.slug:
            raise CarrierFolderError(
                f"sandbox carriers '{taken}' and '{carrier.profile.slug}' both declare port_offset "
                f"{carrier.profile.port_offset}; give '{carrier.profile.slug}' an unused one (next free: "
                f"{_next_free(found)})")
    return {c.profile.slug: c for c in sorted(found, key=lambda c: c.profile.port_offset)}


def _carrier_of(folder: str, name: str, module: ModuleType) -> SandboxCarrier:
    profile = getattr(module, "PROFILE", None)
    if profile is None:
        raise CarrierFolderError(f"{folder}: has {PROFILE_MODULE}.py but its __init__.py does not export PROFILE "
                                 f"(add `from {module.__name__}.{PROFILE_MODULE} import PROFILE`)")
    if not isinstance(profile, CarrierProfile):
        raise CarrierFolderError(f"{folder}: PROFILE must be a sandbox.carriers.CarrierProfile, "
                                 f"not {type(profile).__name__}")
    if profile.slug != name:
        raise CarrierFolderError(f"{folder}: PROFILE.slug is '{profile.slug}'; it must be the folder's name, '{name}'")
    create_app = getattr(module, "create_app", None)
    if not callable(create_app):
        raise CarrierFolderError(f"{folder}: __init__.py must export create_app(dataset, state) -> FastAPI")
    return SandboxCarrier(profile, create_app)


def _next_free(found: list[SandboxCarrier]) -> int:
    return max((c.profile.port_offset for c in found), default=-1) + 1


@cache
def _discovered() -> dict[str, SandboxCarrier]:
    return discover()


def profiles() -> dict[str, CarrierProfile]:
    """Every sandbox carrier's profile, by slug, in the stable order (ascending port_offset)."""
    return {slug: carrier.profile for slug, carrier in _discovered().items()}


def carrier_slugs() -> tuple[str, ...]:
    return tuple(_discovered())


def profile(slug: str) -> CarrierProfile:
    return _carrier(slug).profile


def portal_factory(slug: str) -> Callable[..., FastAPI]:
    """The carrier's `create_app(dataset, state)`."""
    return _carrier(slug).create_app


def next_port_offset() -> int:
    """The port offset a new carrier should declare (one past the highest in use)."""
    return _next_free(list(_discovered().values()))


def unknown_carriers(slugs: tuple[str, ...] | list[str]) -> list[str]:
    known = _discovered()
    return [s for s in slugs if s not in known]


def _carrier(slug: str) -> SandboxCarrier:
    carriers = _discovered()
    if slug not in carriers:
        raise KeyError(f"no sandbox carrier '{slug}' (known: {', '.join(carriers)})")
    return carriers[slug]
