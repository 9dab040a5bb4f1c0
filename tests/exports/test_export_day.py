"""Which answers a day's export holds (aggregator/exports/day.py): the appointments' stored answers, and the
on-demand lookups asked that day in the practice's time zone; not the batch's own lookups outside an item,
not lookups that failed, and an item's lookup only once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlmodel import col

from aggregator.errors import Outcome
from aggregator.exports.day import gather
from aggregator.models import ClaimList, ClaimQuery, Provenance
from aggregator.store import batches
from aggregator.store.tables import LookupRow
from sandbox import ground_truth
from tests.web.conftest import Seed, dataset

ZONE = "America/New_York"
DAY = date(2026, 12, 1)


def claim_lookup(seed: Seed, requested_at: datetime, *, source: str = "cli", answered: bool = True) -> str:
    data = dataset()
    number = next(iter(ground_truth.claims_by_category(data, "ridgeline").values()))[0].claim_number
    claim = ground_truth.claim(data, "ridgeline", number)
    assert claim is not None
    query = ClaimQuery(claim_number=number)
    lookup = seed.repository.create_lookup(flow="claims", carrier="ridgeline", query=query, source=source)
    record = None
    if answered:
        answer = ClaimList(carrier="ridgeline", query=query, claims=(claim,), provenance=Provenance(
            carrier="ridgeline", portal_account="frontdesk", fetched_at=requested_at))
        record = (answer, f"claim:{number}")
    outcome = Outcome.FOUND if answered else Outcome.RETRY_LATER
    seed.repository.finish_lookup(lookup.id, outcome, None if answered else "portal down", None, record=record)
    asked_at(seed, lookup.id, requested_at)
    return lookup.id


def asked_at(seed: Seed, lookup_id: str, when: datetime) -> None:
    with seed.repository.session() as s:
        s.exec(update(LookupRow).where(col(LookupRow.id) == lookup_id).values(requested_at=when))
        s.commit()


def test_on_demand_lookups_count_on_the_practice_day_they_were_asked(seed):
    asked_at(seed, seed.lookup_id, datetime(2020, 1, 1, 12, tzinfo=UTC))  # the seeded web lookup: out of the way
    late_evening = claim_lookup(seed, datetime(2026, 12, 2, 4, 30, tzinfo=UTC))  # 23:30 on Dec 1 in New York
    next_morning = claim_lookup(seed, datetime(2026, 12, 2, 5, 30, tzinfo=UTC))  # 00:30 on Dec 2
    claim_lookup(seed, datetime(2026, 12, 1, 15, 0, tzinfo=UTC), source="batch")  # the batch's: through items only
    claim_lookup(seed, datetime(2026, 12, 1, 16, 0, tzinfo=UTC), answered=False)  # failed: nothing to export
    assert [a.lookup_id for a in gather(seed.repository, DAY, ZONE).on_demand] == [late_evening]
    assert [a.lookup_id for a in gather(seed.repository, date(2026, 12, 2), ZONE).on_demand] == [next_morning]
    assert gather(seed.repository, date(2026, 11, 30), ZONE).empty


def test_an_items_lookup_is_exported_once_with_its_visit(seed):
    appointment = batches.get_appointment(seed.repository, seed.appointment_id)
    assert appointment is not None
    # The seeded lookup was asked from the web app today and is also the item's eligibility answer.
    asked_at(seed, seed.lookup_id, datetime.combine(appointment.service_date, datetime.min.time(), UTC).replace(hour=15))
    found = gather(seed.repository, appointment.service_date, ZONE)
    assert [v.eligibility.lookup_id for v in found.visits if v.eligibility] == [seed.lookup_id]
    assert found.on_demand == []
    assert [a.lookup_id for a in found.answers()] == [seed.lookup_id]
    assert [row.id for row in found.answers()[0].evidence] == seed.evidence_ids[-1:]


def test_the_ends_of_the_calendar_are_empty_days_not_errors(seed):
    for day, zone in ((date.min, "Asia/Tokyo"), (date.max, ZONE), (date.min, ZONE), (date.max, "Pacific/Kiritimati")):
        assert gather(seed.repository, day, zone).empty
