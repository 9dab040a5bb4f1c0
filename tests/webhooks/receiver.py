"""A webhook receiver on loopback for the tests: a tiny HTTP server on 127.0.0.1 and a free port, in a
thread, that records every request (headers and raw body) and answers the status codes it is told to."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once they run out
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def receiving(statuses: list[int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(url="")
    receiver.statuses = list(statuses or [])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = receiver.answer()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet in the test output
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/aggregator"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def docs_verifier() -> Callable[..., bool]:
    """`verify_webhook` exactly as docs/webhooks.md prints it: the "Verify a request" section's Python block,
    executed, so the documentation cannot drift from what the product sends."""
    text = DOCS.read_text()
    section = text.split("## Verify a request", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block, "no Python block in the docs' verification section"
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    verify = namespace["verify_webhook"]
    assert callable(verify)
    return verify


def wait_until(condition: Callable[[], object], *, timeout: float = 30.0, what: str = "the condition") -> None:
    """Poll for a state (never a fixed sleep as synchronisation); fail with `what` after a generous deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


async def until(condition: Callable[[], object], *, timeout: float = 30.0, what: str = "the condition") -> None:
    """`wait_until` inside an event loop (the deliverer runs in the same loop, so the poll must yield to it)."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
