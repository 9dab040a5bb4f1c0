"""`aggregator serve`: the scheduler and the web app in one process, sharing one runner.

One runner means one browser and one live session per portal account for everything the process
does: a front-desk lookup during the nightly run waits for the account's lock instead of opening a
second session (which some portals punish by ending the first).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Unpack

from aggregator.logging import get_logger
from aggregator.overnight.schedule import BatchService, start_scheduler
from aggregator.settings import Settings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from aggregator.runner import Runner, RunnerOptions

log = get_logger(__name__)


class SharedRunner:
    """Opens the runner (browser, vault, database) on first use and keeps it for the process."""

    def __init__(self, settings: Settings, **runner_options: Unpack[RunnerOptions]) -> None:
        self.settings = settings
        self.runner_options = runner_options
        self._stack = AsyncExitStack()
        self._runner: Runner | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Runner:
        async with self._lock:
            if self._runner is None:
                from aggregator.runner import Runner

                self._runner = runner = await self._stack.enter_async_context(
                    Runner.open(self.settings, **self.runner_options))
                return runner
            return self._runner

    async def close(self) -> None:
        await self._stack.aclose()
        self._runner = None


def trusted_proxies(settings: Settings) -> str | None:
    """The proxy addresses whose X-Forwarded-For/-Proto are believed (`AGGREGATOR_WEB_FORWARDED_ALLOW_IPS`,
    comma-separated), or None: trust no proxy header at all."""
    value = (settings.web_forwarded_allow_ips or "").strip()
    return value or None


def web_server_config(app: FastAPI, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings for the web app. Proxy headers are off unless a proxy is named: uvicorn's own
    default believes X-Forwarded-For from 127.0.0.1, which lets any local process pick the address the
    sign-in throttle counts and the access log records."""
    import uvicorn

    trusted = trusted_proxies(settings)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", server_header=False,
                          proxy_headers=trusted is not None, forwarded_allow_ips=trusted or "")


async def serve_forever(settings: Settings, *, host: str, port: int, web: bool = True) -> None:
    import uvicorn

    from aggregator.store import Repository
    from aggregator.webhooks.deliverer import Delivering

    shared = SharedRunner(settings)
    scheduler = start_scheduler(settings, BatchService(settings, shared.get))
    # Webhook events of the scheduler's runs, the web app's lookups and earlier processes (docs/webhooks.md);
    # at exit the rest stays in the outbox for the next start.
    webhooks = Delivering(Repository.open(settings.resolved_database_url), settings, drain_seconds=0)
    try:
        async with webhooks:
            if web:
                from aggregator.web.app import create_app

                app = create_app(settings, runner_provider=shared.get)
                server = uvicorn.Server(web_server_config(app, settings, host=host, port=port))
                await server.serve()
            else:
                await asyncio.Event().wait()  # until interrupted
    finally:
        scheduler.shutdown(wait=False)
        await shared.close()
