"""Work-conserving assignment of a day's items to portal accounts (dispatch `queue`, docs/scale-out.md).

An item is *unassigned* while its `account_label` is NULL and it has no job waiting or running; it is
*claimed* by an account when one statement sets `account_label` (`claim_next`, `UPDATE ... FOR UPDATE SKIP
LOCKED`: two accounts finishing at the same moment never claim the same item), and then deferred as a
`batch:check_item` job under that account's `lock` with the item's `queueing_lock` (`defer_claimed`).

Each account keeps at most `queue_jobs_per_account` jobs due (one running, the others waiting behind it on its
lock): the enqueue gives every account that many (`top_up`), and every job, when it ends, claims the next
unassigned item of its carrier for its own account (`pass_on`). So an account whose checks are quick takes
more of the day than a slow one, and none sits idle while its carrier has work. An account that leaves the
run (frozen) stops claiming; the carrier's other accounts take its share (`top_up` of the carrier).

Crash safety: a worker can die between the claim and the defer. `resume_stranded` (the stalled-job sweep of
every worker, aggregator/dispatch/worker.py) defers again a claimed item with no job waiting or running once
its claim is older than the grace, and gives out the unassigned items of a carrier none of whose jobs is
left; `aggregator run` for the date again releases every claim without a job and tops up. The job re-reads
its item first, so an item finished meanwhile is never checked twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from sqlalchemy import bindparam, text

from aggregator.dispatch.locks import ITEM_QUEUEING_LOCK_PREFIX, account_lock, item_queueing_lock
from aggregator.errors import ConfigurationError
from aggregator.flows import capabilities
from aggregator.logging import get_logger
from aggregator.overnight.batch import accounts_for_run, finish_item
from aggregator.scrapers.framework import Capability
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import portal_of
from aggregator.store import batches as store
from aggregator.store.repository import Repository, utcnow
from vault import PortalAccount, Vault

log = get_logger(__name__)

CHECK_ITEM_TASK = "batch:check_item"
RETRY_PRIORITY_STEP = 1  # a job due later goes behind its account's fresh jobs (see aggregator/dispatch/retry.py)
UNFINISHED = tuple(store.UNFINISHED)

# An item's job is live while it waits (todo) or runs (doing); the jobs carry the queueing lock of their item.
_NO_LIVE_JOB = (
    "NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.queueing_lock = :prefix || b.id "
    "AND j.status IN ('todo', 'doing'))"
)
# Longest first (as the inline batch, aggregator/overnight/batch.py `_searches_needed`): an item with more
# searches to make (its eligibility not yet answered, an authorization step for a visit naming procedures or a
# service type, where the portal shows authorizations: `:authorizations`) is claimed before the short ones, so
# the day ends on short items and a carrier's accounts finish together.
_SEARCHES_LEFT = (
    "(CASE WHEN b.eligibility_lookup_id IS NULL THEN 1 ELSE 0 END"
    " + CASE WHEN :authorizations AND (COALESCE(a.procedure_codes, '') <> '' OR a.service_type IS NOT NULL)"
    " THEN 1 ELSE 0 END)"
)
_CLAIM = text(f"""
    UPDATE batch_items SET account_label = :label, updated_at = :now
    WHERE id = (
        SELECT b.id FROM batch_items b JOIN appointments a ON a.id = b.appointment_id
        WHERE b.batch_date = :day AND b.carrier = :carrier AND b.account_label IS NULL
          AND b.state IN :unfinished AND (b.not_before IS NULL OR b.not_before <= :now) AND {_NO_LIVE_JOB}
        ORDER BY {_SEARCHES_LEFT} DESC, b.id
        LIMIT 1
        FOR UPDATE OF b SKIP LOCKED)
    RETURNING id, run_id, not_before
""")
_CLAIM_LATER = text(f"""
    UPDATE batch_items SET account_label = :label, updated_at = :now
    WHERE id = (
        SELECT b.id FROM batch_items b
        WHERE b.batch_date = :day AND b.carrier = :carrier AND b.account_label IS NULL
          AND b.state IN :unfinished AND b.not_before > :now AND {_NO_LIVE_JOB}
        ORDER BY b.not_before, b.id
        LIMIT 1
        FOR UPDATE OF b SKIP LOCKED)
    RETURNING id, run_id, not_before
""")
# Jobs of one account that are running or due now (a job retried later does not hold a place).
_DUE_JOBS = text("""
    SELECT count(*) FROM procrastinate_jobs
    WHERE task_name = :task AND lock = :lock AND id <> :exclude
      AND (status = 'doing' OR (status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())))
""")
_CARRIER_HAS_JOBS = text("""
    SELECT EXISTS (
        SELECT 1 FROM procrastinate_jobs j JOIN batch_items b ON b.id = j.args->>'item_id'
        WHERE j.task_name = :task AND j.status IN ('todo', 'doing') AND b.batch_date = :day AND b.carrier = :carrier)
