"""Reads and writes for the overnight batch: runs, and one item per appointment and batch date.

Every change of an item is its own short transaction, so a crash loses at most the item in flight:
finished items stay finished, and an item left "running" by a dead process is simply run again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from aggregator.store.appointments import appointments_on, get_appointment  # noqa: F401 - the batch's reads
from aggregator.store.repository import Repository, new_id, utcnow
from aggregator.store.tables import AppointmentRow, BatchItemRow, BatchRunRow

# Mirrors aggregator.overnight.batch.ItemState (kept as strings here so the store knows nothing of the batch).
PENDING, RUNNING, DEFERRED, FAILED = "pending", "running", "deferred", "failed"
NEEDS_HUMAN = "needs_human"
UNFINISHED = (PENDING, RUNNING, DEFERRED)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for what was stored as UTC; PostgreSQL returns aware ones."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def start_run(repository: Repository, day: date, trigger: str) -> BatchRunRow:
    row = BatchRunRow(id=new_id(), batch_date=day, trigger=trigger, started_at=utcnow())
    with repository.session() as session:
        session.add(row)
        session.commit()
    return row


def finish_run(repository: Repository, run_id: str, summary: dict[str, Any]) -> None:
    with repository.session() as session:
        row = session.get(BatchRunRow, run_id)
        if row is not None:
            row.finished_at = utcnow()
            row.summary = json.dumps(summary, sort_keys=True)
            session.add(row)
            session.commit()


def runs_on(repository: Repository, day: date) -> list[BatchRunRow]:
    with repository.session() as session:
        return list(session.exec(select(BatchRunRow).where(BatchRunRow.batch_date == day)
                                 .order_by(col(BatchRunRow.started_at))).all())


def ensure_items(repository: Repository, day: date) -> int:
    """One pending item for every appointment of `day` that has none yet. Returns how many were added.

    An appointment whose carrier changed since its item finished is not re-queued: the item keeps
    what was checked; a rerun of that item picks up the new details.
    """
    now = utcnow()
    with repository.session() as session:
        have = set(session.exec(select(BatchItemRow.appointment_id).where(BatchItemRow.batch_date == day)).all())
        appointments = session.exec(select(AppointmentRow).where(AppointmentRow.service_date == day)).all()
        added = 0
        for appointment in appointments:
            if appointment.id in have:
                continue
            session.add(BatchItemRow(id=new_id(), batch_date=day, appointment_id=appointment.id,
                                     carrier=appointment.carrier, state=PENDING, updated_at=now))
            added += 1
        session.commit()
    return added


def clear_day(repository: Repository, day: date) -> int:
    """Forget a date's batch items and runs (the demo starts its day over); lookups, records and
    evidence stay. Returns how many items were removed."""
    with repository.session() as session:
        items = session.exec(select(BatchItemRow).where(BatchItemRow.batch_date == day)).all()
        for item in items:
            session.delete(item)
        for run in session.exec(select(BatchRunRow).where(BatchRunRow.batch_date == day)).all():
            session.delete(run)
        session.commit()
        return len(items)


def items_on(repository: Repository, day: date, states: Iterable[str] | None = None) -> list[BatchItemRow]:
    statement = select(BatchItemRow).where(BatchItemRow.batch_date == day)
    if states is not None:
        statement = statement.where(col(BatchItemRow.state).in_(list(states)))
    with repository.session() as session:
        rows = list(session.exec(statement.order_by(col(BatchItemRow.id))).all())
    for row in rows:
        row.not_before = aware(row.not_before)
    return rows


def get_item(repository: Repository, item_id: str) -> BatchItemRow | None:
    with repository.session() as session:
        row = session.get(BatchItemRow, item_id)
    if row is not None:
        row.not_before = aware(row.not_before)
    return row


def recover_abandoned(repository: Repository, day: date) -> int:
    """Items a killed process left "running" go back to pending. Only one run per date at a time
    (the batch holds a lock), so a running item found at start belongs to a dead process."""
    with repository.session() as session:
        result = session.exec(update(BatchItemRow)
                              .where(col(BatchItemRow.batch_date) == day, col(BatchItemRow.state) == RUNNING)
                              .values(state=PENDING, updated_at=utcnow()))
        session.commit()
        return int(result.rowcount or 0)


def requeue_retryable_failures(repository: Repository, day: date, *, also_codes: Iterable[str] = ()) -> int:
    """The retry pass: items that failed for a reason retrying can fix go back to pending, and so do those
    that needed a person for one of `also_codes` (a sign-in a person may have done since)."""
    retryable = and_(col(BatchItemRow.state) == FAILED, col(BatchItemRow.retryable).is_(True))
    codes = list(also_codes)
    if codes:
        retryable = or_(retryable, and_(col(BatchItemRow.state) == NEEDS_HUMAN,
                                        col(BatchItemRow.reason_code).in_(codes)))
    with repository.session() as session:
        result = session.exec(update(BatchItemRow)
                              .where(col(BatchItemRow.batch_date) == day, retryable)
                              .values(state=PENDING, attempts=0, not_before=None, updated_at=utcnow()))
        session.commit()
        return int(result.rowcount or 0)


def items_needing_sign_in(repository: Repository, codes: Iterable[str], since: date) -> list[BatchItemRow]:
    """Items from `since` on that ended needing a person to sign in (one of `codes`)."""
    with repository.session() as session:
        return list(session.exec(select(BatchItemRow).where(
            col(BatchItemRow.batch_date) >= since, col(BatchItemRow.state) == NEEDS_HUMAN,
            col(BatchItemRow.reason_code).in_(list(codes)))))


def update_item(repository: Repository, item_id: str, *, attempts_delta: int = 0,
                also: Callable[[Session, BatchItemRow], None] | None = None, **fields: Any) -> BatchItemRow:
    """Set fields on one item (and count an attempt, or take one back) in its own transaction, the
    unit of crash safety; `also` adds rows that must commit with it (the item's webhook event)."""
    with repository.session() as session:
        row = session.get(BatchItemRow, item_id)
        if row is None:
            raise KeyError(f"no batch item {item_id}")
        for name, value in fields.items():
            setattr(row, name, value)
        row.attempts += attempts_delta
        row.updated_at = utcnow()
        session.add(row)
        if also is not None:
            also(session, row)
        session.commit()  # the row keeps what was just written (expire_on_commit=False): no re-read
    row.not_before = aware(row.not_before)
    return row
