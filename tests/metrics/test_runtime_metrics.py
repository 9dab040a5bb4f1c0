"""What only the process knows: the running batch's circuit breakers, logins, and that none of it lives in
prometheus_client's global registry (two apps in one process scrape side by side). And no label, of any
metric, holds PHI or a portal user name."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from aggregator.metrics import RuntimeMetrics, process_metrics
from aggregator.metrics.store_collector import StoreCollector
from aggregator.overnight.batch import BatchOptions, BatchRun, CircuitBreaker
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.store import batches as store
from aggregator.store.tables import BatchRunRow
from tests.metrics.conftest import client_of
from tests.metrics.scrape import every_label_value, samples
from tests.unit.test_batch_dispatch import DAY, Scripted, ScriptedRunner, active_members, add_appointments
from tests.web.conftest import Seed
from vault import MasterKey, Vault


def runtime_text(metrics: RuntimeMetrics) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    return generate_latest(registry).decode()


def test_the_breaker_state_follows_the_breaker():
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10, max_cooldown=40, monotonic=lambda: now[0])
    assert breaker.state == "closed"
    breaker.failure()
    assert breaker.state == "closed"
    breaker.failure()
    assert breaker.state == "open"
    now[0] = 10.0
    assert breaker.state == "half_open"
    breaker.success()
    assert breaker.state == "closed"


def test_a_breaker_is_exposed_only_while_watched():
    metrics = RuntimeMetrics()
    breaker = CircuitBreaker(threshold=1, cooldown=60, max_cooldown=60)
    with metrics.breaker_watched("ridgeline", breaker):
        breaker.failure()
        assert samples(runtime_text(metrics), "aggregator_circuit_breaker_state", "carrier", "state") == {
            ("ridgeline", "closed"): 0, ("ridgeline", "open"): 1, ("ridgeline", "half_open"): 0}
        assert samples(runtime_text(metrics), "aggregator_circuit_breaker_consecutive_failures", "carrier") == {
            ("ridgeline",): 1}
    assert samples(runtime_text(metrics), "aggregator_circuit_breaker_state", "carrier", "state") == {}


def test_login_results_are_a_closed_list():
    metrics = RuntimeMetrics()
    metrics.count_login("ridgeline", "frontdesk", "refused")
    assert samples(runtime_text(metrics), "aggregator_portal_logins_total", "carrier", "account", "result") == {
        ("ridgeline", "frontdesk", "refused"): 1}
    with pytest.raises(ValueError, match="succeeded, refused, failed, needs_person"):
        metrics.count_login("ridgeline", "frontdesk", "maybe")


async def test_a_portal_that_is_down_opens_the_breaker_mid_run_and_its_retries_are_counted(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    settings.resolved_data_dir.mkdir(parents=True)
    repository = Repository.open(settings.resolved_database_url)
    vault = Vault.create(settings.resolved_vault_path, MasterKey.generate())
    vault.add_account(carrier="ridgeline", label="frontdesk", username="user-frontdesk", password="pw",
                      totp_secret="JBSWY3DPEHPK3PXP")
    add_appointments(repository, active_members(4))
    runner = ScriptedRunner(settings, repository, vault, Scripted(default="retry_later"))
    options = BatchOptions(max_attempts=4, retry_base_seconds=0.01, retry_max_seconds=0.01, deadline_seconds=30,
                           breaker_threshold=3, breaker_cooldown_seconds=0.2, breaker_max_cooldown_seconds=0.2)
    batch = asyncio.create_task(BatchRun(runner, DAY, options=options).run())  # type: ignore[arg-type]
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while not batch.done() and time.monotonic() < deadline:  # wait for the state, not for a time
        states = samples(runtime_text(process_metrics()), "aggregator_circuit_breaker_state", "carrier", "state")
        seen |= {state for (carrier, state), value in states.items() if carrier == "ridgeline" and value == 1}
        await asyncio.sleep(0.005)
    await batch
    assert "open" in seen
    assert samples(runtime_text(process_metrics()), "aggregator_circuit_breaker_state", "carrier", "state") == {}

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(repository, tmp_path, window=timedelta(hours=24), batch_dates=1))
    text = generate_latest(registry).decode()
    items = store.items_on(repository, DAY)
    assert {i.state for i in items} == {"failed"}
    assert samples(text, "aggregator_batch_item_retries", "batch_date", "carrier") == {
        (DAY.isoformat(), "ridgeline"): sum(i.attempts - 1 for i in items)}
    assert sum(i.attempts - 1 for i in items) > 0


def test_nothing_is_registered_in_the_global_registry_and_two_apps_scrape_side_by_side(make_app):
    process_metrics().count_portal_retry("ridgeline")
    assert "aggregator_" not in prometheus_client.generate_latest(prometheus_client.REGISTRY).decode()
    first, second = make_app(), make_app()
    for app in (first, second, first):
        with client_of(app) as client:
            assert client.get("/metrics").status_code == 200


def test_no_label_holds_phi_or_a_portal_user_name(make_app, seed: Seed):
    appointment = store.get_appointment(seed.repository, seed.appointment_id)
    assert appointment is not None
    # A run on the seeded item's date, so the batch item metrics cover it.
    with seed.repository.session() as session:
        session.add(BatchRunRow(id="run-1", batch_date=appointment.service_date, trigger="cli",
                                started_at=appointment.imported_at))
        session.commit()
    process_metrics().count_login("ridgeline", "frontdesk", "succeeded")  # the runtime families have samples too
    with client_of(make_app()) as client:
        text = client.get("/metrics").text
    values = every_label_value(text)
    assert ("ridgeline", "verified") in samples(text, "aggregator_batch_items", "carrier", "state")
    assert {"ridgeline", "frontdesk", "eligibility"} <= values
    forbidden = [appointment.member_id, appointment.patient_dob.isoformat(), appointment.patient_last_name,
                 appointment.patient_first_name, seed.portal_user, *seed.secrets]
    for value in forbidden:
        assert value not in text
        assert not any(value in label for label in values)
