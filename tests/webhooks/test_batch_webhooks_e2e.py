"""A small day batch against the real sandbox portals and Chromium, with a webhook receiver on loopback:
exactly one correctly signed `appointment.checked` per terminal item, whose state is the item's (and the
items themselves equal the ground truth), with no member id, date of birth or name in any payload."""

from __future__ import annotations

import json

from aggregator.overnight.batch import BatchRun
from aggregator.store import batches as store
from aggregator.webhooks import endpoints, outbox
from aggregator.webhooks.deliverer import Delivering
from tests.e2e.test_batch_e2e import DAY, OPTIONS, check_against_ground_truth, import_day
from tests.webhooks.receiver import docs_verifier, receiving

APPOINTMENTS = 6


async def test_one_signed_event_per_terminal_item_of_a_day_batch(make_runner, sandbox, portals, vault, settings,
                                                                 tmp_path):
    with receiving() as receiver:
        async with make_runner() as runner:
            secret = endpoints.register(runner.repository, url=receiver.url, role="staff",
                                        event_types=["appointment.checked"]).secret
            rows = import_day(runner, sandbox, tmp_path, APPOINTMENTS)
            # As `aggregator run` does: events go out while the batch runs, the rest is drained before the end.
            delivering = Delivering(runner.repository, settings, drain_seconds=60)
            async with delivering:
                summary = await BatchRun(runner, DAY, options=OPTIONS).run()
            states = check_against_ground_truth(runner.repository, sandbox, rows)
            items = {item.id: item for item in store.items_on(runner.repository, DAY)}
            assert delivering.left_pending == 0 and outbox.pending_count(runner.repository) == 0
    assert summary.total == APPOINTMENTS == sum(states.values())

    verify = docs_verifier()
    assert all(verify(secret, r.headers, r.body) for r in receiver.requests)
    announced = [json.loads(r.body) for r in receiver.requests]
    assert all(event["type"] == "appointment.checked" for event in announced)
    by_item = {event["data"]["batch_item_id"]: event["data"] for event in announced}
    assert len(announced) == len(by_item) == len(items)  # exactly one per item, none twice
    for item_id, item in items.items():
        data = by_item[item_id]
        assert (data["state"], data["appointment_id"], data["carrier"]) == (item.state, item.appointment_id, item.carrier)
        assert data["lookup_ids"].get("eligibility") == item.eligibility_lookup_id
    assert len({r.headers["Webhook-Id"] for r in receiver.requests}) == APPOINTMENTS
    payloads = "".join(r.body.decode() for r in receiver.requests)
    for row in rows:  # the appointment list's PHI never leaves in an event
        for key, value in row.items():
            if key in ("member_id", "patient_dob", "patient_last_name", "patient_first_name", "date_of_birth",
                       "last_name", "first_name") and value:
                assert str(value) not in payloads, key
