"""One `aggregator worker` process: one Runner (one Chromium, the vault, the database) opened at start and
closed at exit, a procrastinate worker running the product's tasks on it, and the webhook deliverer for the
events its items write (docs/webhooks.md).

Tasks reach the process's runner and settings through `current_runner()` / `current_settings()`: a job's
arguments are plain ids, the browser and the warm portal sessions belong to the process. Beside the
procrastinate worker, `recover_stalled_jobs` runs in every worker: a job whose worker stopped sending
heartbeats (killed, machine lost) is put back in the queue after `worker_stalled_seconds`, so another worker
runs it (the job itself re-reads its item, so a finished item is never checked twice); the same sweep gives
a job to a batch item claimed by a worker that died before deferring it (aggregator/dispatch/claims.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from procrastinate.worker import Worker

from aggregator.dispatch import claims
from aggregator.dispatch.app import ensure_queue_schema, queue_app
from aggregator.dispatch.retry import RetryLater
from aggregator.logging import get_logger
from aggregator.overnight.batch import BatchOptions
from aggregator.runner import Runner
from aggregator.settings import Settings
from aggregator.webhooks.deliverer import Delivering

log = get_logger(__name__)


@dataclass
class WorkerRuntime:
    """What the jobs of this process share: the settings, the one runner and the batch's politeness rules."""

    settings: Settings
    runner: Runner
    batch_options: BatchOptions


_runtime: WorkerRuntime | None = None


def current_runtime() -> WorkerRuntime:
    """The running worker's runtime; a clear error when a task runs outside `aggregator worker`."""
    if _runtime is None:
        raise RuntimeError("no worker runtime: product tasks run inside `aggregator worker` (worker_runtime)")
    return _runtime


def current_runner() -> Runner:
    """The worker process's Runner (one browser, one live session per portal account)."""
    return current_runtime().runner


def current_settings() -> Settings:
    return current_runtime().settings


@asynccontextmanager
async def worker_runtime(settings: Settings, runner: Runner | None = None,
                         batch_options: BatchOptions | None = None) -> AsyncIterator[WorkerRuntime]:
    """Install the runtime for this process's tasks: `runner` when given (tests), else a Runner opened here
    and closed on the way out; `batch_options` default to the settings' (tests pass faster ones)."""
    global _runtime
    if _runtime is not None:
        raise RuntimeError("a worker runtime is already running in this process")
    async with _own_or_given(settings, runner) as active:
        _runtime = WorkerRuntime(settings, active, batch_options or BatchOptions.from_settings(settings))
        try:
            yield _runtime
        finally:
            _runtime = None


@asynccontextmanager
async def _own_or_given(settings: Settings, runner: Runner | None) -> AsyncIterator[Runner]:
    if runner is not None:
        yield runner
        return
    async with Runner.open(settings) as opened:
        yield opened


def worker_name() -> str:
    """host:pid, so the queue's worker list and the logs say which machine and process ran a job."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _PlannedRetriesWithoutTraceback(logging.Filter):
    """procrastinate logs every retried job with the exception's traceback; a `RetryLater` (a maintenance
    window, a backoff: the plan, not a fault) keeps its one line and loses the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], RetryLater):
            record.exc_info = None
        return True


_retry_filter = _PlannedRetriesWithoutTraceback()


class _NextJobAtOnce(Worker):
    """procrastinate's worker, which also looks for a job the moment one of its own has ended.

    A portal account's next job waits behind its lock while the current one runs. procrastinate's worker
    looks for jobs when told a job was inserted, or every poll interval (`AGGREGATOR_WORKER_POLL_SECONDS`):
    not when a job of its own ends. So once the lock was released, the next job sat until some worker's
    poll or an unrelated insert, and went to whichever worker woke first, which then opened the account's
    session anew from the vault (a page load or more on the portal: Cascade's frameset is four requests)
    instead of using the warm one in the worker that just ran it. Looking at once, right after the ended
    job's status is written (the lock is free then), gives the job to this worker in almost every case.
    Other workers still take it when this one is gone or busy: nothing else changes."""

    async def _persist_job_status(self, *args: Any, **kwargs: Any) -> None:
        await super()._persist_job_status(*args, **kwargs)
        wake = getattr(self, "_new_job_event", None)  # procrastinate 3's "look for jobs now"
        if wake is not None:
            wake.set()


