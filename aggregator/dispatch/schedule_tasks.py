"""The nightly run and the retry pass on the queue: `schedule:tick`, a procrastinate periodic task.

procrastinate defers a periodic job once per period whatever the number of workers (a unique row per task
and timestamp in `procrastinate_periodic_defers`); the tick runs every minute and starts what is due:
- the nightly run at `nightly_run_time` and the retry pass at `retry_pass_time`, practice-local, on business
  days (the same settings and day rule as the APScheduler jobs of the embedded default,
  aggregator/overnight/schedule.py), each once per date: a run row of that trigger for the date means it
  is done (`aggregator run` by hand is trigger "cli" and does not count). A tick missed (no worker up) still starts it within
  `misfire_grace_minutes`;
- when the retry pass's items are all finished (or its deadline passed), its run is closed and the morning
  e-mail goes out, as after the embedded retry pass.
Times are wall-clock in `settings.timezone`, so a run stays at 02:00 across daylight-saving changes.
With `queue_scheduled_runs` off (AGGREGATOR_QUEUE_SCHEDULED_RUNS=false) the tick does nothing: runs come only
from `aggregator run`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import procrastinate

from aggregator.dispatch.enqueue import enqueue_day
from aggregator.dispatch.worker import current_runtime
from aggregator.logging import get_logger
from aggregator.overnight.batch import ItemState
from aggregator.overnight.morning_email import send_morning_email
from aggregator.overnight.schedule import business_weekdays, day_to_check
from aggregator.settings import Settings
from aggregator.store import batches as store
from aggregator.store.repository import Repository
from vault import Vault

log = get_logger(__name__)

TICK_LOCK = "schedule-tick"  # one tick at a time, and at most one waiting
TICK_PRIORITY = 100  # ahead of any backlog of checks (a free worker slot takes the highest priority first)
NIGHTLY, RETRY = "nightly", "retry"


def make_blueprint() -> procrastinate.Blueprint:
    """A new Blueprint with the tick, deferred every minute (one per App, see aggregator/dispatch/app.py)."""
    blueprint = procrastinate.Blueprint()
    task = blueprint.task(name="tick", pass_context=True, lock=TICK_LOCK, queueing_lock=TICK_LOCK,
                          priority=TICK_PRIORITY)(tick)
    blueprint.periodic(cron="* * * * *", periodic_id="every-minute")(task)
    return blueprint


async def tick(context: procrastinate.JobContext, timestamp: int) -> None:
    """Start the nightly run or the retry pass when due; close a finished retry pass (see the module doc)."""
    runtime = current_runtime()
    if not runtime.settings.queue_scheduled_runs:
        return
    now = datetime.fromtimestamp(timestamp, UTC)
    await start_due_runs(context.app, runtime.settings, runtime.runner.repository, runtime.runner.vault, now)
    await close_retry_pass(runtime.settings, runtime.runner.repository, now)


def due_moment(now: datetime, at: str, settings: Settings) -> datetime | None:
    """Today's scheduled moment for `at` (HH:MM practice-local) when it has passed within the misfire grace on
    a business day, else None."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    if local.weekday() not in business_weekdays(settings.business_days):
        return None
    hour, minute = (int(x) for x in at.split(":"))
    # fold=0 plus a round trip through UTC: a time skipped by spring-forward lands an hour later, once.
    moment = datetime(local.year, local.month, local.day, hour, minute, tzinfo=zone).astimezone(UTC)
    if moment <= now <= moment + timedelta(minutes=settings.misfire_grace_minutes):
        return moment
    return None


def _started(repository: Repository, day: date, trigger: str) -> bool:
    """A run of this trigger exists for the day: the nightly run (or the retry pass) of a date happens once."""
    return any(run.trigger == trigger for run in store.runs_on(repository, day))


async def start_due_runs(app: procrastinate.App, settings: Settings, repository: Repository, vault: Vault,
                         now: datetime) -> list[str]:
    """Enqueue the nightly run and the retry pass when due and not yet started; returns the triggers started."""
    started = []
    for trigger, at in ((NIGHTLY, settings.nightly_run_time), (RETRY, settings.retry_pass_time)):
        moment = due_moment(now, at, settings)
        if moment is None:
            continue
        day = day_to_check(moment, settings)
        if _started(repository, day, trigger):
            continue
        await enqueue_day(app, repository, vault, day, trigger=trigger, retry_failed=trigger == RETRY,
                          jobs_per_account=settings.queue_jobs_per_account)
        started.append(trigger)
    return started


async def close_retry_pass(settings: Settings, repository: Repository, now: datetime) -> bool:
    """The day's retry pass finished (every item terminal, or its deadline passed): close its run and send the
    morning e-mail, once. True when it did."""
    day = day_to_check(now, settings)
    open_runs = [r for r in store.runs_on(repository, day) if r.trigger == RETRY and r.finished_at is None]
    if not open_runs:
        return False
    run = open_runs[-1]
    items = store.items_on(repository, day)
    started = store.aware(run.started_at) or now
    past_deadline = now > started + timedelta(minutes=settings.batch_deadline_minutes)
    if any(not ItemState(i.state).terminal for i in items) and not past_deadline:
        return False
    counts: dict[str, int] = {}
    for item in items:
        counts[item.state] = counts.get(item.state, 0) + 1
    store.finish_run(repository, run.id, {"batch_date": day.isoformat(), "counts": counts})
    log.info("retry_pass_finished", batch_date=day.isoformat(), **counts)
    await send_morning_email(settings, repository, day)
    return True
