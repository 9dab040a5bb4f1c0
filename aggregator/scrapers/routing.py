"""Which portal answers for which payer: the payer on the insurance card (what an appointment names) is
reached through a portal (its own site, or a multi-payer hub), with the portal accounts allowed for it.

Without configuration every payer goes to the portals whose manifest serves it: its own site first (the
portal whose slug is the payer's), then the hubs, in registry order, with every account of each. A practice
changes that in `<data dir>/routing.json` (or the web admin's routing page, which writes the same file):

    {"payers": {"ridgeline": {"portals": ["crossway", "ridgeline"]},
                "harborview": {"portals": ["crossway"], "accounts": {"crossway": ["frontdesk"]}}}}

A payer listed there goes only to the portals listed, in that order; `accounts` limits which portal accounts
(vault labels) may be used for it. Everything is checked when read: a payer or portal nobody declares, a
portal that does not serve the payer, or a malformed file is a `ConfigurationError` that names the place.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aggregator.errors import ConfigurationError
from aggregator.jsonlimits import TooDeeplyNested, loads_bounded
from aggregator.scrapers.framework import CarrierAdapter, PayerEntry
from aggregator.scrapers.registry import adapter_for, all_adapters

ROUTING_FILE = "routing.json"
MAX_ROUTING_BYTES = 1_000_000


class PayerRoute(BaseModel):
    """One payer's configured portals (in order of preference) and the accounts each may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    portals: tuple[str, ...] = Field(min_length=1)
    accounts: dict[str, tuple[str, ...]] = Field(default_factory=dict, description="portal -> vault labels")


class RoutingFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    payers: dict[str, PayerRoute] = Field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One way to reach a payer: a portal, and the labels of its accounts allowed (None: every account)."""

    payer: str
    portal: str
    accounts: frozenset[str] | None = None

    def allows(self, label: str) -> bool:
        return self.accounts is None or label in self.accounts

    @property
    def adapter(self) -> type[CarrierAdapter]:
        return adapter_for(self.portal)


def known_payers() -> dict[str, PayerEntry]:
    """Every payer some portal serves (the first portal's entry names it: its own site's, then a hub's)."""
    found: dict[str, PayerEntry] = {}
    for adapter in _by_preference(all_adapters()):
        for entry in adapter.manifest.served_payers():
            found.setdefault(entry.slug, entry)
    return dict(sorted(found.items()))


def resolve_payer(text: str) -> str:
    """A payer's slug or display name (as an appointment file or a person writes it) -> its slug."""
    key = " ".join(text.split()).casefold()
    payers = known_payers()
    for entry in payers.values():
        if key in (entry.slug, entry.display_name.casefold()):
            return entry.slug
    hubs = [a.manifest for a in all_adapters() if a.manifest.is_hub and key in (a.manifest.slug,
                                                                                a.manifest.display_name.casefold())]
    if hubs:
        raise ConfigurationError(f"'{text}' is a portal that serves several payers, not a payer: name the health "
                                 f"plan ({', '.join(p.slug for p in hubs[0].served_payers())})")
    raise ConfigurationError(f"unknown carrier '{text}' (known: {', '.join(payers)})")


def payer_name(payer: str) -> str:
    entry = known_payers().get(payer)
    return entry.display_name if entry else payer


def default_routes(payer: str) -> list[Route]:
    return [Route(payer, adapter.manifest.slug) for adapter in _by_preference(all_adapters())
            if adapter.manifest.serves(payer)]


def portal_of(payer: str) -> str:
    """The portal a queue worker's account lock is taken on for `payer` (its first default route; an
    unknown payer is returned as it is, for the registry to name). The routing file's order applies to the
    in-process batch and to lookups; a queued job names its portal so its lock and its session agree."""
    routes = default_routes(payer.strip().lower())
    return routes[0].portal if routes else payer


def _by_preference(adapters: list[type[CarrierAdapter]]) -> list[type[CarrierAdapter]]:
    # A payer's own site before any hub: it is the source the hub's copy is made from.
    return sorted(adapters, key=lambda adapter: adapter.manifest.is_hub)


class Routing:
    """The routes in force: the file's, over the defaults."""

    def __init__(self, configured: RoutingFile | None = None, source: str = "routing") -> None:
        self.configured = configured or RoutingFile()
        self.source = source
        problems = self._problems()
        if problems:
            raise ConfigurationError(f"{source}: " + "; ".join(problems))

    @classmethod
    def load(cls, data_dir: Path) -> Routing:
        path = data_dir / ROUTING_FILE
        if not path.is_file():
            return cls()
        try:
            raw = path.read_bytes()
            if len(raw) > MAX_ROUTING_BYTES:
                raise ConfigurationError(f"{path}: larger than {MAX_ROUTING_BYTES} bytes")
            return cls(parse_routing(raw.decode("utf-8"), str(path)), str(path))
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigurationError(f"{path}: cannot be read ({type(error).__name__})") from None

    def _problems(self) -> list[str]:
        problems = []
        payers = known_payers()
        for payer, route in self.configured.payers.items():
            if payer not in payers:
                problems.append(f"payers.{payer}: no portal serves a payer '{payer}' (known: {', '.join(payers)})")
                continue
            for index, portal in enumerate(route.portals):
                try:
                    manifest = adapter_for(portal).manifest
                except ConfigurationError:
                    problems.append(f"payers.{payer}.portals[{index}]: unknown portal '{portal}'")
                    continue
                if not manifest.serves(payer):
                    problems.append(f"payers.{payer}.portals[{index}]: {manifest.display_name} does not serve "
                                    f"'{payer}'")
            if len(set(route.portals)) != len(route.portals):
                problems.append(f"payers.{payer}.portals: a portal is listed twice")
            for portal in route.accounts:
                if portal not in route.portals:
                    problems.append(f"payers.{payer}.accounts.{portal}: not one of this payer's portals")
        return problems

    def routes(self, payer: str, *, portal: str | None = None) -> list[Route]:
        """The ways to reach `payer`, in order of preference; `portal` forces one (it must serve the payer)."""
        payer = payer.strip().lower()
        configured = self.configured.payers.get(payer)
        if configured is not None:
            routes = [Route(payer, p, frozenset(configured.accounts[p]) if p in configured.accounts else None)
                      for p in configured.portals]
        else:
            routes = default_routes(payer)
        if portal is not None:
            manifest = adapter_for(portal).manifest  # an unknown portal: ConfigurationError naming the known ones
            manifest.payer(payer)  # a portal that does not serve the payer: ConfigurationError
            routes = [r for r in routes if r.portal == manifest.slug] or [Route(payer, manifest.slug)]
        if not routes:
            raise ConfigurationError(f"unknown carrier '{payer}' (known: {', '.join(known_payers())})")
        return routes

    def as_json(self) -> dict[str, Any]:
        return self.configured.model_dump(mode="json")


def parse_routing(text: str, source: str = "routing") -> RoutingFile:
    try:
        data = loads_bounded(text, max_depth=6)
    except (ValueError, TooDeeplyNested) as error:
        raise ConfigurationError(f"{source}: not valid JSON ({type(error).__name__})") from None
    try:
        return RoutingFile.model_validate(data)
    except ValidationError as error:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors())
        raise ConfigurationError(f"{source}: {where}") from None


def save_routing(data_dir: Path, configured: RoutingFile) -> Routing:
    """Check, then replace the file atomically (the web admin's save)."""
    routing = Routing(configured, str(data_dir / ROUTING_FILE))
    data_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(configured.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    handle, temp = tempfile.mkstemp(dir=data_dir, prefix=".routing-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, data_dir / ROUTING_FILE)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return routing
