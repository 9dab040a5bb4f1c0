"""The scheduler with a fake clock: the real APScheduler (job store in the product's SQLite database)
reads a clock the test moves, so nights pass in milliseconds."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest

from aggregator.overnight.schedule import (
    NIGHTLY_JOB,
    RETRY_JOB,
    BatchService,
    business_weekdays,
    day_to_check,
    scheduled_jobs,
    start_scheduler,
)
from aggregator.settings import Settings

NEW_YORK = ZoneInfo("America/New_York")


class FakeClock:
    now = datetime(2026, 1, 1, tzinfo=UTC)


class FakeDateTime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return FakeClock.now.astimezone(tz) if tz else FakeClock.now.astimezone(UTC).replace(tzinfo=None)


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", FakeDateTime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", FakeDateTime)


class RecordingService(BatchService):
    runs: list[tuple[date, str, datetime]]

    async def run(self, day, trigger, *, retry_failed=False):  # type: ignore[no-untyped-def, override]
        self.runs.append((day, trigger, FakeClock.now))


def service(settings: Settings) -> RecordingService:
    recording = RecordingService(settings, runner=None, clock=lambda: FakeClock.now)  # type: ignore[arg-type]
    recording.runs = []
    return recording


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, business_days="mon-sun", nightly_run_time="02:00",
                        retry_pass_time="06:30", misfire_grace_minutes=180)
    return settings


async def stop(scheduler) -> None:  # type: ignore[no-untyped-def]
    """Shut down as a process that exits would: let the start-up wake-up pass first."""
    await asyncio.sleep(0.05)
    scheduler.shutdown(wait=False)


async def advance_to_next_run(scheduler, job_id: str) -> datetime:  # type: ignore[no-untyped-def]
    when = scheduler.get_job(job_id).next_run_time
    FakeClock.now = when + timedelta(seconds=1)
    scheduler.wakeup()
    await asyncio.sleep(0.15)
    return when


@pytest.mark.parametrize("start, expected_utc", [
    # Fall back (1 Nov 2026): 02:00 EDT on the 31st, 02:00 EST afterwards.
    (datetime(2026, 10, 30, 12, 0, tzinfo=NEW_YORK),
     ["2026-10-31T06:00", "2026-11-01T07:00", "2026-11-02T07:00"]),
    # Spring forward (14 Mar 2027): 02:00 does not exist that night; it runs once, at 03:00 EDT.
    (datetime(2027, 3, 12, 12, 0, tzinfo=NEW_YORK),
     ["2027-03-13T07:00", "2027-03-14T07:00", "2027-03-15T06:00"]),
])
async def test_the_nightly_run_fires_at_local_time_across_daylight_saving(settings, start, expected_utc):
    FakeClock.now = start
    recording = service(settings)
    scheduler = start_scheduler(settings, recording)
    try:
        for _ in expected_utc:
            await advance_to_next_run(scheduler, NIGHTLY_JOB)
    finally:
        scheduler.shutdown(wait=False)
    nightly = [(day, at) for day, trigger, at in recording.runs if trigger == "nightly"]
    assert [at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") for _, at in nightly] == expected_utc
    local = [at.astimezone(UTC).astimezone(NEW_YORK) for _, at in nightly]
    assert [(t.hour, t.minute) for t in local] == [(3, 0) if t.date() == date(2027, 3, 14) else (2, 0) for t in local]
    # Each run prepares the day it runs on (the clinic opens that morning).
    assert [day for day, _ in nightly] == [at.astimezone(NEW_YORK).date() for _, at in nightly]


async def test_a_run_missed_while_the_machine_was_off_runs_once_on_start_within_the_grace(settings):
    FakeClock.now = datetime(2026, 11, 30, 0, 30, tzinfo=NEW_YORK)  # Monday, before the 02:00 run
    first = service(settings)
    await stop(start_scheduler(settings, first))  # jobs stored; then the machine is off

    # Off for three nights; back on Thursday 03:30, 1.5 h after that night's run: one run, now.
    FakeClock.now = datetime(2026, 12, 3, 3, 30, tzinfo=NEW_YORK)
    back = service(settings)
    scheduler = start_scheduler(settings, back)
    await asyncio.sleep(0.3)
    try:
        assert [(day, trigger) for day, trigger, _ in back.runs] == [(date(2026, 12, 3), "nightly")]
        nxt = scheduler.get_job(NIGHTLY_JOB).next_run_time
        assert nxt == datetime(2026, 12, 4, 2, 0, tzinfo=NEW_YORK)
    finally:
        scheduler.shutdown(wait=False)


async def test_a_run_missed_by_more_than_the_grace_is_skipped(settings):
    FakeClock.now = datetime(2026, 11, 30, 0, 30, tzinfo=NEW_YORK)
    await stop(start_scheduler(settings, service(settings)))
    FakeClock.now = datetime(2026, 11, 30, 5, 30, tzinfo=NEW_YORK)  # 3.5 h late, grace 3 h
    late = service(settings)
    scheduler = start_scheduler(settings, late)
    await asyncio.sleep(0.3)
    try:
        assert [t for _, t, _ in late.runs if t == "nightly"] == []
        assert scheduler.get_job(NIGHTLY_JOB).next_run_time == datetime(2026, 12, 1, 2, 0, tzinfo=NEW_YORK)
    finally:
        scheduler.shutdown(wait=False)


async def test_changing_the_configured_time_moves_the_stored_job(settings):
    FakeClock.now = datetime(2026, 11, 30, 0, 30, tzinfo=NEW_YORK)
    await stop(start_scheduler(settings, service(settings)))
    later = settings.model_copy(update={"nightly_run_time": "03:15", "timezone": "America/Chicago"})
    scheduler = start_scheduler(later, service(later))
    try:
        assert scheduler.get_job(NIGHTLY_JOB).next_run_time == datetime(2026, 11, 30, 3, 15,
                                                                        tzinfo=ZoneInfo("America/Chicago"))
        assert scheduler.get_job(RETRY_JOB) is not None
    finally:
        scheduler.shutdown(wait=False)


def test_schedule_show_lists_stored_jobs_or_what_serve_would_install(settings) -> None:
    FakeClock.now = datetime(2026, 11, 27, 12, 0, tzinfo=NEW_YORK)
    jobs, installed = scheduled_jobs(settings)
    assert not installed and {j.id for j in jobs} == {NIGHTLY_JOB, RETRY_JOB}


def test_business_days_and_the_day_a_run_prepares() -> None:
    assert business_weekdays("mon-fri") == {0, 1, 2, 3, 4}
    assert business_weekdays("mon,wed,fri") == {0, 2, 4}
    assert business_weekdays("sat-mon") == {5, 6, 0}
    with pytest.raises(ValueError, match="business days"):
        business_weekdays("weekdays")
    weekdays = Settings(business_days="mon-fri")
    saturday = datetime(2026, 11, 28, 2, 0, tzinfo=NEW_YORK)
    assert day_to_check(saturday, weekdays) == date(2026, 11, 30)
    tuesday_utc = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 02:00 in New York
    assert day_to_check(tuesday_utc, weekdays) == date(2026, 12, 1)
