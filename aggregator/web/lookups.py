"""On-demand lookups from the web: a job per request, run where the settings' dispatch says.

Inline dispatch (the default): the job runs in the app's event loop on one shared runner, opened on the first
lookup, not at start-up, and closed with the app. Jobs live in memory: after a restart the lookups are still
in the database, only the job pages are gone.

Queue dispatch (`AGGREGATOR_DISPATCH=queue`, PostgreSQL): the job is stored in the database and put in the
procrastinate queue under its portal account's lock (aggregator/dispatch/lookup_tasks.py), so it waits for a
worker holding that account instead of opening a second session; the worker writes each step to the job's
row, which the page and the API read.

Either way a job runs its checks one after another and records which check it is on, so the page can show
progress by polling `/lookups/jobs/<id>/status`; the answers themselves are stored by the runner like any
lookup. The job itself (what it asks, its progress, `run_checks`) is aggregator/dispatch/lookup_jobs.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from aggregator.dispatch.lookup_jobs import (
    CAPABILITY_OF,
    CHECKS,
    CLAIMS_LOOKBACK,
    Check,
    JobListener,
    LookupJob,
    LookupRequest,
    declared_checks,
    manifest_of,
    run_checks,
    run_to_its_end,
    webhook_announcer,
)
from aggregator.errors import AggregatorError
from aggregator.logging import get_logger

if TYPE_CHECKING:
    from aggregator.runner import Runner
    from aggregator.settings import Settings
    from aggregator.store import Repository

__all__ = ["CAPABILITY_OF", "CHECKS", "CLAIMS_LOOKBACK", "KEEP_JOBS", "Check", "JobListener", "JobQueue",
           "LookupJob", "LookupJobs", "LookupRequest", "RunnerHolder", "RunnerProvider", "declared_checks",
           "lookup_jobs_for", "manifest_of", "run_checks", "webhook_announcer"]

log = get_logger(__name__)

KEEP_JOBS = 200  # inline dispatch: the newest jobs kept in memory


RunnerProvider = Callable[[], Awaitable["Runner"]]


class RunnerHolder:
    """The runner for on-demand lookups and re-runs. Either the app's own, opened on first use (one
    Chromium) and closed with the app, or one the caller provides and owns (`aggregator serve` shares
    its runner between the scheduler and the web app, so each portal account keeps one session)."""

    def __init__(self, settings_runner: Callable[[], AbstractAsyncContextManager[Runner]] | None = None,
                 provider: RunnerProvider | None = None) -> None:
        self._open = settings_runner
        self._provider = provider
        self._stack = AsyncExitStack()
        self._runner: Runner | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Runner:
        if self._provider is not None:
            return await self._provider()
        async with self._lock:
            if self._runner is None:
                assert self._open is not None
                self._runner = await self._stack.enter_async_context(self._open())
            return self._runner

    async def close(self) -> None:
        self._runner = None
        await self._stack.aclose()


class JobQueue(Protocol):
    """Queue dispatch as the web process sees it (aggregator.dispatch.lookup_tasks.LookupQueue)."""

    def enqueue(self, job: LookupJob) -> None:
        """Store the job and put it in the queue; AggregatorError when it cannot run (no such carrier, no
        usable portal account), with a reason staff may read."""

    def save(self, job: LookupJob) -> None:
        """Store the job as it is now."""

    def load(self, job_id: str) -> LookupJob | None:
        """The job as its row says now (a worker updates it), None when there is no such job."""


class LookupJobs:
    """The app's on-demand lookup jobs: run here (inline), or by the workers when `queue` is given."""

    def __init__(self, runners: RunnerHolder, on_finished: JobListener | None = None,
                 queue: JobQueue | None = None) -> None:
        self.runners = runners
        # Told when a job ends, done or failed (the app writes the webhook event `lookup.completed`); with a
        # queue, the worker that ran the job tells it instead (aggregator/dispatch/lookup_tasks.py).
        self.on_finished = on_finished
        self.queue = queue
        self._jobs: OrderedDict[str, LookupJob] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> LookupJob | None:
        if self.queue is not None:
            return self.queue.load(job_id)
        return self._jobs.get(job_id)

    def start(self, request: LookupRequest, user_id: str) -> LookupJob:
        job = LookupJob(id=uuid.uuid4().hex, user_id=user_id, request=request)
        manifest = manifest_of(request.carrier)
        if manifest is not None:  # an unknown carrier fails in the job, as the runner names it
            job.leave_out_undeclared(manifest)
        if self.queue is not None:
            self._enqueue(self.queue, job)
            return job
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_JOBS:
            self._jobs.popitem(last=False)
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def _enqueue(self, queue: JobQueue, job: LookupJob) -> None:
        if job.planned:
            try:
                queue.enqueue(job)  # stored and queued: from here on the worker moves it on
                return
            except AggregatorError as error:  # it cannot run at all: the job ends here, as the runner would say
                job.end(error)
        else:  # everything asked is not available at this carrier: nothing for a worker to do
            job.end()
        queue.save(job)
        if self.on_finished is not None:
            self.on_finished(job)

    async def wait_all(self) -> None:
        """Wait for the jobs running in this process (inline dispatch; queued jobs belong to the workers)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, job: LookupJob) -> None:
        async def work() -> None:
            if not job.planned:  # everything asked is not available at this carrier: no browser, no login
                return
            runner = await self.runners.get()
            job.state = "running"
            await run_checks(runner, job)

        try:
            await run_to_its_end(job, work())
        finally:
            if job.finished_at is None:  # cancelled (the app is closing): stopped, in the state it was in
                job.finished_at = datetime.now(UTC)
            if self.on_finished is not None:
                self.on_finished(job)


def lookup_jobs_for(settings: Settings, repository: Repository, runners: RunnerHolder) -> LookupJobs:
    """The app's lookup jobs as the settings say: run in this process (dispatch `inline`, the default), or
    queued for the workers under their portal account's lock (dispatch `queue`)."""
    announce = webhook_announcer(repository)
    if settings.dispatch != "queue":
        return LookupJobs(runners, announce)
    from aggregator.dispatch.lookup_tasks import LookupQueue  # procrastinate: only when the queue is used

    return LookupJobs(runners, announce, queue=LookupQueue(settings, repository))
