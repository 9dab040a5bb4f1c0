"""Timed jobs (APScheduler 3, job store in the product's database).

- nightly run: on every business day at `nightly_run_time` (practice-local, default 02:00), the batch
  for the appointments of the day about to open;
- retry pass: on business days at `retry_pass_time` (default 06:30), items of that day that failed for
  a reason retrying can fix are tried again; then the morning e-mail goes to the configured list
  (aggregator/overnight/morning_email.py; off without recipients, a failure to send is only logged);
- resume: when a run ends with items deferred past its deadline (a maintenance window), a one-off
  job at the window's end picks them up.

Each of these runs starts with the canary (aggregator/overnight/canary.py, called by `BatchRun.run`):
one known lookup per portal account before that portal's items are dispatched; a portal whose canary
fails has its items held (pending), and the retry pass re-checks it and runs them once it passes.

Times are wall-clock in `settings.timezone`, so the run stays at 02:00 across daylight-saving changes
(on a spring-forward night whose 02:00 does not exist it runs once, at 03:00). A run missed while the
machine was off still starts on the next start within `misfire_grace_minutes`, once (coalesced).

Jobs are stored by reference (`aggregator.overnight.schedule:nightly_job`) with plain arguments; what they run
is the process's `BatchService`, registered by `start_scheduler`, so the web app and the scheduler
share one runner (one browser, one session per portal account).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from aggregator.logging import get_logger
from aggregator.settings import Settings

if TYPE_CHECKING:
    from aggregator.overnight.batch import BatchSummary
    from aggregator.runner import Runner

log = get_logger(__name__)
# APScheduler announces every job added and every start at INFO; our own log says what matters.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

JOBSTORE_TABLE = "apscheduler_jobs"
NIGHTLY_JOB = "nightly-run"
RETRY_JOB = "retry-pass"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def business_weekdays(spec: str) -> frozenset[int]:
    """'mon-fri' or 'mon,wed,fri' or 'mon-sun' -> weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for part in spec.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"business days must look like 'mon-fri' or 'mon,wed,fri', not '{spec}'")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
    return frozenset(days)


def day_to_check(moment: datetime, settings: Settings) -> date:
    """The business day the nightly run at `moment` prepares: the local date it runs on, or the next
    business day when it runs on a day the practice is closed (a manual trigger on a Sunday)."""
    local = moment.astimezone(ZoneInfo(settings.timezone)).date()
    open_days = business_weekdays(settings.business_days)
    while local.weekday() not in open_days:
        local += timedelta(days=1)
    return local


def _trigger(at: str, settings: Settings) -> CronTrigger:
    hour, minute = (int(x) for x in at.split(":"))
    return CronTrigger(day_of_week=settings.business_days, hour=hour, minute=minute,
                       timezone=ZoneInfo(settings.timezone))


# --- what jobs run ------------------------------------------------------------------------------------

RunnerProvider = Callable[[], Awaitable["Runner"]]


@dataclass
class BatchService:
    """Runs the batch for scheduled jobs with the process's shared runner."""

    settings: Settings
    runner: RunnerProvider
    scheduler: BaseScheduler | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    async def run(self, day: date, trigger: str, *, retry_failed: bool = False) -> BatchSummary:
        from aggregator.overnight.batch import BatchRun

        runner = await self.runner()
        summary = await BatchRun(runner, day, trigger=trigger, retry_failed=retry_failed).run()
        if summary.deferred_until is not None and self.scheduler is not None:
            self.scheduler.add_job("aggregator.overnight.schedule:resume_job", DateTrigger(summary.deferred_until),
                                   args=[day.isoformat()], id=f"resume-{day.isoformat()}", replace_existing=True,
                                   misfire_grace_time=self.settings.misfire_grace_minutes * 60, coalesce=True)
        return summary

    async def send_morning_email(self, day: date) -> str:
        """The morning e-mail for `day` (aggregator/overnight/morning_email.py): "sent", "off" or "failed".
        Never raises: a mail server that is down must not turn a finished run into a failed job."""
        from aggregator.overnight.morning_email import failure_fields, send_morning_email

        try:
            repository = (await self.runner()).repository
        except Exception as error:  # the runner could not open: the e-mail cannot read the worklist
            log.warning("morning_email_failed", day=day.isoformat(), **failure_fields(error))
            return "failed"
        return await send_morning_email(self.settings, repository, day)


_service: BatchService | None = None


def _require_service() -> BatchService:
    if _service is None:
        raise RuntimeError("no batch service registered: start the scheduler with start_scheduler()")
    return _service


