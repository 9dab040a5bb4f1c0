"""Work-conserving assignment on a real PostgreSQL (aggregator/dispatch/claims.py), with the scripted runner of
the other fast queue tests (no browser; answers from the sandbox's ground truth).

Pins: an account whose checks are quick takes more of the day than a slow one; two accounts claiming at the
same moment never get the same item; an item claimed by a job that died before deferring its next job is
deferred again by the sweep and checked exactly once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from unittest import mock

import psycopg
import pytest
from procrastinate.worker import Worker

from aggregator.dispatch import claims
from aggregator.dispatch.app import ensure_queue_schema, queue_app, queue_conninfo
from aggregator.dispatch.worker import _NextJobAtOnce, run_worker
from aggregator.flows import capabilities
from aggregator.models import EligibilityQuery
from aggregator.overnight.batch import ItemState
from aggregator.scrapers.framework import Capability
from aggregator.scrapers.registry import all_adapters
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import batches as store
from aggregator.store.tables import AppointmentRow, BatchItemRow
from tests.dispatch.test_queue_dispatch import FAST, _enqueue, _jobs, _work_until_done
from tests.unit.test_batch_dispatch import DAY, Scripted, ScriptedRunner, active_members, add_appointments
from vault import MasterKey, Vault

CARRIER = "ridgeline"


@pytest.fixture
def settings(tmp_path, postgres_url) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path / "data", database_url=postgres_url, dispatch="queue", worker_poll_seconds=0.2)


@pytest.fixture
def repository(settings: Settings) -> Repository:
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    return Repository.open(settings.resolved_database_url)


@pytest.fixture
def vault(settings: Settings, repository: Repository) -> Vault:
    vault = Vault.create(settings.resolved_vault_path, MasterKey.generate())
    for label in ("frontdesk", "billing"):
        vault.add_account(carrier=CARRIER, label=label, username=f"user-{label}", password="pw",
                          totp_secret="JBSWY3DPEHPK3PXP")
    return vault


async def _work_until(settings: Settings, runner: ScriptedRunner, done, deadline: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Run an in-process worker until `done()` (a worker with wait=False stops when no job is due right now)."""
    until = time.monotonic() + deadline
    while not done():
        assert time.monotonic() < until, Counter(i.state for i in store.items_on(runner.repository, DAY))
        await run_worker(settings, concurrency=2, wait=False, runner=runner, batch_options=FAST)


