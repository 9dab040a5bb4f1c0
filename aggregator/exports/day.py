"""What "the day's answers" are, read from what the product stored (it never asks a portal):

1. the stored answers of that date's appointments: each batch item's eligibility answer, its authorization
   list and its prior-auth answers for the visit (the item's current lookups: a retried item's earlier
   lookups are superseded, not exported);
2. on-demand lookups (CLI, web, API; not the batch's) *asked* on that date in the practice's time zone
   (`settings.timezone`): eligibility, authorizations and claim status as they were answered.

Every answer comes with its evidence rows (in chain order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aggregator.flows.authorization import AuthorizationAnswer
from aggregator.models.answers import Answer
from aggregator.store import batches
from aggregator.store import exports as store
from aggregator.store.repository import Repository
from aggregator.store.tables import AppointmentRow, BatchItemRow, EvidenceRow


@dataclass(frozen=True)
class StoredAnswer:
    lookup_id: str
    answer: Answer
    evidence: list[EvidenceRow]


@dataclass(frozen=True)
class Visit:
    """One appointment of the day with its batch item (None: the batch has not reached it)."""

    appointment: AppointmentRow
    item: BatchItemRow | None
    eligibility: StoredAnswer | None = None
    authorizations: StoredAnswer | None = None
    auth_answers: list[AuthorizationAnswer] = field(default_factory=list)


@dataclass(frozen=True)
class DayAnswers:
    day: date
    visits: list[Visit]
    on_demand: list[StoredAnswer]

    def answers(self) -> list[StoredAnswer]:
        """Every stored answer: the visits' first, then the on-demand lookups'."""
        found: list[StoredAnswer] = []
        for visit in self.visits:
            found += [a for a in (visit.eligibility, visit.authorizations) if a is not None]
        return found + self.on_demand

    @property
    def empty(self) -> bool:
        return not self.answers()


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Midnight to midnight of `day` in the practice's zone (a DST day has 23 or 25 hours), in UTC. The first
    and last days of the calendar reach past what a datetime holds: their bounds stop at its ends."""
    zone = ZoneInfo(timezone)
    try:
        start = datetime.combine(day, time.min, zone).astimezone(UTC)
    except OverflowError:
        start = datetime.min.replace(tzinfo=UTC)
    try:
        end = datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(UTC)
    except OverflowError:
        end = datetime.max.replace(tzinfo=UTC)
    return start, end


def gather(repository: Repository, day: date, timezone: str) -> DayAnswers:
    items = {item.appointment_id: item for item in batches.items_on(repository, day)}
    visits = []
    for appointment in batches.appointments_on(repository, day):
        item = items.get(appointment.id)
        if item is None:
            visits.append(Visit(appointment=appointment, item=None))
            continue
        answers = [AuthorizationAnswer.model_validate(a) for a in json.loads(item.auth_answer or "[]")]
        visits.append(Visit(appointment=appointment, item=item,
                            eligibility=_stored(repository, item.eligibility_lookup_id),
                            authorizations=_stored(repository, item.authorization_lookup_id),
                            auth_answers=answers))
    start, end = day_bounds(day, timezone)
    in_visits = {a.lookup_id for v in visits for a in (v.eligibility, v.authorizations) if a is not None}
    on_demand = []
    for lookup in store.on_demand_lookups(repository, start, end):
        if lookup.id in in_visits:  # an item re-run from the web app: exported once, with its visit
            continue
        stored = _stored(repository, lookup.id)
        if stored is not None:  # a lookup that failed has no answer to export
            on_demand.append(stored)
    return DayAnswers(day=day, visits=visits, on_demand=on_demand)


def _stored(repository: Repository, lookup_id: str | None) -> StoredAnswer | None:
    if lookup_id is None:
        return None
    records = repository.records_for_lookup(lookup_id)
    if not records:
        return None
    answer = records[0]  # one record per lookup (Repository.finish_lookup)
    ids = answer.provenance.evidence_ids if answer.provenance else []
    rows = [row for row in (repository.evidence(i) for i in ids) if row is not None]
    return StoredAnswer(lookup_id=lookup_id, answer=answer, evidence=sorted(rows, key=lambda r: r.seq))
