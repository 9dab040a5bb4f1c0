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

A person at the screen: an inline job carries a `WaitingPerson` (aggregator/human_steps.py), so a portal
sign-in that sends a one-time code or a push request asks the person on the job page (or through the API)
instead of stopping. A queued job has nobody (a worker runs it): it ends "sign in needed" and the person
uses "Sign in now", an attended sign-in job (`SignInJobs`), which always runs here, in memory like inline
lookup jobs, whatever the dispatch. After a sign-in succeeds the runner re-runs the items the overnight
run left blocked on that account (the hook `RunnerHolder` installs on every runner it hands out).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

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
    person_status,
    run_checks,
    run_to_its_end,
    webhook_announcer,
)
from aggregator.errors import AggregatorError
from aggregator.human_steps import WaitingPerson
from aggregator.logging import get_logger

if TYPE_CHECKING:
    from aggregator.runner import Runner, SignInOutcome
    from aggregator.settings import Settings
    from aggregator.store import Repository
    from vault import PortalAccount

__all__ = ["CAPABILITY_OF", "CHECKS", "CLAIMS_LOOKBACK", "KEEP_JOBS", "Check", "JobListener", "JobQueue",
           "LookupJob", "LookupJobs", "LookupRequest", "RunnerHolder", "RunnerProvider", "SignInJob",
           "SignInJobs", "declared_checks", "lookup_jobs_for", "manifest_of", "person_status", "run_checks",
           "webhook_announcer"]

log = get_logger(__name__)

KEEP_JOBS = 200  # inline dispatch: the newest jobs kept in memory
J = TypeVar("J")


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
        self._hooked: set[int] = set()  # ids of the runners that have the re-run hook

    async def get(self) -> Runner:
        if self._provider is not None:
            return self._with_rerun_hook(await self._provider())
        async with self._lock:
            if self._runner is None:
                assert self._open is not None
                self._runner = await self._stack.enter_async_context(self._open())
            return self._with_rerun_hook(self._runner)

    def _with_rerun_hook(self, runner: Runner) -> Runner:
        """After an attended sign-in (here, or any other the runner does), the items the overnight run left
        blocked on that account run again (aggregator/overnight/batch.py `rerun_blocked`). Once per runner."""
        if id(runner) not in self._hooked:
            self._hooked.add(id(runner))
            runner.after_sign_in.append(rerun_hook(runner))
        return runner

    async def close(self) -> None:
        self._runner = None
        await self._stack.aclose()


def rerun_hook(runner: Runner) -> Callable[[PortalAccount], Awaitable[int]]:
    """The runner's `after_sign_in` hook that re-runs the batch items blocked on the account just signed in."""

    async def rerun(account: PortalAccount) -> int:
        from aggregator.overnight.batch import rerun_blocked

        return await rerun_blocked(runner, account.carrier, account.label)

    return rerun


class JobQueue(Protocol):
    """Queue dispatch as the web process sees it (aggregator.dispatch.lookup_tasks.LookupQueue)."""

    def enqueue(self, job: LookupJob) -> None:
        """Store the job and put it in the queue; AggregatorError when it cannot run (no such carrier, no
        usable portal account), with a reason staff may read."""

    def save(self, job: LookupJob) -> None:
        """Store the job as it is now."""

    def load(self, job_id: str) -> LookupJob | None:
        """The job as its row says now (a worker updates it), None when there is no such job."""


class _RunHere(Generic[J]):
    """Jobs run in this process's event loop: the newest KEEP_JOBS are kept (their pages poll them), and each
    one's task is held until it ends (an unreferenced task may be collected mid-run)."""

    def __init__(self) -> None:
        self.jobs: OrderedDict[str, J] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def run(self, job_id: str, job: J, work: Coroutine[Any, Any, None]) -> None:
        self.jobs[job_id] = job
        while len(self.jobs) > KEEP_JOBS:
            self.jobs.popitem(last=False)
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class LookupJobs:
    """The app's on-demand lookup jobs: run here (inline), or by the workers when `queue` is given."""

    def __init__(self, runners: RunnerHolder, on_finished: JobListener | None = None,
                 queue: JobQueue | None = None) -> None:
        self.runners = runners
        # Told when a job ends, done or failed (the app writes the webhook event `lookup.completed`); with a
        # queue, the worker that ran the job tells it instead (aggregator/dispatch/lookup_tasks.py).
        self.on_finished = on_finished
        self.queue = queue
        self._here: _RunHere[LookupJob] = _RunHere()
        self.sign_ins = SignInJobs(runners)  # "Sign in now": always here, whatever the dispatch

    def get(self, job_id: str) -> LookupJob | None:
        if self.queue is not None:
            return self.queue.load(job_id)
        return self._here.jobs.get(job_id)

    def start(self, request: LookupRequest, user_id: str) -> LookupJob:
        job = LookupJob(id=uuid.uuid4().hex, user_id=user_id, request=request)
        manifest = manifest_of(request.carrier)
        if manifest is not None:  # an unknown carrier fails in the job, as the runner names it
            job.leave_out_undeclared(manifest)
        if self.queue is not None:
            self._enqueue(self.queue, job)
            return job
        job.person = WaitingPerson()  # run here: the person at the screen answers the portal's sign-in questions
        self._here.run(job.id, job, self._run(job))
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
        for job in self._here.jobs.values():  # nobody will type a code now: the sign-ins waiting for one stop
            if job.person is not None:
                job.person.give_up()
        await self._here.wait()
        await self.sign_ins.wait_all()

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