def _on_the_queue(service: BatchService, job: str) -> bool:
    """With dispatch "queue" the workers' periodic task runs the nightly run and the retry pass
    (aggregator/dispatch/schedule_tasks.py): this scheduler stands aside, so they never run twice."""
    if service.settings.dispatch != "queue":
        return False
    log.info("scheduled_job_left_to_workers", job=job)
    return True


async def nightly_job() -> None:
    service = _require_service()
    if _on_the_queue(service, NIGHTLY_JOB):
        return
    await service.run(day_to_check(service.clock(), service.settings), "nightly")


async def retry_job() -> None:
    """The retry pass, then the morning e-mail (also when the pass itself failed: staff still need the day)."""
    service = _require_service()
    if _on_the_queue(service, RETRY_JOB):
        return
    day = day_to_check(service.clock(), service.settings)
    try:
        await service.run(day, "retry", retry_failed=True)
    finally:
        await service.send_morning_email(day)


async def resume_job(day_iso: str) -> None:
    await _require_service().run(date.fromisoformat(day_iso), "resume")


# --- the scheduler --------------------------------------------------------------------------------------


def _jobstore(settings: Settings) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(url=settings.resolved_database_url, tablename=JOBSTORE_TABLE)


def install_jobs(scheduler: BaseScheduler, settings: Settings) -> None:
    """Add (or update to the current settings) the nightly run and the retry pass."""
    grace = settings.misfire_grace_minutes * 60
    common = dict(replace_existing=True, misfire_grace_time=grace, coalesce=True, max_instances=1)
    # A job whose trigger is unchanged keeps its stored next run time, so a run missed while the
    # machine was off is still due when the scheduler starts (replacing it would skip the missed run).
    for job_id, func, at in ((NIGHTLY_JOB, "aggregator.overnight.schedule:nightly_job", settings.nightly_run_time),
                             (RETRY_JOB, "aggregator.overnight.schedule:retry_job", settings.retry_pass_time)):
        trigger = _trigger(at, settings)
        existing = scheduler.get_job(job_id)
        if existing is not None and str(existing.trigger) == str(trigger) and existing.func_ref == func:
            continue
        scheduler.add_job(func, trigger, id=job_id, name=job_id.replace("-", " "), **common)


def start_scheduler(settings: Settings, service: BatchService) -> AsyncIOScheduler:
    """Start the scheduler on the running event loop with the product's job store."""
    global _service
    scheduler = AsyncIOScheduler(jobstores={"default": _jobstore(settings)}, timezone=ZoneInfo(settings.timezone))
    service.scheduler = scheduler
    _service = service
    scheduler.start(paused=True)
    install_jobs(scheduler, settings)
    scheduler.resume()
    for job in scheduler.get_jobs():
        log.info("job_scheduled", job=job.id, next_run=job.next_run_time.isoformat() if job.next_run_time else None)
    return scheduler


def describe_trigger(trigger: object) -> str:
    """'mon-fri at 02:00' for the cron jobs, 'once at ...' for a resume job."""
    if isinstance(trigger, CronTrigger):
        fields = {f.name: str(f) for f in trigger.fields}
        return f"{fields['day_of_week']} at {int(fields['hour']):02d}:{int(fields['minute']):02d}"
    if isinstance(trigger, DateTrigger):
        return f"once at {trigger.run_date:%Y-%m-%d %H:%M %Z}"
    return str(trigger)


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    name: str
    trigger: str
    next_run: datetime | None


def scheduled_jobs(settings: Settings) -> tuple[list[ScheduledJob], bool]:
    """The jobs in the store and their next runs, read without running anything. When the store is
    empty (the scheduler never ran), the jobs `aggregator serve` would install, and False."""
    scheduler = BackgroundScheduler(jobstores={"default": _jobstore(settings)}, timezone=ZoneInfo(settings.timezone))
    scheduler.start(paused=True)
    try:
        installed = bool(scheduler.get_jobs())
        if not installed:
            scheduler.remove_jobstore("default", shutdown=False)
            scheduler.add_jobstore("memory", "default")
            install_jobs(scheduler, settings)
        jobs = [ScheduledJob(j.id, j.name, describe_trigger(j.trigger), j.next_run_time
                             or j.trigger.get_next_fire_time(None, datetime.now(ZoneInfo(settings.timezone))))
                for j in scheduler.get_jobs()]
    finally:
        scheduler.shutdown(wait=False)
    return sorted(jobs, key=lambda j: j.next_run.timestamp() if j.next_run else float("inf")), installed
