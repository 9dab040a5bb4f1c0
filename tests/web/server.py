"""Serve the web app on loopback from inside the caller's event loop (so it can share that loop's
Playwright browser with the runner), on an ephemeral port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def, override]
        yield  # the test runner owns the signals


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    async with serving_config(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)) as url:
        yield url


@asynccontextmanager
async def serving_config(config: uvicorn.Config) -> AsyncIterator[str]:
    """Serve with exactly this uvicorn configuration (its port should be 0: an ephemeral one is used)."""
    server = _Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("the web app did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