# --- attended sign-ins ("Sign in now") ----------------------------------------------------------------------

@dataclass
class SignInJob:
    """An attended sign-in of one portal account (`Runner.sign_in`): its person, progress and outcome."""

    id: str
    user_id: str
    portal: str
    label: str
    portal_name: str
    person: WaitingPerson = field(default_factory=WaitingPerson, repr=False)
    state: str = "running"  # running, done (signed in), failed (not signed in)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    rerun: int = 0  # blocked checks run again after the sign-in
    reason: str | None = None  # why it did not sign in (the runner's words)
    reason_code: str | None = None  # a HumanStep value

    @property
    def message(self) -> str | None:
        """The outcome as the person reads it."""
        if self.state == "done":
            return f"Signed in. {self.rerun} blocked check{'' if self.rerun == 1 else 's'} {'was' if self.rerun == 1 else 'were'} run again."
        if self.state == "failed":
            return f"Not signed in: {self.reason or 'the sign-in stopped'}"
        return None

    def status(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "portal": self.portal, "account": self.label,
                "signed_in": self.state == "done", "rerun": self.rerun, "reason": self.reason,
                "reason_code": self.reason_code, "message": self.message,
                "elapsed_seconds": round(((self.finished_at or datetime.now(UTC)) - self.started_at).total_seconds(), 1),
                **person_status(self.person)}

    def end(self, outcome: SignInOutcome | None = None, error: BaseException | None = None) -> None:
        if outcome is not None and outcome.ok:
            self.state, self.rerun = "done", outcome.rerun
        elif outcome is not None:
            self.state, self.reason, self.reason_code = "failed", outcome.reason, outcome.reason_code
        elif isinstance(error, AggregatorError):
            self.state, self.reason, self.reason_code = "failed", error.reason, error.code
        else:
            self.state, self.reason = "failed", f"internal error ({type(error).__name__})"
        self.finished_at = datetime.now(UTC)
        self.person.give_up()
        self.person.prompt = None


class SignInJobs:
    """The attended sign-ins started from the web app, in memory (the newest KEEP_JOBS)."""

    def __init__(self, runners: RunnerHolder) -> None:
        self.runners = runners
        self._here: _RunHere[SignInJob] = _RunHere()

    def get(self, job_id: str) -> SignInJob | None:
        return self._here.jobs.get(job_id)

    def running(self, portal: str, label: str) -> SignInJob | None:
        return next((j for j in self._here.jobs.values() if (j.portal, j.label) == (portal, label)
                     and j.state == "running"), None)

    def start(self, portal: str, label: str, portal_name: str, user_id: str) -> SignInJob:
        """A new sign-in of the account, or the one already under way (perhaps another user's: the caller
        decides who may see it). One at a time: each sign-in asks the portal for a new code."""
        current = self.running(portal, label)
        if current is not None:
            return current
        job = SignInJob(id=uuid.uuid4().hex, user_id=user_id, portal=portal, label=label, portal_name=portal_name)
        self._here.run(job.id, job, self._run(job))
        return job

    async def _run(self, job: SignInJob) -> None:
        try:
            runner = await self.runners.get()
            job.end(await runner.sign_in(job.portal, job.label, job.person))
        except AggregatorError as error:
            job.end(error=error)
        except Exception as error:  # noqa: BLE001 - shown as a failed sign-in, never a page polling forever
            job.end(error=error)
            log.exception("web_sign_in_crashed", job_id=job.id)
        finally:
            if job.finished_at is None:  # cancelled (the app is closing)
                job.end(error=AggregatorError("the app stopped before the sign-in ended"))

    async def wait_all(self) -> None:
        for job in self._here.jobs.values():
            job.person.give_up()
        await self._here.wait()


def lookup_jobs_for(settings: Settings, repository: Repository, runners: RunnerHolder) -> LookupJobs:
    """The app's lookup jobs as the settings say: run in this process (dispatch `inline`, the default), or
    queued for the workers under their portal account's lock (dispatch `queue`)."""
    announce = webhook_announcer(repository)
    if settings.dispatch != "queue":
        return LookupJobs(runners, announce)
    from aggregator.dispatch.lookup_tasks import LookupQueue  # procrastinate: only when the queue is used

    return LookupJobs(runners, announce, queue=LookupQueue(settings, repository))
