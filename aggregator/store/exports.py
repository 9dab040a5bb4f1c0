"""The reads the day's export (aggregator/exports/day.py) needs beyond the batch's: on-demand lookups by when
they were asked. Read-only; the runner writes lookups."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, select

from aggregator.store.repository import Repository
from aggregator.store.tables import LookupRow

BATCH_SOURCE = "batch"  # the source the overnight batch gives its lookups (aggregator/overnight/batch.py)


def on_demand_lookups(repository: Repository, start: datetime, end: datetime) -> list[LookupRow]:
    """Finished lookups not made by the batch (CLI, web, API) requested in [start, end), oldest first.

    `start`/`end` are timezone-aware; the batch's own lookups are reached through its items instead (a retried
    item leaves superseded lookups behind, which must not be exported)."""
    # In UTC: SQLite compares the stored UTC wall times as text, whatever zone the bounds carry.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    with repository.session() as s:
        return list(s.exec(select(LookupRow)
                           .where(col(LookupRow.source) != BATCH_SOURCE, col(LookupRow.outcome).is_not(None),
                                  col(LookupRow.requested_at) >= start, col(LookupRow.requested_at) < end)
                           .order_by(col(LookupRow.requested_at), col(LookupRow.id))))