def _checked_once_and_right(runner: ScriptedRunner, repository) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every item verified (the scripted runner answers from the ground truth), each member asked once;
    returns member id -> the account that checked it."""
    items = store.items_on(repository, DAY)
    assert Counter(i.state for i in items) == Counter({"verified": len(items)})
    asked = Counter(member for flow, member, _, _ in runner.calls if flow == "eligibility")
    assert set(asked.values()) == {1}, asked
    return {member: account for flow, member, account, _ in runner.calls if flow == "eligibility"}


async def test_a_quick_account_takes_more_of_the_day_than_a_slow_one(settings, repository, vault):
    add_appointments(repository, active_members(12))
    runner = ScriptedRunner(settings, repository, vault, Scripted())
    runner.delays["billing"] = 0.5  # each of billing's lookups takes 0.5 s; frontdesk answers at once
    report = await _enqueue(settings, repository, vault)
    assert report.queued == 12 and report.per_account == Counter({"ridgeline/frontdesk": 2, "ridgeline/billing": 2})
    await _work_until_done(settings, runner)
    by_account = Counter(_checked_once_and_right(runner, repository).values())
    # A fixed share would be 6 and 6; billing ran its 2 first jobs while frontdesk took the rest as it went.
    assert by_account["frontdesk"] > by_account["billing"] >= 1, by_account
    assert by_account["frontdesk"] >= 7, by_account  # more than a fixed half, whatever the machine's load
    assert {i.account_label for i in store.items_on(repository, DAY)} == {"frontdesk", "billing"}


async def test_accounts_claiming_at_the_same_moment_never_get_the_same_item(settings, repository):
    add_appointments(repository, active_members(40))
    store.ensure_items(repository, DAY)
    ensure_queue_schema(settings)  # the claim looks for the items' jobs in procrastinate's table
    everyone = {i.id for i in store.items_on(repository, DAY)}

    # One claimer holds the first item's row (its transaction still open): another skips it, without waiting.
    with psycopg.connect(queue_conninfo(settings)) as holder, holder.transaction():
        held = holder.execute("SELECT id FROM batch_items ORDER BY id LIMIT 1 FOR UPDATE").fetchone()
        assert held is not None
        started = time.monotonic()
        other = claims.claim_next(repository, DAY, CARRIER, "billing")
        assert other is not None and other.item_id != held[0] and time.monotonic() - started < 5
    store.update_item(repository, other.item_id, account_label=None)

    # Eight accounts finishing together, each claiming until the day is given out.
    start = threading.Barrier(8)
    taken: dict[str, list[str]] = {}

    def claimer(label: str) -> None:
        mine = taken.setdefault(label, [])
        start.wait()
        while (claim := claims.claim_next(repository, DAY, CARRIER, label)) is not None:
            mine.append(claim.item_id)

    threads = [threading.Thread(target=claimer, args=(f"account{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claimed = [item_id for ids in taken.values() for item_id in ids]
    assert len(claimed) == len(set(claimed)) == len(everyone) and set(claimed) == everyone
    owner = {i.id: i.account_label for i in store.items_on(repository, DAY)}
    assert all(owner[item_id] == label for label, ids in taken.items() for item_id in ids)


async def test_an_item_claimed_by_a_job_that_died_is_deferred_again_by_the_sweep_and_checked_once(
        settings, repository, vault):
    add_appointments(repository, active_members(5))
    runner = ScriptedRunner(settings, repository, vault, Scripted())
    report = await _enqueue(settings, repository, vault, jobs_per_account=1)  # 2 jobs, 3 items unassigned
    assert sum(report.per_account.values()) == 2
    # A job of frontdesk claimed an item and its worker died before deferring the item's job.
    orphan = claims.claim_next(repository, DAY, CARRIER, "frontdesk")
    assert orphan is not None
    await _work_until(settings, runner, lambda: sum(i.state == "verified" for i in store.items_on(repository, DAY)) >= 4)
    items = {i.id: i for i in store.items_on(repository, DAY)}
    assert items[orphan.item_id].state == "pending" and items[orphan.item_id].account_label == "frontdesk"
    assert sum(i.state == "verified" for i in items.values()) == 4  # the others went on without it
    assert len(_jobs(settings)) == 4

    app = queue_app(settings)
    async with app.open_async():
        # A claim younger than the grace may be its claimer deferring right now: left alone.
        assert await claims.resume_stranded(app, repository, vault, budget=2, claim_grace_seconds=3600,
                                            deadline_seconds=600) == 0
        assert await claims.resume_stranded(app, repository, vault, budget=2, claim_grace_seconds=0,
                                            deadline_seconds=600) == 1
        assert await claims.resume_stranded(app, repository, vault, budget=2, claim_grace_seconds=0,
                                            deadline_seconds=600) == 0  # its job waits now: nothing to do
    jobs = _jobs(settings)
    assert len(jobs) == 5 and jobs[-1][:3] == ("portal-account:ridgeline/frontdesk", f"batch-item:{orphan.item_id}",
                                               "todo")
    await _work_until_done(settings, runner)
    accounts = _checked_once_and_right(runner, repository)
    orphan_member = store.get_appointment(repository, items[orphan.item_id].appointment_id).member_id
    assert accounts[orphan_member] == "frontdesk"
    async with app.open_async():  # finished: the sweep finds nothing more
        assert await claims.resume_stranded(app, repository, vault, budget=2, claim_grace_seconds=0,
                                            deadline_seconds=600) == 0


async def test_items_with_more_searches_left_are_claimed_first(settings, repository):
    # Longest first (as inline): a visit naming procedures (eligibility, then authorizations: two searches)
    # before the rest, though its item's id comes last; one whose eligibility an earlier attempt answered has
    # one search left, like a plain visit, and keeps its place in id order.
    members = active_members(6)
    add_appointments(repository, members)
    store.ensure_items(repository, DAY)
    ensure_queue_schema(settings)
    items = sorted(store.items_on(repository, DAY), key=lambda i: i.id)
    longest, answered = items[-1], items[-2]
    with repository.session() as session:
        for item in (longest, answered):
            appointment = session.get(AppointmentRow, item.appointment_id)
            appointment.procedure_codes = "99213"
            session.add(appointment)
        session.commit()
    member = next(m for m in members if m.member_id == store.get_appointment(repository, answered.appointment_id).member_id)
    query = EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth, service_date=DAY)
    lookup = repository.create_lookup(flow="eligibility", carrier=CARRIER, query=query, source="test")
    store.update_item(repository, answered.id, eligibility_lookup_id=lookup.id)
    order = []
    while (claim := claims.claim_next(repository, DAY, CARRIER, "frontdesk")) is not None:
        order.append(claim.item_id)
    assert order == [longest.id, *(i.id for i in items[:-1])]


async def test_a_visit_naming_procedures_is_not_claimed_first_where_the_portal_shows_no_authorizations(
        settings, repository):
    # As inline (`BatchRun._searches_needed`): at such a portal every visit is one search, so id order.
    carrier = next(a.manifest.slug for a in all_adapters()
                   if not a.manifest.is_hub and not capabilities.declares(a.manifest, Capability.AUTHORIZATION))
    add_appointments(repository, active_members(4))
    store.ensure_items(repository, DAY)
    ensure_queue_schema(settings)
    items = sorted(store.items_on(repository, DAY), key=lambda i: i.id)
    with repository.session() as session:
        for item in items:
            appointment = session.get(AppointmentRow, item.appointment_id)
            appointment.carrier = carrier
            appointment.procedure_codes = "99213" if item is items[-1] else None
            session.add(appointment)
            row = session.get(BatchItemRow, item.id)
            row.carrier = carrier
            session.add(row)
        session.commit()
    order = []
    while (claim := claims.claim_next(repository, DAY, carrier, "frontdesk")) is not None:
        order.append(claim.item_id)
    assert order == [i.id for i in items]


async def test_a_worker_looks_for_a_job_as_soon_as_one_of_its_own_has_ended(settings):
    # The mechanism (aggregator/dispatch/worker.py `_NextJobAtOnce`): once an ended job's status is written
    # (its account's lock free), the worker is told to look for jobs now, as a "job inserted" notice does.
    # It leans on procrastinate 3's worker internals; this fails if they change.
    worker = _NextJobAtOnce(app=queue_app(settings), concurrency=1)
    written = []

    async def write_status(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        written.append(worker._new_job_event.is_set())

    worker._new_job_event.clear()
    with mock.patch.object(Worker, "_persist_job_status", write_status):
        await worker._persist_job_status(job=None, status=None, retry_decision=None, context=None, job_result=None)
    assert written == [False] and worker._new_job_event.is_set()


async def test_an_accounts_next_job_runs_when_its_last_one_ends_with_a_slow_poll(settings, repository, vault):
    # A job waiting behind its account's lock starts when the lock is released, not at the next poll (10
    # minutes here): every item ends, each checked once.
    patient = settings.model_copy(update={"worker_poll_seconds": 600.0})
    add_appointments(repository, active_members(6))
    runner = ScriptedRunner(patient, repository, vault, Scripted())
    report = await _enqueue(patient, repository, vault)
    # Two accounts, two jobs each (one runs, one waits on the account's lock); the rest are claimed as jobs end.
    assert report.per_account == Counter({"ridgeline/frontdesk": 2, "ridgeline/billing": 2})
    worker = asyncio.create_task(run_worker(patient, concurrency=4, runner=runner, batch_options=FAST))
    try:
        until = time.monotonic() + 120
        while any(not ItemState(i.state).terminal for i in store.items_on(repository, DAY)):
            assert not worker.done(), worker
            assert time.monotonic() < until, Counter(i.state for i in store.items_on(repository, DAY))
            await asyncio.sleep(0.05)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    _checked_once_and_right(runner, repository)
