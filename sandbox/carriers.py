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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sandbox.activity import DEFAULT_ACTIVITY_FORMAT, ActivityFormat
from sandbox.identifiers import digits
from sandbox.plans import PlanSpec

if TYPE_CHECKING:
    from fastapi import FastAPI

# The MFA kinds the sandbox can generate accounts for (sandbox.accounts) and its portals implement. A new
# carrier that reuses one of them names it as a string; only a new kind of MFA is added here.
MFA_KINDS: tuple[str, ...] = ("totp", "security_questions")
PROFILE_MODULE = "profile"  # a sandbox subpackage with this module is a carrier folder
# A sandbox subpackage without a profile whose `server` module exports `HUB` (a HubProfile) is a hub folder: a
# portal serving several payers (sandbox/crossway/).
HUB_MODULE, HUB_ATTRIBUTE = "server", "HUB"
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


class HubHandle(Protocol):
    """A running hub (its start function's answer): the hub's and its identity provider's addresses."""

    hub_url: str
    idp_url: str

    def stop(self) -> None: ...

    def reset(self) -> None: ...

    def advance_totp_clock(self, *, to_offset: float) -> float: ...


@dataclass(frozen=True)
class HubProfile:
    """A sandbox hub: one portal (its own slug, its own adapter) through which several payers are reached,
    behind an identity provider on a second origin. Declared as `HUB` in `sandbox/<slug>/server.py`."""

    slug: str
    display_name: str
    # `aggregator sandbox up --port-base B`: the hub on B + port_offset, its identity provider on B +
    # idp_port_offset; both unique among every carrier's and hub's offsets, never changed once given.
    port_offset: int
    idp_port_offset: int
    payers: tuple[str, ...]  # the payer slugs the hub lists, in its order
    payer_names: Mapping[str, str]  # payer slug -> the name the hub shows (and an appointment list may write)
    # start(dataset, *, host, hub_port, idp_port) -> HubHandle, serving both apps until stop().
    start: Callable[..., HubHandle]
    # (Dataset -> ...: typed Any here, as sandbox.dataset and sandbox.accounts import this module.)
    # The hub's provider accounts for the vault (sandbox.accounts.ProviderAccount: carrier = the hub's slug, with
    # the tax id and NPI they act for).
    accounts: Callable[[Any], tuple[Any, ...]]
    # The data the hub serves: a Dataset whose carriers are the hub's payers (ground truth takes it).
    data: Callable[[Any], Any]

    @property
    def offsets(self) -> tuple[int, int]:
        return self.port_offset, self.idp_port_offset


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


def discover_hubs(package: str = "sandbox") -> dict[str, HubProfile]:
    """Every hub folder under `package` (a subpackage without profile.py whose `server` module exports HUB),
    by slug, in port-offset order (uncached; see `hubs`). Its offsets may not collide with any carrier's."""
    root = importlib.import_module(package)
    found: list[HubProfile] = []
    for info in pkgutil.iter_modules(root.__path__):
        if not info.ispkg:
            continue
        inside = [os.path.join(base, info.name) for base in root.__path__]
        modules = {m.name for m in pkgutil.iter_modules(inside)}
        if PROFILE_MODULE in modules or HUB_MODULE not in modules:
            continue
        hub = getattr(importlib.import_module(f"{package}.{info.name}.{HUB_MODULE}"), HUB_ATTRIBUTE, None)
        if hub is None:
            continue  # a shared package that happens to have a server module
        folder = f"{package}/{info.name}"
        if not isinstance(hub, HubProfile):
            raise CarrierFolderError(f"{folder}: {HUB_MODULE}.{HUB_ATTRIBUTE} must be a sandbox.carriers.HubProfile, "
                                     f"not {type(hub).__name__}")
        if hub.slug != info.name:
            raise CarrierFolderError(f"{folder}: {HUB_ATTRIBUTE}.slug is '{hub.slug}'; it must be the folder's name, "
                                     f"'{info.name}'")
        found.append(hub)
    return {h.slug: h for h in sorted(found, key=lambda h: h.port_offset)}


def _check_offsets(carriers: dict[str, SandboxCarrier], found_hubs: dict[str, HubProfile]) -> None:
    by_offset = {c.profile.port_offset: slug for slug, c in carriers.items()}
    for hub in found_hubs.values():
        for offset in hub.offsets:
            taken = by_offset.setdefault(offset, hub.slug)
            if taken != hub.slug or hub.port_offset == hub.idp_port_offset:
                raise CarrierFolderError(f"the sandbox hub '{hub.slug}' declares port offset {offset}, which "
                                         f"'{taken}' uses already; give it unused ones")


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


def _next_free(found: list[SandboxCarrier], found_hubs: Iterable[HubProfile] = ()) -> int:
    return max((*(c.profile.port_offset for c in found), *(o for h in found_hubs for o in h.offsets)), default=-1) + 1


@cache
def _discovered() -> dict[str, SandboxCarrier]:
    return discover()


@cache
def _discovered_hubs() -> dict[str, HubProfile]:
    found = discover_hubs()
    _check_offsets(_discovered(), found)
    return found


def hubs() -> dict[str, HubProfile]:
    """Every sandbox hub (a portal serving several payers, e.g. sandbox/crossway/), by slug. Not carriers:
    `profiles()` never lists them; `portal_slugs()` lists both."""
    return dict(_discovered_hubs())


def hub(slug: str) -> HubProfile:
    found = _discovered_hubs()
    if slug not in found:
        raise KeyError(f"no sandbox hub '{slug}' (known: {', '.join(found) or 'none'})")
    return found[slug]


def portal_slugs() -> tuple[str, ...]:
    """Every sandbox portal a `start_sandbox` can serve: the carriers' own portals, then the hubs."""
    return (*carrier_slugs(), *_discovered_hubs())


def hub_serving(payer: str) -> HubProfile | None:
    """The hub whose payer list has `payer` and which is its only way in (no carrier portal of that slug)."""
    if payer in _discovered():
        return None
    return next((h for h in _discovered_hubs().values() if payer in h.payers), None)


def hub_payers() -> tuple[str, ...]:
    """The payers reached only through a sandbox hub (no portal of their own), in the hubs' order."""
    return tuple(dict.fromkeys(p for h in _discovered_hubs().values() for p in h.payers if p not in _discovered()))


class _HasCarriers(Protocol):
    """What payer_source reads of a dataset (sandbox.dataset.Dataset, which imports this module)."""

    @property
    def carriers(self) -> Mapping[str, Any]: ...


D = TypeVar("D", bound=_HasCarriers)


def payer_source(dataset: D, payer: str) -> D:
    """The dataset holding `payer`'s members, for `sandbox.ground_truth`: the dataset itself for a carrier, the
    hub's data (derived from the same dataset: same seed, same as-of) for a payer only a hub serves."""
    if payer in dataset.carriers:
        return dataset
    served_by = hub_serving(payer)
    if served_by is None:
        raise KeyError(f"no sandbox carrier or hub payer '{payer}'")
    found: D = served_by.data(dataset)
    return found


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
    """The port offset a new carrier should declare (one past the highest in use, hubs' included)."""
    return _next_free(list(_discovered().values()), _discovered_hubs().values())


def unknown_carriers(slugs: tuple[str, ...] | list[str]) -> list[str]:
    known = _discovered()
    return [s for s in slugs if s not in known]


def _carrier(slug: str) -> SandboxCarrier:
    carriers = _discovered()
    if slug not in carriers:
        raise KeyError(f"no sandbox carrier '{slug}' (known: {', '.join(carriers)})")
    return carriers[slug]
