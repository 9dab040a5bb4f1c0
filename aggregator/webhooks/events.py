"""Events into the outbox: one event row and, in the same transaction, one delivery per subscribed endpoint,
each with the body that endpoint's role may see.

What a payload holds (docs/webhooks.md, "Payloads"): ids, states, outcome codes and API paths, never a
member id, date of birth, name, or a free-text reason (a portal's sentence may quote any of them). The
subscriber reads more through the API with its own token, under its own role rules and the access log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from aggregator.logging import get_logger
from aggregator.store.repository import Repository, new_id, utcnow
from aggregator.store.tables import BatchItemRow, WebhookDeliveryRow, WebhookEndpointRow, WebhookEventRow
from aggregator.webhooks.endpoints import APPOINTMENT_CHECKED, LOOKUP_COMPLETED, subscribed
from aggregator.webhooks.outbox import PENDING, wake_deliverers

log = get_logger(__name__)

DESK_ROLES = frozenset({"staff", "admin"})  # may read the worklist and lookup jobs (aggregator/web/auth.py DESK)
NEEDS_PERSON = frozenset({"needs_human", "failed"})

Payload = dict[str, Any]


def body_of(event: WebhookEventRow, data: Payload) -> str:
    """The exact bytes sent (and signed): compact JSON with sorted keys."""
    envelope = {"id": event.id, "type": event.event_type, "created_at": event.created_at.isoformat(), "data": data}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"))


def emit(repository: Repository, event_type: str, subject_id: str, data_for_role: Callable[[str], Payload]) -> str | None:
    """Write the event and its deliveries; returns the event id, or None when no endpoint wants it (then
    nothing is written). Delivery happens later, in the background (deliverer.py)."""
    targets = subscribed(repository, event_type)
    if not targets:
        return None
    with repository.session() as session:
        event = stage(session, event_type, subject_id, data_for_role, targets)
        session.commit()
    announce(event, len(targets))
    return event.id


def stage(session: Session, event_type: str, subject_id: str, data_for_role: Callable[[str], Payload],
          targets: list[WebhookEndpointRow]) -> WebhookEventRow:
    """Add the event and one delivery per target to `session`, to be committed with whatever caused it."""
    event = WebhookEventRow(id=new_id(), event_type=event_type, subject_id=subject_id[:120], created_at=utcnow())
    bodies = {role: body_of(event, data_for_role(role)) for role in {t.role for t in targets}}
    session.add(event)
    session.flush()
    for endpoint in targets:
        session.add(WebhookDeliveryRow(id=new_id(), event_id=event.id, endpoint_id=endpoint.id,
                                       body=bodies[endpoint.role], status=PENDING, attempts=0,
                                       next_attempt_at=event.created_at, created_at=event.created_at))
    return event


def announce(event: WebhookEventRow, deliveries: int) -> None:
    """After the commit: log the event (ids only) and wake this process's deliverers."""
    log.info("webhook_event", event_id=event.id, event_type=event.event_type, deliveries=deliveries)
    wake_deliverers()


def emit_safely(repository: Repository, event_type: str, subject_id: str,
                data_for_role: Callable[[str], Payload]) -> str | None:
    """`emit` for the batch and the lookup jobs: a webhook problem (a database hiccup) is logged, never
    allowed to fail the appointment check or the lookup that caused it."""
    try:
        return emit(repository, event_type, subject_id, data_for_role)
    except Exception as error:  # noqa: BLE001 - see the docstring
        log.error("webhook_event_not_written", event_type=event_type, error=type(error).__name__)
        return None


# --- appointment.checked ---------------------------------------------------------------------------------

def appointment_checked(repository: Repository, item: BatchItemRow) -> str | None:
    """An appointment's batch item reached a terminal state (the event in its own transaction)."""
    return emit_safely(repository, APPOINTMENT_CHECKED, item.id, lambda role: appointment_checked_data(item, role))


class AppointmentChecked:
    """`appointment.checked`, written in the same transaction as the item's terminal state, so a crash
    between the two can lose neither (`store.batches.update_item(..., also=...)`). The endpoints are read
    before that transaction; a webhook problem is logged and never fails the item's write."""

    def __init__(self, repository: Repository) -> None:
        self.event: WebhookEventRow | None = None
        try:
            self.targets = subscribed(repository, APPOINTMENT_CHECKED)
        except Exception as error:  # noqa: BLE001 - see the docstring
            log.error("webhook_event_not_written", event_type=APPOINTMENT_CHECKED, error=type(error).__name__)
            self.targets = []

    def __call__(self, session: Session, item: BatchItemRow) -> None:
        if not self.targets:
            return
        try:  # `stage` builds every body before it adds a row: a failure there leaves the session as it was
            self.event = stage(session, APPOINTMENT_CHECKED, item.id, lambda role: appointment_checked_data(item, role),
                               self.targets)
        except Exception as error:  # noqa: BLE001 - see the docstring
            self.event = None
            log.error("webhook_event_not_written", event_type=APPOINTMENT_CHECKED, error=type(error).__name__)

    def committed(self) -> None:
        if self.event is not None:
            announce(self.event, len(self.targets))


def appointment_checked_data(item: BatchItemRow, role: str) -> Payload:
    lookups = {check: lookup_id for check, lookup_id in (("eligibility", item.eligibility_lookup_id),
                                                          ("authorizations", item.authorization_lookup_id)) if lookup_id}
    links = {f"{check}_lookup": f"/api/lookups/{lookup_id}" for check, lookup_id in lookups.items()}
    data: Payload = {"batch_item_id": item.id, "batch_date": _iso(item.batch_date), "carrier": item.carrier,
                     "state": item.state, "reason_code": item.reason_code, "needs_person": item.state in NEEDS_PERSON,
                     "retryable": item.retryable, "attempts": item.attempts, "finished_at": _iso(item.finished_at),
                     "lookup_ids": lookups}
    if role in DESK_ROLES:  # the worklist is theirs: the practice's own appointment id links the two systems
        data["appointment_id"] = item.appointment_id
        links["worklist"] = f"/api/worklist?day={_iso(item.batch_date)}"
    data["links"] = links
    return data


# --- lookup.completed ------------------------------------------------------------------------------------

def lookup_completed(repository: Repository, *, job_id: str, state: str, carrier: str, outcomes: Mapping[str, str],
                     lookup_ids: Mapping[str, str], started_at: datetime, finished_at: datetime | None) -> str | None:
    """An on-demand lookup job ended (done or failed)."""
    def data_for(role: str) -> Payload:
        return lookup_completed_data(role, job_id=job_id, state=state, carrier=carrier, outcomes=outcomes,
                                     lookup_ids=lookup_ids, started_at=started_at, finished_at=finished_at)

    return emit_safely(repository, LOOKUP_COMPLETED, job_id, data_for)


def lookup_completed_data(role: str, *, job_id: str, state: str, carrier: str, outcomes: Mapping[str, str],
                          lookup_ids: Mapping[str, str], started_at: datetime, finished_at: datetime | None) -> Payload:
    links = {f"{check}_lookup": f"/api/lookups/{lookup_id}" for check, lookup_id in lookup_ids.items()}
    data: Payload = {"carrier": carrier, "state": state, "outcomes": dict(outcomes), "lookup_ids": dict(lookup_ids),
                     "started_at": _iso(started_at), "finished_at": _iso(finished_at)}
    if role in DESK_ROLES:  # lookup jobs are desk work: auditors read the stored lookups only
        data["job_id"] = job_id
        links["job"] = f"/api/lookups/jobs/{job_id}"
    data["links"] = links
    return data


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