""")
# Unfinished items of runs younger than the batch deadline with no job waiting or running, and none that
# failed for this run (a job that failed after its unexpected-error retries waits for the next enqueue).
_STRANDED = text(f"""
    SELECT b.id, b.batch_date, b.carrier, b.account_label, b.run_id, b.not_before, b.updated_at
    FROM batch_items b JOIN batch_runs r ON r.id = b.run_id
    WHERE b.state IN :unfinished AND r.started_at > :since AND {_NO_LIVE_JOB}
      AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs f WHERE f.queueing_lock = :prefix || b.id
                      AND f.status = 'failed' AND f.args->>'run_id' = b.run_id)
""")
_RELEASE = text(f"""
    UPDATE batch_items b SET account_label = NULL, run_id = :run_id, updated_at = :now
    WHERE b.batch_date = :day AND b.state IN :unfinished AND {_NO_LIVE_JOB}
""")
_UNASSIGNED = text(f"""
    SELECT b.id FROM batch_items b
    WHERE b.batch_date = :day AND b.carrier = :carrier AND b.account_label IS NULL AND b.state IN :unfinished
      AND {_NO_LIVE_JOB}
""")


def _params(**values: Any) -> dict[str, Any]:
    return {"prefix": ITEM_QUEUEING_LOCK_PREFIX, "unfinished": UNFINISHED, **values}


def _bind(statement: Any) -> Any:
    """`IN :unfinished` takes a tuple: an expanding bind parameter."""
    return statement.bindparams(bindparam("unfinished", expanding=True))


@dataclass(frozen=True)
class Claim:
    """An item just claimed by an account: what its job needs."""

    item_id: str
    run_id: str
    not_before: datetime | None


def claim_next(repository: Repository, day: date, carrier: str, label: str, *, later: bool = False) -> Claim | None:
    """Claim the next unassigned item of `carrier` on `day` that is due now for account `label` (`later`: one
    due later, the earliest first), atomically: a row another claimer has locked is skipped, never shared."""
    if later:
        statement, extra = _bind(_CLAIM_LATER), {}
    else:
        statement, extra = _bind(_CLAIM), {"authorizations": _asks_authorizations(carrier)}
    with repository.engine.begin() as connection:
        row = connection.execute(statement, _params(label=label, now=utcnow(), day=day, carrier=carrier,
                                                    **extra)).first()
    if row is None:
        return None
    return Claim(row.id, row.run_id, store.aware(row.not_before))


def _asks_authorizations(carrier: str) -> bool:
    """Whether a visit naming procedures costs this carrier's portal an authorization search too (as inline: only
    where its manifest declares authorizations). An unknown carrier counts it: the order is all it changes."""
    try:
        manifest = adapter_for(portal_of(carrier)).manifest
    except ConfigurationError:
        return True
    return capabilities.declares(manifest, Capability.AUTHORIZATION)


async def defer_claimed(app: procrastinate.App, claim: Claim, carrier: str, label: str) -> bool:
    """Defer a claimed item's job under the account's lock and the item's queueing lock; False when the item
    has a waiting job already. An item due later starts then, behind its account's fresh jobs."""
    later = claim.not_before is not None and claim.not_before > utcnow()
    try:
        await app.configure_task(
            CHECK_ITEM_TASK, lock=account_lock(portal_of(carrier), label), queueing_lock=item_queueing_lock(claim.item_id),
            schedule_at=claim.not_before if later else None, priority=-RETRY_PRIORITY_STEP if later else 0,
        ).defer_async(item_id=claim.item_id, run_id=claim.run_id)
    except procrastinate_errors.AlreadyEnqueued:
        return False
    return True


def due_jobs(repository: Repository, carrier: str, label: str, *, exclude_job: int = -1) -> int:
    """How many of the account's check jobs run or are due now (`exclude_job`: the one asking)."""
    with repository.engine.connect() as connection:
        count = connection.execute(_DUE_JOBS, {"task": CHECK_ITEM_TASK, "lock": account_lock(portal_of(carrier), label),
                                               "exclude": exclude_job}).scalar_one()
    return int(count)


async def pass_on(app: procrastinate.App, repository: Repository, vault: Vault, day: date, carrier: str, label: str,
                  *, budget: int, job_id: int) -> int:
    """A job of account `label` ends (job `job_id`): the account claims and defers up to `budget` due jobs
    again; an account that left the run (frozen, gone) claims nothing and its carrier is topped up instead
    (its other accounts, or the items finished when none is left). Returns how many jobs were deferred."""
    account = vault.find(portal_of(carrier), label)
    if account is None or account.is_frozen:
        return sum((await top_up(app, repository, vault, day, carrier, budget=budget)).values())
    deferred = 0
    for _ in range(budget - due_jobs(repository, carrier, label, exclude_job=job_id)):
        claim = claim_next(repository, day, carrier, label)
        if claim is None:
            break
        deferred += await defer_claimed(app, claim, carrier, label)
    return deferred


