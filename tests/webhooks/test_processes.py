"""Who sends: `aggregator serve` delivers for as long as it runs (events of earlier processes too), and the
drain `aggregator run` does before it exits is bounded (what is left stays pending for the next process)."""

from __future__ import annotations

import asyncio
import time

from aggregator.cli.serve import serve_forever
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.webhooks import endpoints, events, outbox
from aggregator.webhooks.deliverer import Delivering
from tests.webhooks.receiver import receiving, until
from tests.webhooks.test_delivery import FAST, terminal_item


async def test_serve_sends_old_and_new_events_while_it_runs(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", **FAST)
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)
    with receiving() as receiver:
        endpoints.register(repository, url=receiver.url, role="staff", event_types=["appointment.checked"])
        before = events.appointment_checked(repository, terminal_item(item_id="before"))  # an earlier process's
        serving = asyncio.get_running_loop().create_task(serve_forever(settings, host="127.0.0.1", port=0, web=False))
        try:
            await until(lambda: len(receiver.requests) == 1, what="the old event")
            during = events.appointment_checked(repository, terminal_item(item_id="during"))
            await until(lambda: len(receiver.requests) == 2, what="the new event")
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
    assert [r.headers["Webhook-Id"] for r in receiver.requests] == [before, during]
    assert outbox.pending_count(repository) == 0


async def test_the_drain_before_exit_is_bounded(tmp_path):
    # A receiver that is down, and a long backoff: the drain gives up at its bound, the event stays pending.
    settings = Settings(data_dir=tmp_path / "data", **{**FAST, "webhook_retry_base_seconds": 3600.0,
                                                            "webhook_retry_max_seconds": 7200.0})
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)
    with receiving(statuses=[500] * 5) as receiver:
        endpoints.register(repository, url=receiver.url, role="staff", event_types=["appointment.checked"])
        delivering = Delivering(repository, settings, drain_seconds=0.5)
        started = time.monotonic()
        async with delivering:
            events.appointment_checked(repository, terminal_item())
        elapsed = time.monotonic() - started
    assert delivering.left_pending == 1 == outbox.pending_count(repository)
    assert len(receiver.requests) == 1 and elapsed < 10  # tried once, then the bound, not the hour's backoff