async def run_worker(settings: Settings, *, concurrency: int | None = None, wait: bool = True,
                     runner: Runner | None = None, batch_options: BatchOptions | None = None) -> None:
    """Run jobs until stopped (SIGINT / SIGTERM: jobs in flight finish first); `wait=False` returns once
    the queue has nothing due (tests). Applies the queue schema first when it is missing."""
    ensure_queue_schema(settings)
    app = queue_app(settings)
    logging.getLogger("procrastinate.worker").addFilter(_retry_filter)  # the same filter object: added once
    # Items finished here write their webhook events to the outbox; the worker sends them too (the outbox's
    # leases keep two processes from sending one twice), draining for a bounded time when stopped.
    drain = settings.webhook_drain_seconds if wait else 0.0
    async with worker_runtime(settings, runner, batch_options) as runtime, app.open_async(), \
            Delivering(runtime.runner.repository, settings, drain_seconds=drain):
        recovery = asyncio.create_task(recover_stalled_jobs(app, settings, runtime), name="recover_stalled_jobs")
        try:
            options: dict[str, Any] = dict(
                name=worker_name(), concurrency=concurrency or settings.worker_concurrency, wait=wait,
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_seconds,
                fetch_job_polling_interval=settings.worker_poll_seconds,
                abort_job_polling_interval=settings.worker_poll_seconds,
                delete_jobs="never",  # finished jobs stay for `procrastinate` shell inspection; items hold the result
            )
            # What `App.run_worker_async` does, with the worker above.
            app.perform_import_paths()
            await _NextJobAtOnce(app=app, **{**app.worker_defaults, **options}).run()
        finally:
            recovery.cancel()
            await asyncio.gather(recovery, return_exceptions=True)


async def recover_stalled_jobs(app: procrastinate.App, settings: Settings, runtime: WorkerRuntime) -> None:
    """Forever: the jobs of workers whose heartbeat is older than `worker_stalled_seconds` go back to the
    queue now (procrastinate 3 finds them; putting them back is the application's call), and batch items
    left without a job (a worker died between claiming an item and deferring its job, or a carrier's
    accounts all stopped with items unassigned) get one (`claims.resume_stranded`). Every worker runs this;
    two finding the same job at once is harmless (the second retry finds it no longer doing, the second
    defer meets the item's queueing lock)."""
    interval = min(settings.worker_poll_seconds, settings.worker_stalled_seconds / 2)
    repository = runtime.runner.repository
    while True:
        try:
            await retry_stalled_jobs(app, settings.worker_stalled_seconds)
            await claims.resume_stranded(app, repository, runtime.runner.vault,
                                         budget=settings.queue_jobs_per_account,
                                         claim_grace_seconds=settings.worker_stalled_seconds,
                                         deadline_seconds=runtime.batch_options.deadline_seconds)
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the worker; the next round retries
            log.exception("stalled_job_recovery_failed")
        await asyncio.sleep(interval)


async def retry_stalled_jobs(app: procrastinate.App, stalled_seconds: float) -> int:
    """Put the stalled jobs back in the queue; returns how many."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    count = 0
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except procrastinate_errors.ConnectorException:  # another worker put it back first, or it just finished
            log.info("stalled_job_already_moved", job_id=job.id, task=job.task_name)
            continue
        count += 1
        log.warning("stalled_job_retried", job_id=job.id, task=job.task_name, lock=job.lock)
    return count
