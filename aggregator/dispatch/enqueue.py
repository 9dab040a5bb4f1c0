"""Enqueue a day's batch: a few procrastinate jobs per portal account, the rest of the day left for the
accounts to claim as they finish (aggregator/dispatch/claims.py).

What `BatchRun` does before its workers start, done once by whoever enqueues (`aggregator run --dispatch
queue`, the nightly periodic task, the retry pass): items made for the day's appointments, a run row,
items of carriers with no usable account finished at once (needs a human, as inline), every unfinished item
with no job waiting or running put back in the unassigned pool (a claim whose job was never deferred, after
a crash, is given out again), and each usable account given up to `jobs_per_account` `batch:check_item` jobs
with `lock=account_lock(...)` (one job, so one session, per account across every machine) and
`queueing_lock=item_queueing_lock(item)` (at most one waiting job per item). Each job, when it ends, claims
the next unassigned item for its account (batch_tasks), so the accounts share the day by how fast they go.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import procrastinate

from aggregator.dispatch import claims
from aggregator.dispatch.claims import CHECK_ITEM_TASK
from aggregator.dispatch.locks import item_queueing_lock
from aggregator.logging import get_logger
from aggregator.overnight.batch import accounts_for_run, finish_item
from aggregator.settings import Settings
from aggregator.store import batches as store
from aggregator.store.repository import Repository
from vault import Vault

log = get_logger(__name__)

__all__ = ["CHECK_ITEM_TASK", "EnqueueReport", "enqueue_day", "items_with_live_jobs"]

DEFAULT_JOBS_PER_ACCOUNT: int = Settings.model_fields["queue_jobs_per_account"].default


@dataclass
class EnqueueReport:
    """What one enqueue did: the run it started and how many items went where."""

    day: date
    run_id: str
    queued: int = 0  # items given to the workers now: deferred as jobs or waiting for an account to claim them
    already_queued: int = 0  # items whose job was waiting or running already, or waiting for a running carrier
    finished: int = 0  # items finished at once (no usable portal account)
    per_account: Counter[str] = field(default_factory=Counter)  # jobs deferred now, per carrier/account


async def enqueue_day(app: procrastinate.App, repository: Repository, vault: Vault, day: date, *,
                      trigger: str, retry_failed: bool = False,
                      jobs_per_account: int = DEFAULT_JOBS_PER_ACCOUNT) -> EnqueueReport:
    """Make and enqueue the day's jobs (see the module doc). `app` must be open. Safe to call again while
    the day runs: items whose job is waiting or running are left to it, and accounts are only topped up."""
    if jobs_per_account < 1:
        raise ValueError(f"jobs_per_account must be at least 1 (got {jobs_per_account})")
    if retry_failed:
        store.requeue_retryable_failures(repository, day)
    store.ensure_items(repository, day)
    run = store.start_run(repository, day, trigger)
    report = EnqueueReport(day, run.id)
    todo = store.items_on(repository, day, store.UNFINISHED)
    live = await items_with_live_jobs(app, [item.id for item in todo])
    report.already_queued = len(live)
    # Carriers whose accounts are claiming already: their unassigned items were queued by an earlier enqueue.
    running = {carrier for carrier in {i.carrier for i in todo} if claims.carrier_has_jobs(repository, day, carrier)}
    claims.release_unqueued(repository, day, run.id)
    by_carrier: dict[str, int] = Counter(item.carrier for item in todo if item.id not in live)
    for slug, count in sorted(by_carrier.items()):
        accounts, unusable = accounts_for_run(vault, slug)
        if unusable is not None:
            for item_id in claims.unassigned_items(repository, day, slug):
                finish_item(repository, item_id, unusable)
            report.finished += count
            continue
        deferred = await claims.top_up(app, repository, vault, day, slug, budget=jobs_per_account,
                                       accounts=accounts)
        for label, jobs in deferred.items():
            report.per_account[f"{slug}/{label}"] += jobs
        if slug in running:
            report.queued += sum(deferred.values())
            report.already_queued += count - sum(deferred.values())
        else:
            report.queued += count
    log.info("batch_enqueued", batch_date=day.isoformat(), run_id=run.id, trigger=trigger, queued=report.queued,
             deferred=sum(report.per_account.values()), already_queued=report.already_queued,
             finished=report.finished)
    return report


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
