"""`aggregator run --dispatch queue`: enqueue the day's jobs, and optionally follow them until every item of
the day is finished (the workers do the checking; this process only reads the database)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import date

from aggregator.dispatch.app import ensure_queue_schema, queue_app
from aggregator.dispatch.enqueue import EnqueueReport, enqueue_day
from aggregator.overnight.batch import BatchSummary, ItemState
from aggregator.settings import Settings
from aggregator.store import batches as store
from aggregator.store.repository import Repository
from aggregator.store.tables import BatchItemRow
from vault.configured import open_vault

FOLLOW_POLL_SECONDS = 1.0


async def enqueue_run(settings: Settings, day: date, *, trigger: str = "cli",
                      retry_failed: bool = False) -> EnqueueReport:
    """Enqueue `day` from outside a worker (the CLI): schema made when missing, the app opened and closed."""
    ensure_queue_schema(settings)
    repository = Repository.open(settings.resolved_database_url)
    app = queue_app(settings)
    async with app.open_async():
        return await enqueue_day(app, repository, open_vault(settings), day, trigger=trigger,
                                 retry_failed=retry_failed, jobs_per_account=settings.queue_jobs_per_account)


async def follow_run(repository: Repository, report: EnqueueReport, deadline_seconds: float,
                     on_progress: Callable[[BatchItemRow], None] | None = None,
                     poll_seconds: float = FOLLOW_POLL_SECONDS) -> BatchSummary:
    """Wait until every item of the day is terminal (or `deadline_seconds` pass: deferred items stay for
    the workers), calling `on_progress` once per item that finishes; then close the run with its summary.
    Logins happen in the workers, so the summary counts none (0)."""
    started = time.monotonic()
    seen = {i.id for i in store.items_on(repository, report.day) if ItemState(i.state).terminal}
    while True:
        items = store.items_on(repository, report.day)
        for item in items:
            if item.id not in seen and ItemState(item.state).terminal:
                seen.add(item.id)
                if on_progress is not None:
                    on_progress(item)
        unfinished = [i for i in items if not ItemState(i.state).terminal]
        if not unfinished or time.monotonic() - started > deadline_seconds:
            break
        await asyncio.sleep(poll_seconds)
    counts = Counter(item.state for item in items)
    waiting = [store.aware(i.not_before) for i in unfinished if i.not_before is not None]
    summary = BatchSummary(report.day, report.run_id, counts, 0, time.monotonic() - started,
                           max(w for w in waiting if w is not None) if waiting else None)
    store.finish_run(repository, report.run_id, summary.as_json())
    return summary
