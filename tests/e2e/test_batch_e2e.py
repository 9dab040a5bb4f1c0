"""The overnight batch against the real sandbox portals and Chromium, with faults on.

Every appointment must reach exactly one terminal state, and every stored record must equal the
sandbox's ground truth field by field; faults may cost time, never correctness.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import select

from aggregator.overnight.appointments import import_appointments
from aggregator.overnight.batch import TERMINAL_STATES, BatchOptions, BatchRun, ItemState
from aggregator.store import Repository
from aggregator.store import batches as store
from aggregator.store.tables import LookupRow
from sandbox.appointments import appointment_list, write_csv
from sandbox.batch_truth import item_problems
from sandbox.demo import demo_carriers
from tests.e2e.fixtures import account_stats

DAY = date(2026, 12, 1)
OPTIONS = BatchOptions(max_attempts=6, retry_base_seconds=0.5, retry_max_seconds=4, deadline_seconds=240,
                       breaker_threshold=4, breaker_cooldown_seconds=1.0, breaker_max_cooldown_seconds=2.0)


def carriers(sandbox) -> list[str]:  # type: ignore[no-untyped-def]
    """Every carrier with both a sandbox portal (all of them run in the session sandbox) and an adapter."""
    return [slug for slug in demo_carriers() if slug in sandbox.states]


def import_day(runner, sandbox, tmp_path: Path, count: int) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = appointment_list(sandbox.dataset, DAY, count, carriers=carriers(sandbox))
    path = write_csv(rows, tmp_path / "appointments.csv")
    report = import_appointments(runner.repository, path)
    assert report.problems == [] and report.added == count
    return rows


def check_against_ground_truth(repository, sandbox, rows: list[dict]) -> Counter[str]:  # type: ignore[no-untyped-def]
    """Every item terminal, and its state and stored records equal to the ground truth; returns the states."""
    items = {i.appointment_id: i for i in store.items_on(repository, DAY)}
    assert set(items) == {r["appointment_id"] for r in rows}
    problems = {}
    for appointment_id, item in items.items():
        assert ItemState(item.state) in TERMINAL_STATES, (appointment_id, item.state, item.reason)
        found = item_problems(repository, sandbox.dataset, item, store.get_appointment(repository, appointment_id))
        if found:
            problems[appointment_id] = found
    assert problems == {}
    return Counter(i.state for i in items.values())


async def test_batch_with_faults_ends_every_item_correctly(make_runner, sandbox, portals, vault, tmp_path):
    slugs = carriers(sandbox)
    for slug in slugs:
        portals[slug].update_faults({"error_rate": 0.05})
    maintenance_carrier = slugs[0]
    portals[maintenance_carrier].update_faults({"maintenance": True})
    # One account of another carrier (when there is one) has a wrong password in the vault.
    wrong_carrier = slugs[1] if len(slugs) > 1 else slugs[0]
    wrong = vault.accounts(wrong_carrier)[-1]
    vault.update_account(wrong.account_id, password="not-the-password-1")
    expiring_carrier = slugs[-1]

    async with make_runner() as runner:
        rows = import_day(runner, sandbox, tmp_path, 24)
        finished = []
        loop = asyncio.get_running_loop()
        # Maintenance for the first 3 seconds of the run, then the portal is back.
        loop.call_later(3.0, portals[maintenance_carrier].update_faults, {"maintenance": False})

        def progress(item) -> None:  # type: ignore[no-untyped-def]
            finished.append(item)
            if len(finished) == 12:  # mid-run, every session of one portal expires at once
                portals[expiring_carrier].expire_sessions()

        summary = await BatchRun(runner, DAY, options=OPTIONS, on_progress=progress).run()
        states = check_against_ground_truth(runner.repository, sandbox, rows)

    assert summary.total == len(rows) == sum(states.values())
    assert states["needs_human"] == 0 and states["failed"] == 0
    # The wrong password was tried exactly once, then the account was frozen and left the run.
    stats = account_stats(portals[wrong_carrier], wrong.label)
    assert stats["login_attempts"] == 1 and stats["failed_logins"] == 1
    assert vault.get(wrong.account_id).is_frozen
    # The maintenance page and server errors were served, and retried (not failed).
    assert portals[maintenance_carrier].stats()["totals"]["by_status"].get("503", 0) > 0
    assert sum(portals[s].stats()["totals"]["by_status"].get(code, 0) for s in slugs for code in ("500", "502")) > 0


async def test_frozen_accounts_are_skipped_with_needs_a_human(make_runner, sandbox, portals, vault, tmp_path):
    slug = carriers(sandbox)[0]
    for account in vault.accounts(slug):
        vault.freeze(account.account_id, "the portal rejected the password")
    async with make_runner() as runner:
        rows = import_day(runner, sandbox, tmp_path, 6)
        summary = await BatchRun(runner, DAY, options=OPTIONS).run()
        items = store.items_on(runner.repository, DAY)
    frozen_items = [i for i in items if i.carrier == slug]
    assert frozen_items and all(i.state == "needs_human" and "vault" in (i.action or "") for i in frozen_items)
    assert all(portals[slug].stats()["accounts"][u]["login_attempts"] == 0 for u in portals[slug].stats()["accounts"])
    assert summary.total == len(rows)


def _run_process(settings, sandbox) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {**os.environ, "AGGREGATOR_DATA_DIR": str(settings.resolved_data_dir),
           "AGGREGATOR_CARRIER_URLS": json.dumps(sandbox.urls), "AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS": "false",
           "AGGREGATOR_BATCH_RETRY_BASE_SECONDS": "0.5", "AGGREGATOR_LOG_FORMAT": "json"}
    return subprocess.Popen([sys.executable, "-m", "aggregator", "run", "--date", DAY.isoformat()], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_run_killed_mid_batch_resumes_without_losing_or_repeating_items(
        make_runner, settings, sandbox, portals, vault, tmp_path):
    async with make_runner() as runner:
        rows = import_day(runner, sandbox, tmp_path, 15)
    repository = Repository.open(settings.resolved_database_url)

    first = _run_process(settings, sandbox)
    try:
        deadline = time.monotonic() + 120
        while True:
            done = [i for i in store.items_on(repository, DAY) if ItemState(i.state).terminal]
            if len(done) >= 5 or first.poll() is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    killed_at = datetime.now(UTC)
    assert first.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    before = {i.id: i for i in store.items_on(repository, DAY) if ItemState(i.state).terminal}
    assert 5 <= len(before) < len(rows)

    second = _run_process(settings, sandbox)
    assert await asyncio.to_thread(second.wait, 240) == 0

    after = {i.id: i for i in store.items_on(repository, DAY)}
    for item_id, item in before.items():  # finished before the kill: untouched since
        assert (after[item_id].state, after[item_id].finished_at, after[item_id].eligibility_lookup_id) == (
            item.state, item.finished_at, item.eligibility_lookup_id)
    with repository.session() as session:
        lookups = session.exec(select(LookupRow)).all()
    finished_members = {store.get_appointment(repository, i.appointment_id).member_id for i in before.values()}
    late = [lk for lk in lookups if lk.member_id in finished_members and store.aware(lk.requested_at) > killed_at]
    assert late == [], "an appointment finished before the kill was checked again"
    # The final state is what an uninterrupted run gives: every item terminal and equal to the truth.
    states = check_against_ground_truth(repository, sandbox, rows)
    assert sum(states.values()) == len(rows) and states["failed"] == 0 and states["needs_human"] == 0
