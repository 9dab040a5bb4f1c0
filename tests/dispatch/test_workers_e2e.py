"""Scale-out on the real sandbox and Chromium: `aggregator run --dispatch queue` enqueues a 60-appointment day
for 3 carriers x 2 portal accounts, three `aggregator worker` processes check it, and one of them is killed
(SIGKILL, with its Chromium) in the middle of a job once every account has logged in.

What must hold (issue 16): every item terminal and equal to the sandbox's ground truth; the portals' own
request logs show at most one session per account at every moment, and each account logged in exactly once
(the other workers reuse the session the first one saved in the vault); the killed worker's jobs are run
again by another worker after the heartbeat timeout; no finished item is checked twice; no account frozen.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import psycopg
from sqlmodel import select

from aggregator.overnight.appointments import import_appointments
from aggregator.overnight.batch import ItemState
from aggregator.scrapers.registry import adapter_for, all_adapters
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import batches as store
from aggregator.store.tables import LookupRow
from sandbox.accounts import portal_accounts
from sandbox.appointments import appointment_list, write_csv
from tests.e2e.test_batch_e2e import DAY, check_against_ground_truth

# 3 portals x the sandbox's 2 accounts each: the first three the registry finds (any three will do). An
# appointment names a payer: a carrier's own site is its own payer's, a hub books a payer only it serves.
PORTALS = tuple(adapter.manifest.slug for adapter in all_adapters())[:3]


def _payer_of(portal: str) -> str:
    served = [p.slug for p in adapter_for(portal).manifest.served_payers()]
    others = {p.slug for a in all_adapters() if a.manifest.slug != portal for p in a.manifest.served_payers()}
    return next((p for p in served if p not in others), served[0])


CARRIERS = tuple(_payer_of(portal) for portal in PORTALS)  # the payers the day's appointments name
APPOINTMENTS = 60
WORKERS = 3
STALLED_SECONDS = 8.0  # heartbeat every second; 8 s of silence (not 2) so a busy CI machine never looks dead


def _env(settings: Settings, database_url: str, sandbox) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**os.environ, "AGGREGATOR_DATA_DIR": str(settings.resolved_data_dir),
            "AGGREGATOR_DATABASE_URL": database_url, "AGGREGATOR_DISPATCH": "queue",
            "AGGREGATOR_CARRIER_URLS": json.dumps(sandbox.urls), "AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS": "false",
            "AGGREGATOR_BATCH_RETRY_BASE_SECONDS": "0.5", "AGGREGATOR_WORKER_HEARTBEAT_SECONDS": "1",
            "AGGREGATOR_WORKER_STALLED_SECONDS": str(STALLED_SECONDS), "AGGREGATOR_WORKER_POLL_SECONDS": "0.5",
            "AGGREGATOR_LOG_FORMAT": "json"}


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    # Its own process group: the kill takes its Chromium with it, as a lost machine would.
    return subprocess.Popen([sys.executable, "-m", "aggregator", "worker", "--concurrency", "2"], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _conninfo(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


def _sessions_overlap(requests: list[dict]) -> list[tuple[str, str, str]]:
    """(account, session, session) for every two sessions of one account whose spans of requests overlap."""
    spans: dict[str, dict[str, list[float]]] = defaultdict(dict)
    for entry in requests:
        if entry["username"] and entry["session"]:
            span = spans[entry["username"]].setdefault(entry["session"], [entry["time"], entry["time"]])
            span[0], span[1] = min(span[0], entry["time"]), max(span[1], entry["time"])
    overlaps = []
    for username, sessions in spans.items():
        ordered = sorted(sessions.items(), key=lambda kv: kv[1][0])
        for (first, a), (second, b) in zip(ordered, ordered[1:], strict=False):
            if b[0] < a[1]:
                overlaps.append((username, first, second))
    return overlaps


async def test_three_workers_six_accounts_one_killed(postgres_url, settings, sandbox, portals, vault, tmp_path):
    settings = settings.model_copy(update={"database_url": postgres_url})
    repository = Repository.open(postgres_url)
    rows = appointment_list(sandbox.dataset, DAY, APPOINTMENTS, carriers=CARRIERS)
    report = import_appointments(repository, write_csv(rows, tmp_path / "appointments.csv"))
    assert report.problems == [] and report.added == APPOINTMENTS
    accounts = [a for a in vault.accounts() if a.carrier in PORTALS]  # a vault account's carrier is its portal
    assert len(accounts) == 6
    env = _env(settings, postgres_url, sandbox)

    enqueue = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "aggregator", "run", "--date",
                                                       DAY.isoformat()], env=env, capture_output=True, timeout=120)
    assert enqueue.returncode == 0, enqueue.stdout.decode() + enqueue.stderr.decode()
    assert f"{APPOINTMENTS} check(s) queued" in enqueue.stdout.decode()

    workers = [_start_worker(env, tmp_path / f"worker-{n}.log") for n in range(WORKERS)]
    victim = workers[0]
    try:
        # Kill the first worker in the middle of a job, once every account has logged in (finished a lookup).
        deadline = time.monotonic() + 180
        victim_lookup = None
        while victim_lookup is None:
            assert time.monotonic() < deadline, "no moment with the first worker mid-job after every login"
            assert all(w.poll() is None for w in workers), "a worker stopped by itself"
            with repository.session() as session:
                lookups = session.exec(select(LookupRow)).all()
            answered = {(lk.carrier, lk.account_label) for lk in lookups if lk.outcome is not None}
            if len(answered) == len(accounts):
                victim_lookup = next((lk for lk in lookups if lk.outcome is None and lk.owner
                                      and lk.owner.split(":")[1] == str(victim.pid)), None)
            if victim_lookup is None:
                await asyncio.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        with repository.session() as session:  # what the killed worker was asking (one job per --concurrency)
            cut_short = {(lk.flow, lk.carrier, lk.member_id) for lk in session.exec(select(LookupRow)).all()
                         if lk.outcome is None and lk.owner and lk.owner.split(":")[1] == str(victim.pid)}
        finished_at_kill = {i.id: i for i in store.items_on(repository, DAY) if ItemState(i.state).terminal}
        assert len(finished_at_kill) < APPOINTMENTS, "the day ended before the kill"

        while any(not ItemState(i.state).terminal for i in store.items_on(repository, DAY)):
            assert time.monotonic() < deadline + 60, Counter(i.state for i in store.items_on(repository, DAY))
            assert all(w.poll() is None for w in workers[1:]), "a surviving worker stopped"
            await asyncio.sleep(0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)

    # Every item terminal and equal to the ground truth; nothing failed, nobody needed.
    states = check_against_ground_truth(repository, sandbox, rows)
    assert states["failed"] == 0 and states["needs_human"] == 0, states

    # The killed job went back to the queue (procrastinate's retry of a stalled job) and another worker ran it.
    with psycopg.connect(_conninfo(postgres_url)) as connection:
        jobs = connection.execute("SELECT args->>'item_id', status, attempts FROM procrastinate_jobs "
                                  "WHERE task_name = 'batch:check_item'").fetchall()
    assert {status for _, status, _ in jobs} == {"succeeded"}
    retried = {item_id for item_id, _, attempts in jobs if attempts > 0}
    victim_items = {i.id for i in store.items_on(repository, DAY)
                    if (i.carrier, store.get_appointment(repository, i.appointment_id).member_id)
                    in {(carrier, member) for _, carrier, member in cut_short}}
    assert victim_items and victim_items <= retried
    survivors_logs = "".join((tmp_path / f"worker-{n}.log").read_text() for n in range(1, WORKERS))
    assert survivors_logs.count('"event": "stalled_job_retried"') >= len(victim_items)

    # No finished item was checked twice: an item done before the kill is untouched, and every appointment's
    # member was asked once per question, but for the jobs the killed worker had in flight: the question it was
    # asking (or had just been answered, when it died before writing the item) is asked once more.
    after = {i.id: i for i in store.items_on(repository, DAY)}
    for item_id, item in finished_at_kill.items():
        assert (after[item_id].finished_at, after[item_id].eligibility_lookup_id) == (
            item.finished_at, item.eligibility_lookup_id)
    with repository.session() as session:
        lookups = session.exec(select(LookupRow)).all()
    asked = Counter((lk.flow, lk.carrier, lk.member_id) for lk in lookups)
    expected = Counter()
    for item in after.values():
        appointment = store.get_appointment(repository, item.appointment_id)
        expected[("eligibility", item.carrier, appointment.member_id)] += 1
        if item.authorization_lookup_id:
            expected[("authorization", item.carrier, appointment.member_id)] += 1
    extra = asked - expected
    in_flight = {(flow, item.carrier, store.get_appointment(repository, item.appointment_id).member_id)
                 for item in after.values() if item.id in retried for flow in ("eligibility", "authorization")}
    assert set(cut_short) <= set(extra) <= in_flight and max(extra.values()) == 1, (extra, cut_short)

    # One job per account at a time, everywhere: no two lookups of one account overlap in time.
    by_account = defaultdict(list)
    for lk in lookups:
        if lk.finished_at is not None and lk.outcome != "interrupted":
            by_account[(lk.carrier, lk.account_label)].append((lk.requested_at, lk.finished_at))
    for spans in by_account.values():
        spans.sort()
        assert all(b[0] >= a[1] for a, b in zip(spans, spans[1:], strict=False))

    # The portals' own view: one session per account at every moment, one login per account, none frozen. A
    # hub's sessions are the hub's, its logins (password sign-ins) its identity provider's.
    for slug in PORTALS:
        hub = sandbox.hubs.get(slug)
        stats = (hub.hub if hub else portals[slug]).stats()
        logins = hub.idp.stats() if hub else stats
        assert _sessions_overlap(stats["requests"]) == []
        for account in vault.accounts(slug):
            username = next(a.username for a in portal_accounts(sandbox.dataset, slug) if a.label == account.label)
            counters = logins["accounts"][username]
            assert counters["successful_logins"] == 1, (slug, account.label, counters)
            assert counters["sessions_ended_by_new_login"] == 0
            assert not account.is_frozen
