"""The outbox in the database: deliveries due, taking one (a lease), recording an attempt, the delivery log.

A delivery is `pending` until a receiver answers 2xx (`delivered`) or its attempts run out (`failed`);
removing its endpoint `cancelled` it. Everything is in the database, so a stopped process loses nothing:
the next `aggregator serve` or `aggregator run` sends what is still pending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select

from aggregator.store.batches import aware
from aggregator.store.repository import Repository, new_id, utcnow
from aggregator.store.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow, WebhookEventRow

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"

# Running deliverers of this process: `wake_deliverers` tells them a new event is waiting, so it goes out
# at once instead of at the next poll (another process's events are found by polling).
_wakers: set[Callable[[], None]] = set()


def add_waker(waker: Callable[[], None]) -> None:
    _wakers.add(waker)


def discard_waker(waker: Callable[[], None]) -> None:
    _wakers.discard(waker)


def wake_deliverers() -> None:
    for waker in list(_wakers):
        waker()


def event_waker(event: asyncio.Event, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """A waker that sets `event` in its loop, from any thread (the web app's lookups, the batch)."""
    def wake() -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(event.set)
    return wake


@dataclass(frozen=True)
class Due:
    delivery: WebhookDeliveryRow
    endpoint: WebhookEndpointRow
    event_type: str


def due(repository: Repository, *, now: datetime, limit: int = 50) -> list[Due]:
    """Pending deliveries whose time has come, oldest first, with their endpoint and event type."""
    with repository.session() as session:
        rows = session.exec(
            select(WebhookDeliveryRow, WebhookEndpointRow, WebhookEventRow.event_type)
            .join(WebhookEndpointRow, col(WebhookEndpointRow.id) == col(WebhookDeliveryRow.endpoint_id))
            .join(WebhookEventRow, col(WebhookEventRow.id) == col(WebhookDeliveryRow.event_id))
            .where(col(WebhookDeliveryRow.status) == PENDING, col(WebhookDeliveryRow.next_attempt_at) <= now)
            .order_by(col(WebhookDeliveryRow.next_attempt_at)).limit(limit)).all()
    return [Due(delivery, endpoint, event_type) for delivery, endpoint, event_type in rows]


def take(repository: Repository, delivery: WebhookDeliveryRow, *, lease_until: datetime) -> bool:
    """Take the delivery for one attempt: only one deliverer (of any process) wins it. Its next attempt
    moves to `lease_until`, so if this process dies mid-attempt another tries again after the lease."""
    with repository.session() as session:
        result = session.exec(
            update(WebhookDeliveryRow)
            .where(col(WebhookDeliveryRow.id) == delivery.id, col(WebhookDeliveryRow.status) == PENDING,
                   col(WebhookDeliveryRow.attempts) == delivery.attempts,
                   col(WebhookDeliveryRow.next_attempt_at) == delivery.next_attempt_at)
            .values(next_attempt_at=lease_until))
        session.commit()
    return result.rowcount == 1


def record_attempt(repository: Repository, delivery_id: str, *, status_code: int | None, error_class: str | None,
                   duration_ms: int, delivered: bool, retry_at: datetime | None) -> WebhookDeliveryRow:
    """Log one attempt and move the delivery on: delivered, pending until `retry_at`, or (no `retry_at`) failed."""
    now = utcnow()
    with repository.session() as session:
        delivery = session.get(WebhookDeliveryRow, delivery_id)
        if delivery is None:
            raise KeyError(f"no webhook delivery {delivery_id}")
        delivery.attempts += 1
        session.add(WebhookAttemptRow(id=new_id(), delivery_id=delivery_id, attempt=delivery.attempts, at=now,
                                      status_code=status_code, error_class=error_class, duration_ms=duration_ms))
        if delivery.status == PENDING:  # not cancelled meanwhile (its endpoint removed)
            if delivered:
                delivery.status, delivery.finished_at = DELIVERED, now
            elif retry_at is None:
                delivery.status, delivery.finished_at = FAILED, now
            else:
                delivery.next_attempt_at = retry_at
        session.add(delivery)
        session.commit()
        session.refresh(delivery)
    return delivery


def pending_count(repository: Repository) -> int:
    with repository.session() as session:
        return int(session.exec(select(func.count()).select_from(WebhookDeliveryRow)
                                .where(col(WebhookDeliveryRow.status) == PENDING)).one())


def next_due_at(repository: Repository) -> datetime | None:
    """When the earliest pending delivery may be tried (None: nothing pending)."""
    with repository.session() as session:
        value = session.exec(select(func.min(WebhookDeliveryRow.next_attempt_at))
                             .where(col(WebhookDeliveryRow.status) == PENDING)).one()
    return aware(value)


def deliveries(repository: Repository, *, event_id: str | None = None, endpoint_id: str | None = None,
               limit: int = 1000) -> list[WebhookDeliveryRow]:
    statement = select(WebhookDeliveryRow)
    if event_id is not None:
        statement = statement.where(col(WebhookDeliveryRow.event_id) == event_id)
    if endpoint_id is not None:
        statement = statement.where(col(WebhookDeliveryRow.endpoint_id) == endpoint_id)
    with repository.session() as session:
        return list(session.exec(statement.order_by(col(WebhookDeliveryRow.created_at)).limit(limit)))


@dataclass(frozen=True)
class LogEntry:
    """One line of the delivery log (admin page): which event to which endpoint, and how the attempt went."""

    at: datetime
    endpoint_id: str
    endpoint_url: str
    event_id: str
    event_type: str
    attempt: int
    status_code: int | None
    error_class: str | None
    duration_ms: int
    delivery_status: str


def delivery_log(repository: Repository, *, limit: int = 100) -> list[LogEntry]:
    with repository.session() as session:
        rows = session.exec(
            select(WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow.url, WebhookEventRow.event_type)
            .join(WebhookDeliveryRow, col(WebhookDeliveryRow.id) == col(WebhookAttemptRow.delivery_id))
            .join(WebhookEndpointRow, col(WebhookEndpointRow.id) == col(WebhookDeliveryRow.endpoint_id))
            .join(WebhookEventRow, col(WebhookEventRow.id) == col(WebhookDeliveryRow.event_id))
            .order_by(col(WebhookAttemptRow.at).desc()).limit(limit)).all()
    return [LogEntry(at=aware(a.at) or a.at, endpoint_id=d.endpoint_id, endpoint_url=url, event_id=d.event_id,
                     event_type=event_type, attempt=a.attempt, status_code=a.status_code, error_class=a.error_class,
                     duration_ms=a.duration_ms, delivery_status=d.status) for a, d, url, event_type in rows]


def status_counts(repository: Repository) -> dict[str, dict[str, int]]:
    """Endpoint id -> delivery status -> how many."""
    with repository.session() as session:
        rows = session.exec(select(WebhookDeliveryRow.endpoint_id, WebhookDeliveryRow.status, func.count())
                            .group_by(col(WebhookDeliveryRow.endpoint_id), col(WebhookDeliveryRow.status))).all()
    counts: dict[str, dict[str, int]] = {}
    for endpoint_id, status, count in rows:
        counts.setdefault(endpoint_id, {})[status] = int(count)
    return counts


def lease_end(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
