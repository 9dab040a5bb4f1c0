"""Start the sandbox portals on loopback, each with uvicorn in a background thread.

    with start_sandbox() as sandbox:
        sandbox.urls["ridgeline"]        # e.g. "http://127.0.0.1:54012"
        sandbox.states["ridgeline"]      # the PortalState: faults, counters, request log
        sandbox.dataset                  # ground truth comes from here

Port 0 (the default) asks the OS for a free port; the real one is reported in `urls`.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Self

import uvicorn
from fastapi import FastAPI

from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED, Dataset, generate_dataset
from sandbox.portal_state import PortalState

STARTUP_TIMEOUT_SECONDS = 10.0


def _ridgeline(dataset: Dataset, state: PortalState) -> FastAPI:
    from sandbox.ridgeline import create_app

    return create_app(dataset, state)


def _bluepeak(dataset: Dataset, state: PortalState) -> FastAPI:
    from sandbox.bluepeak import create_app

    return create_app(dataset, state)


def _cascade(dataset: Dataset, state: PortalState) -> FastAPI:
    from sandbox.cascade import create_app

    return create_app(dataset, state)


# Carriers whose portal exists. The dataset also holds bluepeak and cascade, whose portals come later.
PORTALS: dict[str, Callable[[Dataset, PortalState], FastAPI]] = {"ridgeline": _ridgeline, "bluepeak": _bluepeak,
                                                                  "cascade": _cascade}


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
    _running: dict[str, _Running] = field(default_factory=dict, repr=False)

    def stop(self) -> None:
        for running in self._running.values():
            running.server.should_exit = True
        for running in self._running.values():
            running.thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        self._running.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_sandbox(carriers: Iterable[str] = ("ridgeline",), host: str = "127.0.0.1",
                  ports: dict[str, int] | None = None, seed: int = DEFAULT_SEED, as_of: date = DEFAULT_AS_OF,
                  dataset: Dataset | None = None) -> SandboxHandle:
    """Start one portal per carrier and return once all accept connections.

    `dataset` lets a caller reuse an already generated dataset (it must contain the carriers);
    otherwise one is generated from `seed` and `as_of`.
    """
    require_loopback(host)
    slugs = tuple(carriers)
    missing = [s for s in slugs if s not in PORTALS]
    if missing:
        raise ValueError(f"no sandbox portal for: {', '.join(missing)} (available: {', '.join(PORTALS)})")
    dataset = dataset or generate_dataset(seed=seed, as_of=as_of)
    handle = SandboxHandle(dataset=dataset, host=host)
    try:
        for slug in slugs:
            state = PortalState(dataset, slug)
            app = PORTALS[slug](dataset, state)
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
