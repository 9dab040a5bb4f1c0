"""Start the sandbox portals on loopback, each with uvicorn in a background thread.

    with start_sandbox() as sandbox:             # every carrier folder and hub under sandbox/ (sandbox.carriers)
        sandbox.urls["ridgeline"]        # e.g. "http://127.0.0.1:54012"
        sandbox.states["ridgeline"]      # the PortalState: faults, counters, request log
        sandbox.dataset                  # ground truth comes from here
        sandbox.urls["crossway"]         # a hub: its url (the portal an adapter signs in to) ...
        sandbox.hubs["crossway"]         # ... and its handle: hub_url, idp_url, hub, idp, world, directory

Port 0 (the default) asks the OS for a free port; the real one is reported in `urls`. `ports_from(base)`
gives the fixed ports of `aggregator sandbox up --port-base`: base + each carrier's declared port_offset, and
for a hub base + its port_offset (its identity provider listens on base + its idp_port_offset).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Any, Self

import uvicorn

from sandbox.carriers import HubHandle, carrier_slugs, hubs, portal_factory, portal_slugs, profiles
from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED, Dataset, generate_dataset
from sandbox.portal_state import PortalState

STARTUP_TIMEOUT_SECONDS = 10.0


def require_loopback(host: str) -> None:
    """The sandbox serves fake member data and secrets-by-design: never on a reachable interface."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the sandbox binds to loopback only (127.0.0.1, ::1 or localhost), not '{host}'")


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # pragma: no cover - older uvicorn; the thread owns no signals
        pass


@dataclass
class _Running:
    server: _Server
    thread: threading.Thread


@dataclass
class SandboxHandle:
    dataset: Dataset
    host: str
    urls: dict[str, str] = field(default_factory=dict)
    states: dict[str, PortalState] = field(default_factory=dict)
    # The hubs (portals serving several payers, behind an identity provider): slug -> its running handle
    # (for Crossway a sandbox.crossway.CrosswayHandle: hub_url, idp_url, hub, idp, world, directory, reset()).
    # Their `urls` entry is the hub's address; they are not in `states` (no PortalState).
    hubs: dict[str, Any] = field(default_factory=dict)
    _running: dict[str, _Running] = field(default_factory=dict, repr=False)

    def reset_hubs(self) -> None:
        for running_hub in self.hubs.values():
            running_hub.reset()

    def stop(self) -> None:
        for running in self._running.values():
            running.server.should_exit = True
        for running_hub in self.hubs.values():
            running_hub.stop()
        for running in self._running.values():
            running.thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        self._running.clear()
        self.hubs.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def ports_from(base: int, carriers: Iterable[str] | None = None) -> dict[str, int]:
    """Fixed ports: base + the portal's port_offset, so adding a carrier never moves another one's port.
    `carriers` names portals (carrier and hub slugs; default: every one). A hub's entry is the hub's own port;
    `start_sandbox` puts its identity provider on base + idp_port_offset (`idp_port`).
    Base 0 means a free port of the OS's choosing for every portal (tests), never ports 1, 2, ..."""
    offsets = {slug: p.port_offset for slug, p in profiles().items()} | {s: h.port_offset for s, h in hubs().items()}
    slugs = carriers if carriers is not None else offsets
    return {slug: base + offsets[slug] if base else 0 for slug in slugs}


def idp_port(hub_slug: str, hub_port: int) -> int:
    """The hub's identity provider's port when the hub listens on `hub_port` (0: a free port too)."""
    found = hubs()[hub_slug]
    return hub_port - found.port_offset + found.idp_port_offset if hub_port else 0


def start_sandbox(carriers: Iterable[str] | None = None, host: str = "127.0.0.1",
                  ports: dict[str, int] | None = None, seed: int = DEFAULT_SEED, as_of: date = DEFAULT_AS_OF,
                  dataset: Dataset | None = None, *, with_hubs: bool = True) -> SandboxHandle:
    """Start one portal per carrier and hub (default: every sandbox portal) and return once all accept connections.

    `carriers` names portals: carrier slugs and hub slugs (`sandbox.carriers.portal_slugs()`); None starts every
    carrier and, unless `with_hubs=False`, every hub (a hub shares the handle's dataset: a payer it shares with
    a carrier portal shows the very same records). `dataset` lets a caller reuse an already generated dataset
    (it must contain the carriers); otherwise one is generated from `seed` and `as_of`.
    """
    require_loopback(host)
    available = portal_slugs()
    if carriers is not None:
        slugs = tuple(carriers)
    else:
        slugs = available if with_hubs else carrier_slugs()
    missing = [s for s in slugs if s not in available]
    if missing:
        raise ValueError(f"no sandbox portal for: {', '.join(missing)} (available: {', '.join(available)})")
    dataset = dataset or generate_dataset(seed=seed, as_of=as_of)
    handle = SandboxHandle(dataset=dataset, host=host)
    known_hubs = hubs()
    try:
        for slug in slugs:
            if slug in known_hubs:
                hub_port = (ports or {}).get(slug, 0)
                running_hub: HubHandle = known_hubs[slug].start(dataset, host=host, hub_port=hub_port,
                                                               idp_port=idp_port(slug, hub_port))
                handle.hubs[slug] = running_hub
                handle.urls[slug] = running_hub.hub_url
                continue
            state = PortalState(dataset, slug)
            app = portal_factory(slug)(dataset, state)
            port = (ports or {}).get(slug, 0)
            config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                    lifespan="off")
            server = _Server(config)
            thread = threading.Thread(target=server.run, name=f"sandbox-{slug}", daemon=True)
            thread.start()
            handle._running[slug] = _Running(server, thread)
            handle.states[slug] = state
            handle.urls[slug] = _wait_started(server, thread, host, slug)
    except BaseException:
        handle.stop()
        raise
    return handle


def _wait_started(server: _Server, thread: threading.Thread, host: str, slug: str) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the {slug} sandbox portal failed to start (is the port in use?)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {slug} sandbox portal did not start within {STARTUP_TIMEOUT_SECONDS:.0f}s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
