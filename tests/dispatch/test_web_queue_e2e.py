"""A desk lookup (POST /api/lookups with a token) while a worker holds the same portal account waits for the
account's lock instead of opening a second session: the local PostgreSQL, the sandbox, two `aggregator worker`
processes with their own Chromium, dispatch `queue`.

Ridgeline keeps one usable account, so the batch's jobs and the desk lookup all need it; with two workers
of one job each, the free worker would take the desk lookup at once if the lock did not hold it back."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from aggregator.dispatch.app import ensure_queue_schema, queue_conninfo
from aggregator.dispatch.locks import account_lock
from aggregator.dispatch.lookup_tasks import TASK_NAME
from aggregator.dispatch.run import enqueue_run
from aggregator.overnight.appointments import import_appointments
from aggregator.overnight.batch import ItemState
from aggregator.settings import Settings, private_data_dir
from aggregator.store import batches as store
from aggregator.web import create_app
from sandbox.appointments import appointment_list, write_csv
from sandbox.ground_truth import sample_members
from tests.e2e.fixtures import EXAMPLE_CARRIER, account_stats
from tests.e2e.test_batch_e2e import DAY, check_against_ground_truth
from tests.web.conftest import no_runner, seed_data
from vault.configured import open_vault

CARRIER = EXAMPLE_CARRIER
HELD = "frontdesk"  # the one usable account of CARRIER here
BATCH = 4  # appointments on CARRIER: the desk lookup is asked while the first is checked
DEADLINE = 120.0


def wait_for(condition: Callable[[], object], what: str, processes: list[subprocess.Popen]) -> object:
    """Poll until `condition()` is truthy; fail naming `what` (and a worker that died) after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = condition()
        if value:
            return value
        dead = [p.args for p in processes if p.poll() is not None]
        assert not dead, f"a worker exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def worker(settings: Settings, urls: dict[str, str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "AGGREGATOR_DATA_DIR": str(settings.resolved_data_dir),
           "AGGREGATOR_DATABASE_URL": str(settings.database_url), "AGGREGATOR_DISPATCH": "queue",
           "AGGREGATOR_CARRIER_URLS": json.dumps(urls), "AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS": "false",
           "AGGREGATOR_WORKER_POLL_SECONDS": "0.5", "AGGREGATOR_LOG_FORMAT": "json"}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "aggregator", "worker", "--concurrency", "1"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def query_all(settings: Settings, sql: str, *args: object) -> list[tuple]:
    with psycopg.connect(queue_conninfo(settings)) as connection:
        return connection.execute(sql, args).fetchall()  # type: ignore[arg-type]


def runs_of(settings: Settings, lock: str) -> list[tuple[int, str, int, int]]:
    """(job id, task, started, ended) of every run of a job under `lock`, from procrastinate's own events;
    started and ended are the events' ids. Ids, not the events' `at`: `at` is when the writing transaction
    began, so on a busy machine a job fetched by a transaction that began a moment before the previous job's
    end was written (and saw that end, as it must to be fetched) carries the earlier time. An event's id is
    drawn when the event is written, so ids give the order the jobs' states really changed in."""
    events = query_all(settings, "SELECT j.id, j.task_name, e.type, e.id FROM procrastinate_events e "
                                 "JOIN procrastinate_jobs j ON j.id = e.job_id WHERE j.lock = %s ORDER BY e.id", lock)
    open_runs: dict[int, tuple[str, int]] = {}
    runs = []
    for job_id, task, kind, event_id in events:
        if kind == "started":
            open_runs[job_id] = (task, event_id)
        elif kind in ("succeeded", "failed", "deferred_for_retry", "cancelled", "aborted") and job_id in open_runs:
            task, started = open_runs.pop(job_id)
            runs.append((job_id, task, started, event_id))
    assert not open_runs, "a job under the lock never ended"
    return sorted(runs, key=lambda run: run[2])


