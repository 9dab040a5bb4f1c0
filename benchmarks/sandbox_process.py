"""The sandbox portals in a process of their own, for benchmarks: its CPU is measured apart from ours.

    with sandbox_process(slugs) as sandbox:      # `aggregator sandbox up --port-base P`, every portal healthy
        control(sandbox.urls["ridgeline"], "faults", {"latency_ms": 250})
        ... sandbox.pid, sandbox.port ...
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class SandboxProcess:
    pid: int
    port: int  # the port base: each carrier serves on port + its port_offset
    urls: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def control(url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `/_sandbox/<path>` control call: POST with a JSON body (and for `reset`), else GET; the JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/_sandbox/{path}", data=data, method="POST" if data is not None or
                                     path == "reset" else "GET", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


Command = Callable[[int], list[str]]  # port base -> the command that serves the portals there


def sandbox_up(port: int) -> list[str]:
    return [sys.executable, "-m", "aggregator", "sandbox", "up", "--port-base", str(port)]


@contextmanager
def sandbox_process(slugs: Sequence[str], *, command: Command = sandbox_up, attempts: int = 1) -> Iterator[SandboxProcess]:
    """Start the sandbox portals (`command`, default `aggregator sandbox up`) on a free port base and wait until
    each answers its health check. A free base port can still meet a busy port at base + a carrier's offset:
    with `attempts` > 1 another base is tried then."""
    for attempt in range(attempts):
        try:
            process, port, urls = _start(slugs, command)
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            continue
        try:
            yield SandboxProcess(pid=process.pid, port=port, urls=urls)
        finally:
            process.terminate()
            process.wait(10)
        return


def _start(slugs: Sequence[str], command: Command) -> tuple[subprocess.Popen[bytes], int, dict[str, str]]:
    from sandbox.server import ports_from

    port = free_port()
    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports_from(port, slugs).items()}
    process = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + STARTUP_SECONDS
    for url in urls.values():
        while True:
            try:
                control(url, "health")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait(10)
                    raise RuntimeError(f"the sandbox did not start (port base {port})") from None
                time.sleep(0.1)
    return process, port, urls
