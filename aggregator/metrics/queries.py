"""The aggregate queries behind the database-derived metrics: every one groups in the database and returns
a few rows per carrier, never one row per lookup or item, so a scrape costs the same on a year of data
as on a day (the histogram's is bounded by its time window, on the indexed `requested_at`).

SQLite and PostgreSQL, the two backends the product supports, differ only in how a duration is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Executable, and_, case, extract, func, literal, select
from sqlmodel import col

from aggregator.store.repository import Repository
from aggregator.store.tables import AppointmentRow, BatchItemRow, BatchRunRow, LookupRow

NOT_CHECKED = "not_checked"  # the worklist's state for an appointment the batch has no item for yet


@dataclass(frozen=True)
class LookupCount:
    carrier: str
    flow: str
    source: str
    outcome: str | None  # None: still running
    count: int


@dataclass(frozen=True)
class DurationBuckets:
    """One carrier and flow's finished lookups in the window: cumulative counts per upper bound."""

    carrier: str
    flow: str
    cumulative: tuple[int, ...]  # one per bucket bound, in order
    count: int
    total_seconds: float


@dataclass(frozen=True)
class ItemCount:
    batch_date: date
    carrier: str
    state: str
    count: int
    attempts: int
    retries: int  # attempts beyond each item's first


def lookup_counts(repository: Repository) -> list[LookupCount]:
    statement = (select(col(LookupRow.carrier), col(LookupRow.flow), col(LookupRow.source), col(LookupRow.outcome),
                        func.count())
                 .group_by(col(LookupRow.carrier), col(LookupRow.flow), col(LookupRow.source), col(LookupRow.outcome)))
    return [LookupCount(carrier, flow, source, outcome, int(count))
            for carrier, flow, source, outcome, count in _rows(repository, statement)]


def duration_buckets(repository: Repository, bounds: Sequence[float], since: datetime) -> list[DurationBuckets]:
    """Lookups asked since `since` that have finished: how long each took (requested to finished),
    counted per bucket in the database."""
    seconds = _seconds_between(repository, col(LookupRow.requested_at), col(LookupRow.finished_at))
    per_bound = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in bounds]
    statement = (select(col(LookupRow.carrier), col(LookupRow.flow), func.count(), func.sum(seconds), *per_bound)
                 .where(col(LookupRow.requested_at) >= since, col(LookupRow.finished_at).is_not(None))
                 .group_by(col(LookupRow.carrier), col(LookupRow.flow)))
    return [DurationBuckets(carrier=row[0], flow=row[1], count=int(row[2]), total_seconds=max(0.0, float(row[3] or 0)),
                            cumulative=tuple(int(n or 0) for n in row[4:]))
            for row in _rows(repository, statement)]


def _seconds_between(repository: Repository, start: Any, end: Any) -> ColumnElement[Any]:
    if repository.engine.dialect.name == "sqlite":
        # SQLite keeps datetimes as ISO text; julianday reads it (to about 50 microseconds at today's dates).
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return extract("epoch", end - start)


def recent_batch_dates(repository: Repository, how_many: int) -> list[date]:
    """The batch dates of the most recently started runs (the nightly run's day, the retry pass's): the
    days whose worklist an operator watches. By start time, not by date, so a demo of a far-off date does
    not stay in the metrics for good."""
    latest = func.max(col(BatchRunRow.started_at))
    statement = (select(col(BatchRunRow.batch_date), latest).group_by(col(BatchRunRow.batch_date))
                 .order_by(latest.desc()).limit(how_many))
    return [row[0] for row in _rows(repository, statement)]


def item_counts(repository: Repository, days: Sequence[date]) -> list[ItemCount]:
    """Per date, carrier and state, as the worklist counts them: the batch items, and the date's
    appointments that have none ("not_checked"). An item's carrier is its appointment's (the worklist
    shows the appointment's; they differ only while a changed appointment waits for a rerun)."""
    if not days:
        return []
    retries = case((col(BatchItemRow.attempts) > 1, col(BatchItemRow.attempts) - 1), else_=0)
    checked = (select(col(BatchItemRow.batch_date), col(AppointmentRow.carrier), col(BatchItemRow.state),
                      func.count(), func.sum(col(BatchItemRow.attempts)), func.sum(retries))
               .join(AppointmentRow, col(AppointmentRow.id) == col(BatchItemRow.appointment_id))
               .where(col(BatchItemRow.batch_date).in_(list(days)),
                      col(AppointmentRow.service_date) == col(BatchItemRow.batch_date))
               .group_by(col(BatchItemRow.batch_date), col(AppointmentRow.carrier), col(BatchItemRow.state)))
    unchecked = (select(col(AppointmentRow.service_date), col(AppointmentRow.carrier), literal(NOT_CHECKED),
                        func.count(), literal(0), literal(0))
                 .outerjoin(BatchItemRow, and_(col(BatchItemRow.appointment_id) == col(AppointmentRow.id),
                                               col(BatchItemRow.batch_date) == col(AppointmentRow.service_date)))
                 .where(col(AppointmentRow.service_date).in_(list(days)), col(BatchItemRow.id).is_(None))
                 .group_by(col(AppointmentRow.service_date), col(AppointmentRow.carrier)))
    rows = [*_rows(repository, checked), *_rows(repository, unchecked)]
    return [ItemCount(batch_date=row[0], carrier=row[1], state=row[2], count=int(row[3]), attempts=int(row[4] or 0),
                      retries=int(row[5] or 0)) for row in rows]


def last_run_finished(repository: Repository) -> datetime | None:
    rows = _rows(repository, select(func.max(col(BatchRunRow.finished_at))))
    finished: datetime | None = rows[0][0] if rows else None
    return finished


def _rows(repository: Repository, statement: Executable) -> list[tuple[Any, ...]]:
    with repository.session() as session:
        return [tuple(row) for row in session.connection().execute(statement).all()]
