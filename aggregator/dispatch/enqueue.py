"""Enqueue a day's batch: one procrastinate job per unfinished item, each on one portal account of its carrier.

What `BatchRun` does before its workers start, done once by whoever enqueues (`aggregator run --dispatch
queue`, the nightly periodic task, the retry pass): items made for the day's appointments, a run row,
items of carriers with no usable account finished at once (needs a human, as inline), and every other item
deferred as a `batch:check_item` job with `lock=account_lock(...)` (one job, so one session, per account
across every machine) and `queueing_lock=item_queueing_lock(item)` (at most one waiting job per item).
Accounts are given out round-robin over the carrier's usable accounts, so each logs in once and works
through its share; an account that needs a person hands its jobs to the carrier's others (batch_tasks).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import procrastinate
from procrastinate import exceptions as procrastinate_errors

from aggregator.dispatch.locks import account_lock, item_queueing_lock
from aggregator.logging import get_logger
from aggregator.overnight.batch import accounts_for_run, finish_item
from aggregator.store import batches as store
from aggregator.store.repository import Repository, utcnow
from aggregator.store.tables import BatchItemRow
from vault import Vault

log = get_logger(__name__)

CHECK_ITEM_TASK = "batch:check_item"
RETRY_PRIORITY_STEP = 1  # a retried job goes behind its account's fresh jobs (see batch_tasks.ItemRetry)


@dataclass
class EnqueueReport:
    """What one enqueue did: the run it started and how many items went where."""

    day: date
    run_id: str
    queued: int = 0  # jobs deferred now
    already_queued: int = 0  # items whose job was waiting or running already
    finished: int = 0  # items finished at once (no usable portal account)
    per_account: Counter[str] = field(default_factory=Counter)


async def enqueue_day(app: procrastinate.App, repository: Repository, vault: Vault, day: date, *,
                      trigger: str, retry_failed: bool = False) -> EnqueueReport:
    """Make and enqueue the day's jobs (see the module doc). `app` must be open. Safe to call again while
    the day runs: items whose job is waiting or running are left to it."""
    if retry_failed:
        store.requeue_retryable_failures(repository, day)
    store.ensure_items(repository, day)
    run = store.start_run(repository, day, trigger)
    report = EnqueueReport(day, run.id)
    todo = store.items_on(repository, day, store.UNFINISHED)
    live = await items_with_live_jobs(app, [item.id for item in todo])
    by_carrier: dict[str, list[BatchItemRow]] = {}
    for item in todo:
        if item.id in live:
            report.already_queued += 1
            continue
        by_carrier.setdefault(item.carrier, []).append(item)
    for slug, items in sorted(by_carrier.items()):
        accounts, unusable = accounts_for_run(vault, slug)
        if unusable is not None:
            for item in items:
                finish_item(repository, item.id, unusable)
            report.finished += len(items)
            continue
        for index, item in enumerate(items):
            account = accounts[index % len(accounts)]
            if await defer_check(app, repository, item, account.carrier, account.label, run.id):
                report.queued += 1
                report.per_account[f"{account.carrier}/{account.label}"] += 1
            else:
                report.already_queued += 1
    log.info("batch_enqueued", batch_date=day.isoformat(), run_id=run.id, trigger=trigger, queued=report.queued,
             already_queued=report.already_queued, finished=report.finished)
    return report


async def defer_check(app: procrastinate.App, repository: Repository, item: BatchItemRow, carrier: str, label: str,
                      run_id: str) -> bool:
    """Defer one item's job on one account; False when the item already has a waiting job. An item deferred
    to later (a maintenance window, a backoff) starts then, behind its account's fresh jobs."""
    later = item.not_before is not None and item.not_before > utcnow()
    store.update_item(repository, item.id, account_label=label, run_id=run_id)
    try:
        await app.configure_task(
            CHECK_ITEM_TASK, lock=account_lock(carrier, label), queueing_lock=item_queueing_lock(item.id),
            schedule_at=item.not_before if later else None, priority=-RETRY_PRIORITY_STEP if later else 0,
        ).defer_async(item_id=item.id, run_id=run_id)
    except procrastinate_errors.AlreadyEnqueued:
        return False
    return True


async def items_with_live_jobs(app: procrastinate.App, item_ids: list[str]) -> set[str]:
    """The items among `item_ids` whose job is waiting (todo) or running (doing)."""
    if not item_ids:
        return set()
    locks = [item_queueing_lock(item_id) for item_id in item_ids]
    rows = await app.connector.execute_query_all_async(
        "SELECT args->>'item_id' AS item_id FROM procrastinate_jobs "
        "WHERE task_name = %(task)s AND status IN ('todo', 'doing') AND queueing_lock = ANY(%(locks)s)",
        task=CHECK_ITEM_TASK, locks=locks)
    return {row["item_id"] for row in rows}
