"""The per-carrier circuit breaker in the database, so every worker of a scale-out run shares it.

Same rule as the in-process `CircuitBreaker` (aggregator/overnight/batch.py): after `threshold`
consecutive "portal down" answers nobody asks that portal for a cool-down; then one probe (half-open)
decides; each re-opening doubles the cool-down up to a maximum. Each transition is one transaction that
locks the carrier's row (SELECT ... FOR UPDATE on PostgreSQL), so two workers never both take the probe.
The probe is a lease (`probe_until`): a worker that dies while probing frees it when the lease ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from aggregator.store.batches import aware
from aggregator.store.repository import Repository, utcnow
from aggregator.store.tables import CarrierBreakerRow

# One transition of a carrier's row (locked) at `now`; returns what the caller learns (seconds).
Change = Callable[[CarrierBreakerRow, datetime], float]


@dataclass(frozen=True)
class BreakerRule:
    threshold: int  # consecutive "portal down" answers that open the circuit
    cooldown_seconds: float
    max_cooldown_seconds: float
    probe_lease_seconds: float = 120.0  # longer than one check takes


def _locked_row(session: Session, carrier: str) -> CarrierBreakerRow:
    row = session.exec(select(CarrierBreakerRow).where(CarrierBreakerRow.carrier == carrier).with_for_update()).first()
    if row is None:
        row = CarrierBreakerRow(carrier=carrier, updated_at=utcnow())
    row.open_until, row.probe_until = aware(row.open_until), aware(row.probe_until)
    return row


def _commit(session: Session, row: CarrierBreakerRow) -> None:
    row.updated_at = utcnow()
    session.add(row)
    session.commit()


def _transaction(repository: Repository, carrier: str, change: Change) -> float:
    for _ in range(3):  # two workers creating the carrier's first row at once: the loser reads it again
        try:
            with repository.session() as session:
                row = _locked_row(session, carrier)
                result = change(row, utcnow())
                _commit(session, row)
                return result
        except IntegrityError:
            continue
    raise RuntimeError(f"could not update the circuit breaker of {carrier}")


def wait_seconds(repository: Repository, carrier: str, rule: BreakerRule) -> float:
    """0 when a request to the carrier may go out now (claiming the probe when half-open), else how long
    to wait before asking again."""

    def claim(row: CarrierBreakerRow, now: datetime) -> float:
        if row.failures < rule.threshold:
            return 0.0
        if row.open_until is not None and row.open_until > now:
            return (row.open_until - now).total_seconds()
        if row.probe_until is not None and row.probe_until > now:  # another worker is probing
            return min(1.0, rule.cooldown_seconds)
        row.probe_until = now + timedelta(seconds=rule.probe_lease_seconds)
        return 0.0

    return _transaction(repository, carrier, claim)


def record_success(repository: Repository, carrier: str) -> None:
    """The portal answered: the circuit closes."""

    def close(row: CarrierBreakerRow, now: datetime) -> float:
        row.failures, row.openings, row.open_until, row.probe_until = 0, 0, None, None
        return 0.0

    _transaction(repository, carrier, close)


def record_failure(repository: Repository, carrier: str, rule: BreakerRule) -> float:
    """The portal said it is down: count it; returns the cool-down when this opened the circuit, else 0."""

    def count(row: CarrierBreakerRow, now: datetime) -> float:
        row.failures += 1
        row.probe_until = None
        if row.failures < rule.threshold:
            return 0.0
        row.openings += 1
        cooldown = min(rule.max_cooldown_seconds, rule.cooldown_seconds * 2 ** (row.openings - 1))
        row.open_until = now + timedelta(seconds=cooldown)
        return cooldown

    return _transaction(repository, carrier, count)


def state(repository: Repository, carrier: str, rule: BreakerRule) -> str:
    """closed, open or half_open (what /metrics and the progress display show)."""
    with repository.session() as session:
        row = session.get(CarrierBreakerRow, carrier)
    if row is None or row.failures < rule.threshold:
        return "closed"
    open_until = aware(row.open_until)
    return "open" if open_until is not None and open_until > utcnow() else "half_open"


def reset(repository: Repository, carrier: str | None = None) -> None:
    """Forget the breaker of one carrier (or all): a person says the portal is back."""
    with repository.session() as session:
        rows = session.exec(select(CarrierBreakerRow) if carrier is None
                            else select(CarrierBreakerRow).where(CarrierBreakerRow.carrier == carrier)).all()
        for row in rows:
            session.delete(row)
        session.commit()
