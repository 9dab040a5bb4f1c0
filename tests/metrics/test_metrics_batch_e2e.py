"""/metrics scraped after a small day batch against the real sandbox portals and Chromium.

The batch runs first (as `aggregator run` would, its own runner); the web app is then built on the same
data directory, as another process would be, and scraped. What it shows must equal the worklist of the
day, the store (lookups, evidence files on disk, lookup times), the vault (frozen accounts) and, for what
only the process counts, the portals' own login counters.
"""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from sqlmodel import select

from aggregator.metrics import process_metrics
from aggregator.overnight.batch import BatchRun
from aggregator.overnight.worklist import state_counts, worklist
from aggregator.store import batches as store
from aggregator.store.tables import EvidenceRow, LookupRow
from aggregator.web import create_app
from tests.e2e.test_batch_e2e import DAY, OPTIONS, carriers, import_day
from tests.metrics.scrape import every_label_value, samples
from tests.web.conftest import no_runner


def runtime_text() -> str:
    """This process's runtime metrics alone, in the exposition format (a registry of our own)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(process_metrics())
    return generate_latest(registry).decode()


def duration_seconds(row: LookupRow) -> float:
    finished, requested = store.aware(row.finished_at), store.aware(row.requested_at)
    assert finished is not None and requested is not None
    return (finished - requested).total_seconds()


async def test_metrics_after_a_day_batch_match_the_worklist_the_store_and_the_portals(
        make_runner, sandbox, portals, vault, settings, tmp_path):
    slugs = carriers(sandbox)
    frozen_carrier = slugs[-1]  # every account of one carrier frozen: its items need a human, no login
    for account in vault.accounts(frozen_carrier):
        vault.freeze(account.account_id, "the portal rejected the password")
    # One account of another carrier has a wrong password: if its worker logs in, the portal refuses it.
    wrong = vault.accounts(slugs[0])[-1]
    vault.update_account(wrong.account_id, password="not-the-password-1")
    logins_before = samples(runtime_text(), "aggregator_portal_logins_total", "carrier", "account", "result")
    latency_before = samples(runtime_text(), "aggregator_portal_request_duration_seconds_count", "carrier", "kind")
    breakers_seen: dict[str, set[str]] = {}

    def progress(item) -> None:  # type: ignore[no-untyped-def]
        # Mid-run, the running carriers' breakers are exposed (closed: no fault is on).
        for (carrier, state), value in samples(runtime_text(), "aggregator_circuit_breaker_state",
                                               "carrier", "state").items():
            if value == 1.0:
                breakers_seen.setdefault(carrier, set()).add(state)

    async with make_runner() as runner:
        import_day(runner, sandbox, tmp_path, 8)
        await BatchRun(runner, DAY, options=OPTIONS, on_progress=progress).run()
        repository = runner.repository

    settings.resolved_data_dir.chmod(0o700)  # what the commands make it (tests make it with the umask's mode)
    app = create_app(settings, runner_provider=no_runner)
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
        response = client.get("/metrics")
        ready = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
    text = response.text

    # The day's items by carrier and state: exactly the worklist's counts, with more than one state.
    rows = worklist(repository, DAY)
    items = samples(text, "aggregator_batch_items", "carrier", "state", where={"batch_date": DAY.isoformat()})
    assert items == {key: float(n) for key, n in Counter((r.carrier, r.state) for r in rows).items()}
    by_state = Counter[str]()
    for (_, state), value in items.items():
        by_state[state] += int(value)
    assert dict(by_state) == state_counts(rows) and len(by_state) > 1
    assert items[(frozen_carrier, "needs_human")] == sum(r.carrier == frozen_carrier for r in rows)
    day_items = store.items_on(repository, DAY)
    assert samples(text, "aggregator_batch_item_retries", "carrier", where={"batch_date": DAY.isoformat()}) == {
        (carrier,): float(sum(max(0, i.attempts - 1) for i in day_items if i.carrier == carrier))
        for carrier in {i.carrier for i in day_items}}

    with repository.session() as session:
        lookups = session.exec(select(LookupRow)).all()
        evidence = session.exec(select(EvidenceRow)).all()
    # Lookups by carrier, flow, source and outcome: the store's rows, counted.
    assert samples(text, "aggregator_lookups_total", "carrier", "flow", "source", "outcome") == {
        key: float(n) for key, n in Counter((lk.carrier, lk.flow, lk.source, lk.outcome) for lk in lookups).items()}
    assert lookups and all(lk.carrier != frozen_carrier for lk in lookups)  # refused before any lookup

    # Check durations: every lookup of the run is in the 24 h window, with the stored start and end times.
    counts = samples(text, "aggregator_check_duration_seconds_gcount", "carrier", "flow")
    sums = samples(text, "aggregator_check_duration_seconds_gsum", "carrier", "flow")
    assert counts == {key: float(n) for key, n in Counter((lk.carrier, lk.flow) for lk in lookups).items()}
    for key in counts:
        expected = sum(duration_seconds(lk) for lk in lookups if (lk.carrier, lk.flow) == key)
        assert sums[key] == pytest.approx(expected, abs=0.01)
        under_5s = sum(duration_seconds(lk) <= 5.0 for lk in lookups if (lk.carrier, lk.flow) == key)
        assert samples(text, "aggregator_check_duration_seconds_bucket", "le",
                       where={"carrier": key[0], "flow": key[1]})[("5.0",)] == under_5s

    # Evidence: entries, and bytes = the sizes of the files each entry references, on disk.
    files = settings.resolved_snapshots_dir
    expected_bytes = Counter[tuple[str, str]]()
    for row in evidence:
        for kind, relative in (("screenshot", row.screenshot_path), ("html", row.html_path),
                               ("document", row.document_path)):
            if relative:
                expected_bytes[(row.carrier, kind)] += (files / relative).stat().st_size
    assert samples(text, "aggregator_evidence_bytes_total", "carrier", "kind") == {
        key: float(n) for key, n in expected_bytes.items()}
    assert samples(text, "aggregator_evidence_entries_total", "carrier") == {
        (carrier,): float(n) for carrier, n in Counter(row.carrier for row in evidence).items()}

    # Frozen accounts: what the vault holds.
    assert samples(text, "aggregator_portal_account_frozen", "carrier", "account") == {
        (a.carrier, a.label): 1.0 if a.is_frozen else 0.0 for a in vault.accounts()}

    # Logins (this process counted them) equal each portal's own counters, account by account: succeeded
    # = its successful logins, refused = its failed ones (the wrong password), none failed (no faults).
    logins_after = samples(text, "aggregator_portal_logins_total", "carrier", "account", "result")
    logins = {key: value - logins_before.get(key, 0.0) for key, value in logins_after.items()}
    for slug in slugs:
        for account in portals[slug].data.accounts:
            stats = portals[slug].stats()["accounts"][account.username]
            assert logins.get((slug, account.label, "succeeded"), 0) == stats["successful_logins"], account.label
            assert logins.get((slug, account.label, "refused"), 0) == stats["failed_logins"], account.label
            assert logins.get((slug, account.label, "failed"), 0) == 0
    assert sum(logins.values()) > 0
    assert logins.get((slugs[0], wrong.label, "refused"), 0) == (1 if vault.get(wrong.account_id).is_frozen else 0)

    # Portal latency: observed for every carrier that ran, never for the one nobody could log in to.
    latency = samples(text, "aggregator_portal_request_duration_seconds_count", "carrier", "kind")
    ran = {carrier for (carrier, _), n in latency.items() if n > latency_before.get((carrier, _), 0.0)}
    assert ran == set(slugs) - {frozen_carrier}
    if "bluepeak" in ran:  # the single-page portal: its data comes from the JSON calls its page makes
        assert latency[("bluepeak", "api")] > latency_before.get(("bluepeak", "api"), 0.0)
    # The breakers were exposed while their carriers ran, and are gone with the run.
    assert breakers_seen == {slug: {"closed"} for slug in ran}
    assert samples(text, "aggregator_circuit_breaker_state", "carrier", "state") == {}

    # No label holds a member id, a date of birth, a name or a portal user name.
    values = every_label_value(text)
    for appointment in store.appointments_on(repository, DAY):
        for phi in (appointment.member_id, appointment.patient_dob.isoformat(), appointment.patient_last_name,
                    appointment.patient_first_name):
            assert phi not in text and phi not in values
    for account in vault.accounts():
        assert account.username.get_secret_value() not in text