async def test_a_desk_lookup_waits_for_the_worker_holding_its_account(sandbox, portals, tmp_path, postgres_url):
    settings = Settings(data_dir=tmp_path / "data", database_url=postgres_url, dispatch="queue",
                        carrier_urls=sandbox.urls, respect_maintenance_windows=False)
    private_data_dir(settings.resolved_data_dir)  # 0700, as `aggregator worker` requires
    seed = seed_data(settings)  # users with API tokens, and a vault with every sandbox account
    vault = open_vault(settings)
    for account in vault.accounts(CARRIER):
        if account.label != HELD:
            vault.freeze(account.account_id, "left out of this test")
    rows = appointment_list(sandbox.dataset, DAY, BATCH, carriers=[CARRIER])
    assert import_appointments(seed.repository, write_csv(rows, tmp_path / "day.csv")).added == BATCH
    portals[CARRIER].update_faults({"latency_ms": 150})  # a batch check lasts a few seconds: time to ask meanwhile
    sample = sample_members(sandbox.dataset, CARRIER, 1, kinds=("active_subscriber",))[0]
    ask = {"carrier": CARRIER, "member_id": sample.query.member_id, "service_date": sample.query.service_date.isoformat(),
           "date_of_birth": sample.query.date_of_birth.isoformat(), "checks": ["eligibility"]}
    headers = {"Authorization": f"Bearer {seed.api_tokens['staff']}"}
    lock = account_lock(CARRIER, HELD)

    ensure_queue_schema(settings)
    workers = [worker(settings, sandbox.urls, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        wait_for(lambda: len(query_all(settings, "SELECT id FROM procrastinate_workers")) == 2, "two workers",
                 workers)
        report = await enqueue_run(settings, DAY)
        # The account holds its 2 jobs (1 running, 1 waiting); it claims the day's other items as it goes.
        assert report.queued == BATCH
        assert report.per_account == {f"{CARRIER}/{HELD}": settings.queue_jobs_per_account}
        wait_for(lambda: query_all(settings, "SELECT id FROM procrastinate_jobs WHERE status = 'doing'"),
                 "a worker to hold the account", workers)
        with TestClient(create_app(settings, runner_provider=no_runner), base_url="http://127.0.0.1") as client:
            started = client.post("/api/lookups", json=ask, headers=headers)
            assert started.status_code == 202, started.text
            waiting_batch = {job_id for (job_id,) in query_all(
                settings, "SELECT id FROM procrastinate_jobs WHERE status = 'todo' AND task_name <> %s", TASK_NAME)}
            job = wait_for(lambda: (j := client.get(started.headers["location"], headers=headers).json())["state"]
                           in ("done", "failed") and j, "the desk lookup", workers)
            page = client.get(f"/api/lookups/{job['lookup_ids']['eligibility']}", headers=headers).json()  # type: ignore[index]
        wait_for(lambda: all(ItemState(i.state).terminal for i in store.items_on(seed.repository, DAY)),
                 "the batch", workers)
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            await asyncio.to_thread(process.wait, 30)

    # The answer the desk got is the portal's truth, read with the held account.
    assert job["state"] == "done" and job["outcomes"] == {"eligibility": "found"}, job  # type: ignore[index]
    assert page["account_label"] == HELD
    stored = seed.repository.records_for_lookup(job["lookup_ids"]["eligibility"])  # type: ignore[index]
    assert [r.without_provenance() for r in stored] == [sample.expected]
    check_against_ground_truth(seed.repository, sandbox, rows)
    # One job at a time on the account, across both workers: the desk lookup ran after the batch job that held
    # the account when it was asked, and before the batch jobs still waiting then (a person is waiting).
    runs = runs_of(settings, lock)
    assert len(runs) == BATCH + 1
    assert all(earlier[3] <= later[2] for earlier, later in zip(runs, runs[1:], strict=False)), runs
    desk = next(run for run in runs if run[1] == TASK_NAME)
    assert runs.index(desk) >= 1 and all(desk[2] < run[2] for run in runs if run[0] in waiting_batch)
    # The portal saw one login, one session, never ended by a second login.
    stats = account_stats(portals[CARRIER], HELD)
    assert stats["successful_logins"] == 1 and stats["login_attempts"] == 1, stats
    assert stats["sessions_ended_by_new_login"] == 0
    assert sum(1 for s in portals[CARRIER].sessions.values() if s.username == sample_username(portals, HELD)) <= 1


def sample_username(portals, label: str) -> str:  # type: ignore[no-untyped-def]
    return next(a.username for a in portals[CARRIER].data.accounts if a.label == label)
