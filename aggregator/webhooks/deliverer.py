"""The background deliverer: POSTs due deliveries (httpx, async), retries with exponential backoff.

`aggregator serve` runs one for the life of the process (`run`); `aggregator run` runs one beside the
batch and, before it exits, `drain`s what is left for a bounded time (settings.webhook_drain_seconds).
What a drain leaves pending stays in the outbox for the next process.

Each attempt is logged (delivery id, endpoint id, event type, attempt, HTTP status, error class,
duration), never the URL (its query may hold a receiver's token), the body, or the secret.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import httpx

from aggregator.logging import get_logger
from aggregator.settings import Settings
from aggregator.store.repository import Repository, utcnow
from aggregator.webhooks import outbox
from aggregator.webhooks.signing import signed_headers

log = get_logger(__name__)
# httpx logs every request's full URL at INFO; a receiver's URL may carry its own token in the query, and
# our `webhook_attempt` event says everything useful (by endpoint id), so httpx speaks only of problems.
logging.getLogger("httpx").setLevel(logging.WARNING)

USER_AGENT = "aggregator-webhooks/1"
LEASE_MARGIN_SECONDS = 30.0  # a taken delivery is someone's for the timeout plus this
CONCURRENT_POSTS = 8


class WebhookDeliverer:
    def __init__(self, repository: Repository, settings: Settings, *, client: httpx.AsyncClient | None = None) -> None:
        self.repository = repository
        self.settings = settings
        self._client = client
        self._wake = asyncio.Event()
        self._posts = asyncio.Semaphore(CONCURRENT_POSTS)

    def backoff_seconds(self, attempts: int) -> float:
        """The wait after the `attempts`-th failed POST: base, 2 x base, 4 x base ... up to the maximum."""
        base = self.settings.webhook_retry_base_seconds
        return min(base * 2 ** max(0, attempts - 1), self.settings.webhook_retry_max_seconds)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver until cancelled (or `stop` is set): at once when this process writes an event, and
        every poll interval for events other processes wrote or retries that came due."""
        stop = stop or asyncio.Event()
        waker = outbox.event_waker(self._wake, asyncio.get_running_loop())
        outbox.add_waker(waker)
        try:
            async with self._http() as client:
                while not stop.is_set():
                    wait = self.settings.webhook_poll_seconds
                    try:
                        await self.deliver_due(client)
                        wait = self._seconds_to_next()
                    except Exception as error:  # noqa: BLE001 - a database hiccup must not end the deliverer
                        log.error("webhook_deliverer_error", error=type(error).__name__)
                    await self._sleep(wait, stop)
        finally:
            outbox.discard_waker(waker)

    async def drain(self, timeout: float) -> int:
        """Deliver until nothing is pending or `timeout` seconds have passed (waiting for retries that
        come due before then); returns how many deliveries are still pending."""
        deadline = time.monotonic() + timeout
        waker = outbox.event_waker(self._wake, asyncio.get_running_loop())
        outbox.add_waker(waker)
        try:
            async with self._http() as client:
                while True:
                    await self.deliver_due(client)
                    left = deadline - time.monotonic()
                    if outbox.pending_count(self.repository) == 0 or left <= 0:
                        break
                    await self._sleep(min(self._seconds_to_next(), left), None)
        finally:
            outbox.discard_waker(waker)
        remaining = outbox.pending_count(self.repository)
        if remaining:
            log.warning("webhook_drain_incomplete", pending=remaining)
        return remaining

    async def deliver_due(self, client: httpx.AsyncClient | None = None) -> int:
        """One pass: every delivery due now, POSTed concurrently (a few at a time). Returns how many were tried."""
        due = outbox.due(self.repository, now=utcnow())
        if not due:
            return 0
        async with self._http(client) as http:
            tried = await asyncio.gather(*(self._attempt(http, item) for item in due))
        return sum(tried)

    async def _attempt(self, client: httpx.AsyncClient, item: outbox.Due) -> bool:
        lease = outbox.lease_end(utcnow(), self.settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
        if not outbox.take(self.repository, item.delivery, lease_until=lease):
            return False  # another deliverer has it
        async with self._posts:
            headers = {**signed_headers(item.endpoint.secret, event_id=item.delivery.event_id,
                                        event_type=item.event_type, body=item.delivery.body),
                       "User-Agent": USER_AGENT}
            status_code: int | None = None
            error_class: str | None = None
            started = time.monotonic()
            try:
                response = await client.post(item.endpoint.url, content=item.delivery.body.encode(), headers=headers)
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error_class = "http_status"
            except httpx.HTTPError as error:  # connect, timeout, protocol...: the class says which
                error_class = type(error).__name__
            duration_ms = int((time.monotonic() - started) * 1000)
        delivered = error_class is None
        attempts = item.delivery.attempts + 1
        retry_at = None
        if not delivered and attempts < self.settings.webhook_max_attempts:
            retry_at = utcnow() + timedelta(seconds=self.backoff_seconds(attempts))
        row = outbox.record_attempt(self.repository, item.delivery.id, status_code=status_code, error_class=error_class,
                                    duration_ms=duration_ms, delivered=delivered, retry_at=retry_at)
        log.info("webhook_attempt", delivery_id=row.id, endpoint_id=item.endpoint.id, event_type=item.event_type,
                 attempt=row.attempts, status=status_code, error=error_class, duration_ms=duration_ms,
                 outcome=row.status)
        return True

    def _seconds_to_next(self) -> float:
        poll = self.settings.webhook_poll_seconds
        upcoming = outbox.next_due_at(self.repository)
        if upcoming is None:
            return poll
        return max(0.0, min(poll, (upcoming - utcnow()).total_seconds()))

    async def _sleep(self, seconds: float, stop: asyncio.Event | None) -> None:
        """Until `seconds` pass, a new event of this process wakes us, or `stop` is set."""
        waits = [asyncio.ensure_future(self._wake.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, timeout=max(seconds, 0.01), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            self._wake.clear()

    def _http(self, client: httpx.AsyncClient | None = None) -> _Client:
        return _Client(client or self._client, self.settings.webhook_timeout_seconds)


class _Client:
    """The given client as is, or a fresh one closed on exit (no redirects: a receiver answers itself)."""

    def __init__(self, client: httpx.AsyncClient | None, timeout: float) -> None:
        self._given = client
        self._own: httpx.AsyncClient | None = None
        self._timeout = timeout

    async def __aenter__(self) -> httpx.AsyncClient:
        if self._given is not None:
            return self._given
        self._own = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._own

    async def __aexit__(self, *exc: object) -> None:
        if self._own is not None:
            await self._own.aclose()


class Delivering:
    """`async with Delivering(repository, settings, drain_seconds=...) as deliverer:` sends events in the
    background for the block, then drains for at most `drain_seconds` (0: stop at once, leave the rest
    pending for the next process). `left_pending` says how many were still waiting at the end."""

    def __init__(self, repository: Repository, settings: Settings, *, drain_seconds: float) -> None:
        self.deliverer = WebhookDeliverer(repository, settings)
        self.drain_seconds = drain_seconds
        self.left_pending = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WebhookDeliverer:
        self._task = asyncio.get_running_loop().create_task(self.deliverer.run(self._stop))
        return self.deliverer

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        if self.drain_seconds > 0:
            self.left_pending = await self.deliverer.drain(self.drain_seconds)
        else:
            self.left_pending = outbox.pending_count(self.deliverer.repository)