async def top_up(app: procrastinate.App, repository: Repository, vault: Vault, day: date, carrier: str, *,
                 budget: int, accounts: list[PortalAccount] | None = None) -> Counter[str]:
    """Give each usable account of `carrier` up to `budget` due jobs from the day's unassigned items, one per
    account per round (so a short day spreads over every account), and defer the items due later at once
    (round-robin; they start when due, behind the fresh jobs). With no usable account left the unassigned
    items are finished as needing a person, as the inline batch does. Returns jobs deferred per account."""
    deferred: Counter[str] = Counter()
    if accounts is None:
        accounts, unusable = accounts_for_run(vault, carrier)
        if unusable is not None:
            for item_id in unassigned_items(repository, day, carrier):
                finish_item(repository, item_id, unusable)
            return deferred
    room = {a.label: budget - due_jobs(repository, carrier, a.label) for a in accounts}
    while any(n > 0 for n in room.values()):
        for account in accounts:
            if room[account.label] <= 0:
                continue
            claim = claim_next(repository, day, carrier, account.label)
            if claim is None:
                room = {}
                break
            room[account.label] -= 1
            deferred[account.label] += await defer_claimed(app, claim, carrier, account.label)
    turn = 0
    while accounts:
        account = accounts[turn % len(accounts)]
        claim = claim_next(repository, day, carrier, account.label, later=True)
        if claim is None:
            break
        deferred[account.label] += await defer_claimed(app, claim, carrier, account.label)
        turn += 1
    return deferred


def unassigned_items(repository: Repository, day: date, carrier: str) -> list[str]:
    with repository.engine.connect() as connection:
        rows = connection.execute(_bind(_UNASSIGNED), _params(day=day, carrier=carrier)).all()
    return [row.id for row in rows]


def release_unqueued(repository: Repository, day: date, run_id: str) -> int:
    """Every unfinished item of `day` with no job waiting or running goes back to the unassigned pool, in
    run `run_id` (the enqueue's first step: a claim whose job was never deferred is given out again)."""
    with repository.engine.begin() as connection:
        result = connection.execute(_bind(_RELEASE), _params(day=day, run_id=run_id, now=utcnow()))
    return int(result.rowcount or 0)


def carrier_has_jobs(repository: Repository, day: date, carrier: str) -> bool:
    """Some check job of the carrier's items of `day` is waiting or running (its accounts are claiming)."""
    with repository.engine.connect() as connection:
        return bool(connection.execute(_CARRIER_HAS_JOBS, {"task": CHECK_ITEM_TASK, "day": day,
                                                           "carrier": carrier}).scalar_one())


async def resume_stranded(app: procrastinate.App, repository: Repository, vault: Vault, *, budget: int,
                          claim_grace_seconds: float, deadline_seconds: float) -> int:
    """The sweep (see the module doc): claimed items without a job, their claim older than
    `claim_grace_seconds`, are deferred again on their account (or released when it left the run); carriers
    with unassigned items and no job left are topped up. Only runs started within `deadline_seconds` count.
    Returns how many jobs it deferred."""
    now = utcnow()
    with repository.engine.connect() as connection:
        rows = connection.execute(_bind(_STRANDED), _params(since=now - timedelta(seconds=deadline_seconds))).all()
    deferred = 0
    idle: set[tuple[date, str]] = set()
    settled = now - timedelta(seconds=claim_grace_seconds)
    for row in rows:
        if row.account_label is None:
            idle.add((row.batch_date, row.carrier))
            continue
        claimed_at = store.aware(row.updated_at)
        if claimed_at is not None and claimed_at > settled:
            continue  # its claimer may be deferring it right now
        account = vault.find(portal_of(row.carrier), row.account_label)
        if account is None or account.is_frozen:
            store.update_item(repository, row.id, account_label=None)
            idle.add((row.batch_date, row.carrier))
            continue
        if await defer_claimed(app, Claim(row.id, row.run_id, store.aware(row.not_before)), row.carrier,
                               row.account_label):
            deferred += 1
            log.warning("stranded_item_deferred", item=row.id, carrier=row.carrier, account=row.account_label)
    for day, carrier in sorted(idle):
        if not carrier_has_jobs(repository, day, carrier):
            count = sum((await top_up(app, repository, vault, day, carrier, budget=budget)).values())
            if count:
                log.warning("idle_carrier_topped_up", carrier=carrier, batch_date=day.isoformat(), jobs=count)
            deferred += count
    return deferred
