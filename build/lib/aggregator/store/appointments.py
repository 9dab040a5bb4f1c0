"""Reads and writes of the `appointments` table (the day's list the batch verifies).

`starts_at` is the practice's wall time. The column is `timestamptz` on PostgreSQL, so the wall time is
written labelled as UTC and read back through `wall_time`: the same naive value on SQLite and on
PostgreSQL, whatever the server's TimeZone setting. Use the functions here (or `wall_time`) rather than
reading `AppointmentRow.starts_at` raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from itertools import islice
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import col

from aggregator.store.repository import Repository, utcnow
from aggregator.store.tables import AppointmentRow

if TYPE_CHECKING:
    from aggregator.overnight.appointments import Appointment

CHUNK_SIZE = 500
_TABLE = AppointmentRow.__table__  # type: ignore[attr-defined]
_FIELDS = ("starts_at", "service_date", "patient_last_name", "patient_first_name", "patient_dob", "carrier",
           "member_id", "provider_npi", "procedure_codes", "service_type", "source", "fingerprint", "updated_at")


def wall_time(value: datetime) -> datetime:
    """The naive practice-local wall time of a stored `starts_at` (aware on PostgreSQL, naive on SQLite)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _columns(appointment: Appointment, *, source: str, now: datetime) -> dict[str, object]:
    return {
        "starts_at": appointment.starts_at.replace(tzinfo=UTC), "service_date": appointment.service_date,
        "patient_last_name": appointment.patient_last_name, "patient_first_name": appointment.patient_first_name,
        "patient_dob": appointment.patient_dob, "carrier": appointment.carrier, "member_id": appointment.member_id,
        "provider_npi": appointment.provider_npi,
        "procedure_codes": ";".join(appointment.procedure_codes) or None,
        "service_type": appointment.service_type.value if appointment.service_type else None,
        "source": source[-300:], "fingerprint": appointment.fingerprint, "updated_at": now,
    }


def _chunks(items: Iterable[Appointment], size: int) -> Iterator[list[Appointment]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def upsert_appointments(repository: Repository, appointments: Iterable[Appointment], *, source: str,
                        chunk_size: int = CHUNK_SIZE) -> tuple[int, int, int]:
    """Insert new ids, update ids whose fingerprint changed, skip the rest: (added, updated, unchanged).

    Consumes `appointments` lazily, `chunk_size` at a time, in ONE transaction: an exception raised by
    the iterable (a file-level error half-way through a file) leaves the table as it was. Ids must be
    distinct (the readers report repeats as problems).
    """
    added = updated = unchanged = 0
    now = utcnow()
    update_statement = (update(_TABLE).where(_TABLE.c.id == bindparam("b_id"))
                        .values({name: bindparam(f"b_{name}") for name in _FIELDS}))
    with repository.session() as session:
        for chunk in _chunks(appointments, chunk_size):
            ids = [a.id for a in chunk]
            if len(set(ids)) != len(ids):
                raise ValueError("duplicate appointment ids in one upsert")
            known = dict(session.execute(select(_TABLE.c.id, _TABLE.c.fingerprint).where(_TABLE.c.id.in_(ids))).all())
            inserts: list[dict[str, object]] = []
            changes: list[dict[str, object]] = []
            for appointment in chunk:
                fingerprint = known.get(appointment.id)
                if fingerprint == appointment.fingerprint:
                    unchanged += 1
                    continue
                columns = _columns(appointment, source=source, now=now)
                if fingerprint is None:
                    inserts.append({"id": appointment.id, "imported_at": now, **columns})
                else:
                    changes.append({"b_id": appointment.id, **{f"b_{k}": v for k, v in columns.items()}})
            if inserts:
                session.execute(insert(_TABLE), inserts)
            if changes:
                session.execute(update_statement, changes)
            added += len(inserts)
            updated += len(changes)
        session.commit()
    return added, updated, unchanged


def _naive(row: AppointmentRow) -> AppointmentRow:
    row.starts_at = wall_time(row.starts_at)
    return row


def appointments_on(repository: Repository, day: date) -> list[AppointmentRow]:
    """The appointments of one service date, by start time (then id)."""
    with repository.session() as session:
        rows = session.scalars(select(AppointmentRow).where(AppointmentRow.service_date == day)
                            .order_by(col(AppointmentRow.starts_at), col(AppointmentRow.id))).all()
        session.expunge_all()  # detached: normalizing starts_at below must not be written back
    return [_naive(row) for row in rows]


def get_appointment(repository: Repository, appointment_id: str) -> AppointmentRow | None:
    with repository.session() as session:
        row = session.get(AppointmentRow, appointment_id)
        if row is None:
            return None
        session.expunge(row)
    return _naive(row)
