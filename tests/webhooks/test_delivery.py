"""The outbox and the deliverer against a loopback receiver: retries with backoff until a 2xx, every attempt
in the delivery log, the outbox surviving a stopped process, one sender per delivery, URL checks, removal."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from aggregator.overnight.batch import ItemState, JobOutcome, finish_item
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store.tables import AppointmentRow, BatchItemRow, WebhookEventRow
from aggregator.webhooks import endpoints, events, outbox
from aggregator.webhooks.deliverer import Delivering, WebhookDeliverer
from tests.webhooks.receiver import docs_verifier, receiving, until

FAST = {"webhook_retry_base_seconds": 0.05, "webhook_retry_max_seconds": 0.2, "webhook_poll_seconds": 0.05,
        "webhook_timeout_seconds": 5.0}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", **FAST)


@pytest.fixture
def repository(settings: Settings) -> Repository:
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    return Repository.open(settings.resolved_database_url)


def terminal_item(state: str = "verified", item_id: str = "item-1") -> BatchItemRow:
    """A batch item as finish_item leaves it (not stored: the payload is built from the row)."""
    now = datetime.now(UTC)
    return BatchItemRow(id=item_id, batch_date=date(2026, 12, 1), appointment_id="A-1001", carrier="ridgeline",
                        account_label="frontdesk", state=state, reason_code=None, attempts=1, retryable=False,
                        eligibility_lookup_id="lookup-1", finished_at=now, updated_at=now)


def delivery_of(repository: Repository, event_id: str):  # type: ignore[no-untyped-def]
    [delivery] = outbox.deliveries(repository, event_id=event_id)
    return delivery


async def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_try(repository, settings):
    with receiving(statuses=[500, 500]) as receiver:
        secret = endpoints.register(repository, url=receiver.url, role="staff",
                                    event_types=list(endpoints.EVENT_TYPES)).secret
        event_id = events.appointment_checked(repository, terminal_item())
        assert event_id is not None
        async with Delivering(repository, settings, drain_seconds=0):
            await until(lambda: delivery_of(repository, event_id).status != outbox.PENDING, what="the delivery to end")
    delivery = delivery_of(repository, event_id)
    assert delivery.status == outbox.DELIVERED and delivery.attempts == 3
    assert [r.headers["Webhook-Id"] for r in receiver.requests] == [event_id] * 3  # the same id on every try
    verify = docs_verifier()
    assert all(verify(secret, r.headers, r.body) for r in receiver.requests)  # each try signed anew, all valid
    body = json.loads(receiver.requests[-1].body)
    assert body["id"] == event_id and body["type"] == "appointment.checked"
    assert body["data"]["batch_item_id"] == "item-1" and body["data"]["state"] == "verified"
    log = sorted(outbox.delivery_log(repository), key=lambda entry: entry.attempt)
    assert [(e.attempt, e.status_code, e.error_class) for e in log] == [(1, 500, "http_status"), (2, 500, "http_status"),
                                                                         (3, 200, None)]
    assert all(e.duration_ms >= 0 and e.event_type == "appointment.checked" for e in log)


async def test_backoff_doubles_and_the_attempts_run_out(repository, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", **{**FAST, "webhook_max_attempts": 3})
    deliverer = WebhookDeliverer(repository, settings)
    assert [deliverer.backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [0.05, 0.1, 0.2, 0.2, 0.2]
    with receiving(statuses=[503] * 10) as receiver:
        endpoints.register(repository, url=receiver.url, role="staff", event_types=["appointment.checked"])
        event_id = events.appointment_checked(repository, terminal_item(state="failed"))
        assert event_id is not None
        left = await deliverer.drain(30)
    assert left == 0 and len(receiver.requests) == 3
    delivery = delivery_of(repository, event_id)
    assert delivery.status == outbox.FAILED and delivery.attempts == 3


async def test_an_unreachable_receiver_is_logged_by_error_class(repository, settings):
    with receiving() as receiver:
        url = receiver.url
    # The server is gone: nothing listens on that port now.
    endpoints.register(repository, url=url, role="staff", event_types=["appointment.checked"])
    event_id = events.appointment_checked(repository, terminal_item())
    assert event_id is not None
    await WebhookDeliverer(repository, settings).deliver_due()
    [entry] = outbox.delivery_log(repository)
    assert entry.status_code is None and entry.error_class == "ConnectError"
    assert delivery_of(repository, event_id).status == outbox.PENDING  # retried later


async def test_the_outbox_keeps_events_for_the_next_process(settings):
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    first = Repository.open(settings.resolved_database_url)
    with receiving() as receiver:
        endpoints.register(first, url=receiver.url, role="staff", event_types=["appointment.checked"])
        # Written while no deliverer runs (the process then stops): nothing is sent yet.
        event_ids = [events.appointment_checked(first, terminal_item(item_id=f"item-{n}")) for n in range(3)]
        first.engine.dispose()
        assert receiver.requests == []
        later = Repository.open(settings.resolved_database_url)
        assert outbox.pending_count(later) == 3
        assert await WebhookDeliverer(later, settings).drain(30) == 0
    assert sorted(r.headers["Webhook-Id"] for r in receiver.requests) == sorted(event_ids)


async def test_two_deliverers_send_each_attempt_once(repository, settings):
    with receiving() as receiver:
        endpoints.register(repository, url=receiver.url, role="staff", event_types=["appointment.checked"])
        event_ids = [events.appointment_checked(repository, terminal_item(item_id=f"item-{n}")) for n in range(10)]
        one, two = WebhookDeliverer(repository, settings), WebhookDeliverer(repository, settings)
        await asyncio.gather(one.deliver_due(), two.deliver_due())
    assert sorted(r.headers["Webhook-Id"] for r in receiver.requests) == sorted(event_ids)


async def test_one_delivery_per_endpoint_with_the_body_its_role_may_see(repository, settings):
    with receiving() as staff_receiver, receiving() as auditor_receiver, receiving() as lookups_only:
        endpoints.register(repository, url=staff_receiver.url, role="staff", event_types=list(endpoints.EVENT_TYPES))
        endpoints.register(repository, url=auditor_receiver.url, role="auditor", event_types=["appointment.checked"])
        endpoints.register(repository, url=lookups_only.url, role="admin", event_types=["lookup.completed"])
        event_id = events.appointment_checked(repository, terminal_item())
        assert event_id is not None and len(outbox.deliveries(repository, event_id=event_id)) == 2
        assert await WebhookDeliverer(repository, settings).drain(30) == 0
    assert lookups_only.requests == []
    staff = json.loads(staff_receiver.requests[0].body)["data"]
    auditor = json.loads(auditor_receiver.requests[0].body)["data"]
    assert staff["appointment_id"] == "A-1001" and staff["links"]["worklist"] == "/api/worklist?day=2026-12-01"
    assert "appointment_id" not in auditor and "worklist" not in auditor["links"]
    assert auditor["links"]["eligibility_lookup"] == "/api/lookups/lookup-1" == staff["links"]["eligibility_lookup"]


def test_no_endpoint_no_event(repository):
    assert events.appointment_checked(repository, terminal_item()) is None
    assert outbox.pending_count(repository) == 0


async def test_removing_an_endpoint_cancels_its_pending_deliveries(repository, settings):
    with receiving() as receiver:
        endpoint = endpoints.register(repository, url=receiver.url, role="staff",
                                      event_types=["appointment.checked"]).endpoint
        event_id = events.appointment_checked(repository, terminal_item())
        assert event_id is not None
        assert endpoints.remove(repository, endpoint.id) is not None
        assert endpoints.remove(repository, endpoint.id) is None  # already removed
        await WebhookDeliverer(repository, settings).drain(5)
    assert receiver.requests == [] and delivery_of(repository, event_id).status == outbox.CANCELLED
    assert events.appointment_checked(repository, terminal_item()) is None  # no endpoint subscribed now


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://example.org/hook", "http:// or https://"),
    ("https://user:pw@example.org/hook", "user name or password"),
    ("https://token@example.org/hook", "user name or password"),
    ("https:///hook", "no host"),
    ("https://example.org/hook#x", "fragment"),
    ("https://example.org/ho ok", "space"),
    ("https://example.org:99999/hook", "cannot be read"),
    ("", "empty"),
    ("example.org/hook", "http:// or https://"),
])
def test_bad_urls_are_refused_without_repeating_them(repository, url, problem):
    with pytest.raises(endpoints.InvalidEndpoint) as refused:
        endpoints.register(repository, url=url, role="staff", event_types=["appointment.checked"])
    assert problem in str(refused.value)
    assert "pw" not in str(refused.value) and "token" not in str(refused.value)
    assert endpoints.endpoints(repository) == []


def test_role_and_event_types_are_checked(repository):
    with pytest.raises(endpoints.InvalidEndpoint, match="role"):
        endpoints.register(repository, url="https://example.org/h", role="root", event_types=["lookup.completed"])
    with pytest.raises(endpoints.InvalidEndpoint, match="at least one"):
        endpoints.register(repository, url="https://example.org/h", role="staff", event_types=[])
    with pytest.raises(endpoints.InvalidEndpoint, match="unknown"):
        endpoints.register(repository, url="https://example.org/h", role="staff", event_types=["user.deleted"])
    registered = endpoints.register(repository, url=" https://example.org/h ", role="auditor",
                                    event_types=["lookup.completed"])
    assert registered.endpoint.url == "https://example.org/h" and registered.secret.startswith("whsec_")
    assert len(registered.secret) == len("whsec_") + 64


async def test_the_secret_and_the_body_never_reach_the_log(repository, settings):
    import io

    from aggregator.logging import configure_logging

    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    with receiving(statuses=[500]) as receiver:
        secret = endpoints.register(repository, url=receiver.url + "?key=receiver-token", role="staff",
                                    event_types=["appointment.checked"]).secret
        events.appointment_checked(repository, terminal_item())
        await WebhookDeliverer(repository, settings).drain(30)
    configure_logging("console", "INFO")  # back to stderr for the other tests
    logged = stream.getvalue()
    assert "webhook_attempt" in logged
    for leak in (secret, "receiver-token", "A-1001", receiver.requests[0].body.decode()):
        assert leak not in logged


def test_the_event_commits_with_the_items_terminal_state_or_not_at_all(repository, monkeypatch):
    """finish_item writes the item and its event in one transaction: a crash cannot keep one without the other."""
    endpoints.register(repository, url="https://hooks.example.org/in", role="staff",
                       event_types=list(endpoints.EVENT_TYPES))
    now = datetime.now(UTC)
    with repository.session() as session:
        session.add(AppointmentRow(id="A-1001", starts_at=now, service_date=date(2026, 12, 1), patient_last_name="Doe",
                                   patient_first_name="Jo", patient_dob=date(1990, 1, 31), carrier="ridgeline",
                                   member_id="RM1", source="test.csv", fingerprint="0" * 64, imported_at=now,
                                   updated_at=now))
        session.flush()
        session.add(BatchItemRow(id="item-1", batch_date=date(2026, 12, 1), appointment_id="A-1001",
                                 carrier="ridgeline", state="running", attempts=1, updated_at=now))
        session.commit()
    not_found = JobOutcome(ItemState.NOT_FOUND, "member not found", "not_found")

    def stored() -> tuple[str | None, list[WebhookEventRow]]:
        with repository.session() as session:
            item = session.get(BatchItemRow, "item-1")
            return (item.state if item else None), list(session.exec(select(WebhookEventRow)))

    with monkeypatch.context() as patch:
        def crash(self: Session) -> None:
            raise RuntimeError("the process died here")

        patch.setattr(Session, "commit", crash)
        with pytest.raises(RuntimeError):
            finish_item(repository, "item-1", not_found)
    assert stored() == ("running", [])

    commits = []
    with monkeypatch.context() as patch:
        def counted(self: Session, commit=Session.commit) -> None:  # type: ignore[no-untyped-def]
            commits.append(1)
            commit(self)

        patch.setattr(Session, "commit", counted)
        finish_item(repository, "item-1", not_found)
    assert len(commits) == 1  # no moment when the item is written and its event is not
    state, [event] = stored()
    assert state == "not_found" and event.subject_id == "item-1"
    assert len(outbox.deliveries(repository, event_id=event.id)) == 1
