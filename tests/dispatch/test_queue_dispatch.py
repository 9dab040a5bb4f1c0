"""The queue dispatch on a real PostgreSQL and procrastinate, with the scripted runner of the inline
dispatcher's tests (tests/unit/test_batch_dispatch.py: no browser, answers from the ground truth).

Pins the rules the e2e test cannot provoke cheaply: SQLite refused, the schema applied once, enqueuing
twice queues nothing twice, accounts given out round-robin, carriers without a usable account finished at
once, retries with the attempt limit, an account that needs a person handing its items over, a finished
item never checked again, the shared circuit breaker, and the periodic tick starting a run once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest

from aggregator.dispatch import locks
from aggregator.dispatch.app import ensure_queue_schema, queue_app, queue_conninfo
from aggregator.dispatch.enqueue import CHECK_ITEM_TASK, enqueue_day
from aggregator.dispatch.run import follow_run
from aggregator.dispatch.schedule_tasks import due_moment, start_due_runs, tick
from aggregator.dispatch.worker import run_worker, worker_runtime
from aggregator.errors import ConfigurationError
from aggregator.overnight.batch import BatchOptions, ItemState
from aggregator.settings import Settings
from aggregator.store import Repository, breakers
from aggregator.store import batches as store
from tests.unit.test_batch_dispatch import DAY, Scripted, ScriptedRunner, active_members, add_appointments
from vault import MasterKey, Vault

FAST = BatchOptions(max_attempts=3, retry_base_seconds=0.01, retry_max_seconds=0.05, deadline_seconds=60,
                    breaker_threshold=50, breaker_cooldown_seconds=0.2, breaker_max_cooldown_seconds=0.4)
MEMBERS = active_members(6)


@pytest.fixture
def settings(tmp_path, postgres_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=postgres_url, dispatch="queue",
                    worker_poll_seconds=0.2)


@pytest.fixture
def repository(settings) -> Repository:
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    return Repository.open(settings.resolved_database_url)


@pytest.fixture
def vault(settings) -> Vault:
    vault = Vault.create(settings.resolved_vault_path, MasterKey.generate())
    for label in ("frontdesk", "billing"):
        vault.add_account(carrier="ridgeline", label=label, username=f"user-{label}", password="pw",
                          totp_secret="JBSWY3DPEHPK3PXP")
    return vault


async def _enqueue(settings, repository, vault, **options):  # type: ignore[no-untyped-def]
    ensure_queue_schema(settings)
    app = queue_app(settings)
    async with app.open_async():
        return await enqueue_day(app, repository, vault, DAY, trigger="cli", **options)


async def _work_until_done(settings, runner, deadline=60.0) -> None:  # type: ignore[no-untyped-def]
    """Run an in-process worker until every item of the day is terminal (retries come due meanwhile)."""
    until = time.monotonic() + deadline
    while any(not ItemState(i.state).terminal for i in store.items_on(runner.repository, DAY)):
        assert time.monotonic() < until, Counter(i.state for i in store.items_on(runner.repository, DAY))
        await run_worker(settings, concurrency=2, wait=False, runner=runner, batch_options=FAST)


def _jobs(settings) -> list[tuple]:  # type: ignore[no-untyped-def]
    with psycopg.connect(queue_conninfo(settings)) as connection:
        return connection.execute("SELECT lock, queueing_lock, status, attempts FROM procrastinate_jobs "
                                  "WHERE task_name = %s ORDER BY id", (CHECK_ITEM_TASK,)).fetchall()


def test_the_queue_needs_postgresql(tmp_path):
    with pytest.raises(ConfigurationError, match="needs PostgreSQL"):
        queue_conninfo(Settings(data_dir=tmp_path))


def test_run_and_worker_refuse_the_queue_on_sqlite_with_one_clear_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from aggregator.cli import app

    monkeypatch.delenv("AGGREGATOR_DATABASE_URL", raising=False)
    data_dir = str(tmp_path / "data")
    for args in (["run", "--date", DAY.isoformat(), "--dispatch", "queue"], ["worker"]):
        env = {"AGGREGATOR_DISPATCH": "queue"} if args[0] == "worker" else {}
        result = CliRunner().invoke(app, [*args, "--data-dir", data_dir], env=env, catch_exceptions=False)
        assert result.exit_code == 2 and "needs PostgreSQL" in result.output, result.output
    result = CliRunner().invoke(app, ["run", "--date", DAY.isoformat(), "--follow", "--data-dir", data_dir],
                                catch_exceptions=False)
    assert result.exit_code == 2 and "--follow goes with --dispatch queue" in result.output


def test_the_schema_is_applied_once(settings, repository):
    assert ensure_queue_schema(settings) is True
    assert ensure_queue_schema(settings) is False


async def test_enqueue_defers_a_few_jobs_per_account_and_never_queues_an_item_twice(settings, repository, vault):
    add_appointments(repository, MEMBERS)
    first = await _enqueue(settings, repository, vault)  # 2 jobs per account (the default), 2 items unassigned
    assert first.queued == 6 and first.per_account == Counter({"ridgeline/frontdesk": 2, "ridgeline/billing": 2})
    again = await _enqueue(settings, repository, vault)
    assert again.queued == 0 and again.already_queued == 6 and sum(again.per_account.values()) == 0
    jobs = _jobs(settings)
    assert len(jobs) == 4 and {lock for lock, *_ in jobs} == {locks.account_lock("ridgeline", "frontdesk"),
                                                              locks.account_lock("ridgeline", "billing")}
    assert len({queueing for _, queueing, *_ in jobs}) == 4
    assert sum(i.account_label is None for i in store.items_on(repository, DAY)) == 2
    with pytest.raises(ValueError, match="at least 1"):
        await _enqueue(settings, repository, vault, jobs_per_account=0)


async def test_a_carrier_with_every_account_frozen_needs_a_human_at_once(settings, repository, vault):
    add_appointments(repository, MEMBERS[:2])
    for account in vault.accounts("ridgeline"):
        vault.freeze(account.account_id, "the portal rejected the password")
    report = await _enqueue(settings, repository, vault)
    assert report.queued == 0 and report.finished == 2
    assert all(i.state == "needs_human" and i.reason_code == "account_frozen" for i in store.items_on(repository, DAY))


async def test_workers_retry_hand_over_and_never_check_a_finished_item_again(settings, repository, vault):
    add_appointments(repository, MEMBERS)
    flaky, broken = MEMBERS[0].member_id, MEMBERS[1].member_id
    # (billing's call, when the item was billing's, takes the first answer of its member's script)
    script = Scripted(outcomes={flaky: ["retry_later", "retry_later", "found"], broken: ["retry_later"]},
                      account_outcomes={"billing": "rejected"})
    runner = ScriptedRunner(settings, repository, vault, script)
    report = await _enqueue(settings, repository, vault)
    progress: list = []  # `aggregator run --follow`: one call per item as the workers finish it
    follower = asyncio.create_task(follow_run(repository, report, 60, progress.append, poll_seconds=0.05))
    await _work_until_done(settings, runner)
    summary = await follower
    assert sorted(i.id for i in progress) == sorted(i.id for i in store.items_on(repository, DAY))
    assert summary.counts == Counter({"verified": 5, "failed": 1})
    assert all(r.finished_at is not None for r in store.runs_on(repository, DAY) if r.id == report.run_id)

    items = {store.get_appointment(repository, i.appointment_id).member_id: i for i in store.items_on(repository, DAY)}
    frontdesk_calls = Counter(member for _, member, account, _ in runner.calls if account == "frontdesk")
    assert items[flaky].state == "verified" and items[flaky].attempts == frontdesk_calls[flaky] >= 2
    assert items[broken].state == "failed" and items[broken].retryable
    assert items[broken].attempts == frontdesk_calls[broken] == FAST.max_attempts
    # billing's login "needs a person": each of its items moved to frontdesk, which checked them all.
    assert all(i.account_label == "frontdesk" for i in items.values())
    assert Counter(i.state for i in items.values()) == Counter({"verified": 5, "failed": 1})
    assert {status for *_, status, _ in _jobs(settings)} == {"succeeded"}

    calls = len(runner.calls)
    again = await _enqueue(settings, repository, vault)  # finished items are not queued again...
    assert again.queued == 0
    app = queue_app(settings)
    async with app.open_async():  # ...and a stray job for one does nothing
        await app.configure_task(CHECK_ITEM_TASK, lock=locks.account_lock("ridgeline", "frontdesk")).defer_async(
            item_id=items[flaky].id, run_id=again.run_id)
    await run_worker(settings, wait=False, runner=runner, batch_options=FAST)
    assert len(runner.calls) == calls


async def test_an_account_whose_daily_searches_are_spent_defers_its_item_to_the_portals_next_day(
        settings, repository, vault):
    add_appointments(repository, MEMBERS[:1])
    runner = ScriptedRunner(settings, repository, vault, Scripted(default="daily_limit"))
    await _enqueue(settings, repository, vault)
    await run_worker(settings, concurrency=1, wait=False, runner=runner, batch_options=FAST)
    item = store.items_on(repository, DAY)[0]
    # Not a failure and not an attempt: deferred to the portal's next midnight (New York) on its account.
    next_day = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    assert (item.state, item.reason_code, item.attempts) == ("deferred", "daily_limit", 0)
    assert store.aware(item.not_before) == next_day and item.reason.startswith("deferred: daily limit")
    [(status, scheduled_at)] = [(j[-2], j[-1]) for j in _jobs_with_schedule(settings)]
    assert status == "todo" and scheduled_at > datetime.now(UTC) + timedelta(hours=1)
    assert len(runner.calls) == 1


def _jobs_with_schedule(settings) -> list[tuple]:  # type: ignore[no-untyped-def]
    with psycopg.connect(queue_conninfo(settings)) as connection:
        return connection.execute(f"SELECT id, status, scheduled_at FROM procrastinate_jobs WHERE task_name = "
                                  f"'{CHECK_ITEM_TASK}' ORDER BY id").fetchall()


def test_the_circuit_breaker_is_shared_through_the_database(repository):
    rule = breakers.BreakerRule(threshold=2, cooldown_seconds=0.2, max_cooldown_seconds=0.3)
    assert breakers.wait_seconds(repository, "ridgeline", rule) == 0
    assert breakers.record_failure(repository, "ridgeline", rule) == 0
    assert breakers.record_failure(repository, "ridgeline", rule) == pytest.approx(0.2)
    assert breakers.state(repository, "ridgeline", rule) == "open"
    assert 0 < breakers.wait_seconds(repository, "ridgeline", rule) <= 0.2
    until = time.monotonic() + 5
    while breakers.wait_seconds(repository, "ridgeline", rule) > 0:  # the cool-down ends: this caller probes
        assert time.monotonic() < until
    assert breakers.wait_seconds(repository, "ridgeline", rule) > 0  # one probe at a time
    assert breakers.record_failure(repository, "ridgeline", rule) == pytest.approx(0.3)  # doubled, capped
    breakers.record_success(repository, "ridgeline")
    assert breakers.state(repository, "ridgeline", rule) == "closed"
    assert breakers.wait_seconds(repository, "bluepeak", rule) == 0  # per carrier


async def test_the_nightly_tick_starts_the_run_once(settings, repository, vault):
    add_appointments(repository, MEMBERS[:2])
    settings = settings.model_copy(update={"nightly_run_time": "02:00", "timezone": "America/New_York",
                                           "business_days": "mon-sun"})
    night = datetime(2026, 12, 1, 7, 5, tzinfo=UTC)  # 02:05 in New York, the morning of DAY
    assert due_moment(night - timedelta(minutes=10), "02:00", settings) is None
    ensure_queue_schema(settings)
    app = queue_app(settings)
    async with app.open_async():
        assert await start_due_runs(app, settings, repository, vault, night) == ["nightly"]
        assert await start_due_runs(app, settings, repository, vault, night + timedelta(minutes=1)) == []
    assert [r.trigger for r in store.runs_on(repository, DAY)] == ["nightly"]
    assert len(_jobs(settings)) == 2


@pytest.mark.parametrize("scheduled_runs", [True, False])
async def test_the_workers_tick_starts_runs_only_when_scheduled_runs_are_on(settings, repository, vault,
                                                                             scheduled_runs):
    add_appointments(repository, MEMBERS[:2])
    settings = settings.model_copy(update={"nightly_run_time": "02:00", "timezone": "America/New_York",
                                           "business_days": "mon-sun", "queue_scheduled_runs": scheduled_runs})
    night = datetime(2026, 12, 1, 7, 5, tzinfo=UTC)  # 02:05 in New York, the morning of DAY
    ensure_queue_schema(settings)
    app = queue_app(settings)
    runner = ScriptedRunner(settings, repository, vault, Scripted())
    async with worker_runtime(settings, runner), app.open_async():
        await tick(SimpleNamespace(app=app), int(night.timestamp()))  # type: ignore[arg-type]
    assert [r.trigger for r in store.runs_on(repository, DAY)] == (["nightly"] if scheduled_runs else [])
    assert len(_jobs(settings)) == (2 if scheduled_runs else 0)
