"""Serve the Crossway hub and Crossway ID on loopback, each on a port (an origin) of its own, in threads.

    with start_crossway(dataset) as crossway:
        crossway.hub_url, crossway.idp_url     # "http://127.0.0.1:41234", "http://127.0.0.1:41235"
        crossway.hub, crossway.idp             # HubState, IdpState: settings, counters, request logs
        crossway.directory.accounts            # the hub's users (username, password, TOTP seed, organizations)

Port 0 (the default) asks the OS for a free port. The hub's callback URL is registered with Crossway ID once
both listen, so the authorization request's redirect_uri is `<hub_url>/oidc/callback`.

`HUB` declares this folder a sandbox hub (`sandbox.carriers.hubs()`): `sandbox.server.start_sandbox` starts it
beside the carrier portals, `aggregator sandbox up` serves it on base + 4 (the hub) and base + 5 (Crossway ID).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from types import TracebackType
from typing import Self

import uvicorn
from fastapi import FastAPI

from sandbox.accounts import ProviderAccount
from sandbox.carriers import HubProfile
from sandbox.crossway.directory import HUB as HUB_SLUG
from sandbox.crossway.directory import Directory, make_directory
from sandbox.crossway.hub_state import HubState
from sandbox.crossway.idp_state import IdpState
from sandbox.crossway.payers import PAYERS, crossway_dataset
from sandbox.crossway.world import Crossway, build_crossway
from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED, Dataset, generate_dataset
from sandbox.server import STARTUP_TIMEOUT_SECONDS, require_loopback


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # pragma: no cover - the thread owns no signals
        pass


@dataclass
class CrosswayHandle:
    world: Crossway
    host: str
    hub_url: str = ""
    idp_url: str = ""
    _running: list[tuple[_Server, threading.Thread]] = field(default_factory=list, repr=False)

    @property
    def hub(self) -> HubState:
        return self.world.hub

    @property
    def idp(self) -> IdpState:
        return self.world.idp

    @property
    def directory(self) -> Directory:
        return self.world.directory

    @property
    def dataset(self) -> Dataset:
        return self.world.dataset

    def reset(self) -> None:
        """Both apps, the shared settings and the hub's day back to the start (`POST /_sandbox/reset-all`)."""
        self.world.reset()

    def advance_totp_clock(self, *, to_offset: float) -> float:
        """Crossway ID's TOTP clock (the tests' shared TotpClock moves it with the carrier portals')."""
        return self.idp.advance_totp_clock(to_offset=to_offset)

    def stop(self) -> None:
        for server, _ in self._running:
            server.should_exit = True
        for _, thread in self._running:
            thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        self._running.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_crossway(dataset: Dataset | None = None, *, host: str = "127.0.0.1", hub_port: int = 0, idp_port: int = 0,
                   seed: int = DEFAULT_SEED, as_of: date = DEFAULT_AS_OF,
                   clock: Callable[[], float] = time.time) -> CrosswayHandle:
    """Start Crossway ID and the hub and return once both accept connections."""
    require_loopback(host)
    dataset = dataset or generate_dataset(seed=seed, as_of=as_of)
    handle = CrosswayHandle(build_crossway(dataset, clock), host)
    try:
        handle.idp_url = _serve(handle, handle.world.idp_app, host, idp_port, "crossway-id")
        handle.hub_url = _serve(handle, handle.world.hub_app, host, hub_port, "crossway")
        handle.world.connect(handle.hub_url, handle.idp_url)
    except BaseException:
        handle.stop()
        raise
    return handle


def _serve(handle: CrosswayHandle, app: FastAPI, host: str, port: int, name: str) -> str:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    server = _Server(config)
    thread = threading.Thread(target=server.run, name=f"sandbox-{name}", daemon=True)
    thread.start()
    handle._running.append((server, thread))
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the {name} sandbox app failed to start (is the port in use?)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {name} sandbox app did not start within {STARTUP_TIMEOUT_SECONDS:.0f}s")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{bound}"


def vault_accounts(dataset: Dataset) -> tuple[ProviderAccount, ...]:
    """The hub's accounts for the vault (carrier "crossway", label = role), each acting for organization 1 (the
    sandbox practice: the dataset provider's tax id) and its group NPI, which every account belongs to."""
    directory = make_directory(dataset, tuple(p.slug for p in PAYERS))
    practice = directory.organizations[0]
    group_npi = practice.providers[0].npi
    return tuple(replace(a.vault_account(), tax_id=practice.tax_id, npi=group_npi) for a in directory.accounts)


HUB = HubProfile(slug=HUB_SLUG, display_name="Crossway", port_offset=4, idp_port_offset=5,
                 payers=tuple(p.slug for p in PAYERS), payer_names={p.slug: p.display_name for p in PAYERS},
                 start=start_crossway, accounts=vault_accounts,
                 data=crossway_dataset)
