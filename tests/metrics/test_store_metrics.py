"""The database-derived metrics on rows written by hand: each number is one the test can count itself.

Durations and buckets from the lookups' stored times, within the window only; batch items of the most
recently started run dates, with appointments not yet checked as "not_checked"; retries; evidence bytes
counted once per entry, caught up over scrapes when many arrive at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from aggregator.metrics.evidence_sizes import EvidenceSizeTally
from aggregator.metrics.store_collector import StoreCollector
from aggregator.settings import Settings
from aggregator.store import Repository, new_id
from aggregator.store.tables import AppointmentRow, BatchItemRow, BatchRunRow, EvidenceRow, LookupRow
from tests.metrics.scrape import samples

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    settings = Settings(data_dir=tmp_path / "data")
    settings.resolved_data_dir.mkdir(parents=True)
    return Repository.open(settings.resolved_database_url)


def scrape(repository: Repository, tmp_path: Path, *, batch_dates: int = 2) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(repository, tmp_path / "snapshots", window=timedelta(hours=24),
                                     batch_dates=batch_dates, now=lambda: NOW))
    return generate_latest(registry).decode()


def add(repository: Repository, *rows: object) -> None:
    with repository.session() as session:
        for row in rows:
            session.add(row)
            session.commit()  # one by one: items refer to appointments


def lookup(carrier: str, flow: str, asked: datetime, seconds: float | None, outcome: str | None = "found",
           source: str = "batch") -> LookupRow:
    return LookupRow(id=new_id(), flow=flow, carrier=carrier, source=source, requested_at=asked,
                     finished_at=None if seconds is None else asked + timedelta(seconds=seconds), outcome=outcome)


def test_check_durations_come_from_the_stored_times_within_the_window(repository, tmp_path):
    hour_ago = NOW - timedelta(hours=1)
    add(repository,
        lookup("ridgeline", "eligibility", hour_ago, 0.5), lookup("ridgeline", "eligibility", hour_ago, 3.25),
        lookup("ridgeline", "eligibility", hour_ago, 45.0, outcome="retry_later"),
        lookup("ridgeline", "eligibility", NOW - timedelta(hours=30), 2.0),  # before the window
        lookup("ridgeline", "eligibility", hour_ago, None, outcome=None),  # still running
        lookup("cascade", "claim_status", hour_ago, 700.0, outcome="needs_human", source="web"))
    text = scrape(repository, tmp_path)
    buckets = samples(text, "aggregator_check_duration_seconds_bucket", "le",
                      where={"carrier": "ridgeline", "flow": "eligibility"})
    assert buckets == {("1.0",): 1, ("2.0",): 1, ("5.0",): 2, ("10.0",): 2, ("20.0",): 2, ("30.0",): 2, ("60.0",): 3,
                       ("120.0",): 3, ("300.0",): 3, ("600.0",): 3, ("+Inf",): 3}
    assert samples(text, "aggregator_check_duration_seconds_gsum", "carrier", "flow") == {
        ("ridgeline", "eligibility"): pytest.approx(48.75, abs=0.001), ("cascade", "claim_status"): pytest.approx(700)}
    assert samples(text, "aggregator_check_duration_seconds_bucket", "le",
                   where={"carrier": "cascade"})[("600.0",)] == 0
    # Counts are all time; a lookup without an outcome is running, not counted as ended.
    assert samples(text, "aggregator_lookups_total", "carrier", "flow", "source", "outcome") == {
        ("ridgeline", "eligibility", "batch", "found"): 3, ("ridgeline", "eligibility", "batch", "retry_later"): 1,
        ("cascade", "claim_status", "web", "needs_human"): 1}
    assert samples(text, "aggregator_lookups_running", "carrier", "flow") == {("ridgeline", "eligibility"): 1}


def appointment(n: int, day: date, carrier: str) -> AppointmentRow:
    stamp = datetime.combine(day, time(9, n), tzinfo=UTC)
    return AppointmentRow(id=f"A{day:%m%d}-{n}", starts_at=stamp, service_date=day, patient_last_name="Testperson",
                          patient_first_name="Pat", patient_dob=date(1980, 1, 2), carrier=carrier,
                          member_id=f"MEMBER{n:04d}", source="t.csv", fingerprint=str(n), imported_at=stamp,
                          updated_at=stamp)


def item(row: AppointmentRow, state: str, attempts: int) -> BatchItemRow:
    return BatchItemRow(id=new_id(), batch_date=row.service_date, appointment_id=row.id, carrier=row.carrier,
                        state=state, attempts=attempts, updated_at=row.updated_at)


def run(day: date, started: datetime) -> BatchRunRow:
    return BatchRunRow(id=new_id(), batch_date=day, trigger="nightly", started_at=started)


def test_batch_items_of_the_latest_run_dates_count_as_the_worklist_does(repository, tmp_path):
    old, today, tomorrow = date(2026, 11, 20), date(2026, 12, 1), date(2026, 12, 2)
    rows = {day: [appointment(n, day, "ridgeline" if n % 2 else "cascade") for n in range(5)]
            for day in (old, today, tomorrow)}
    add(repository, *[a for day_rows in rows.values() for a in day_rows])
    a = rows[today]
    add(repository, item(a[0], "verified", 1), item(a[1], "verified", 3), item(a[2], "needs_human", 1),
        item(a[3], "failed", 4), *[item(x, "verified", 1) for x in rows[old]])
    # a[4] has no item: "not_checked", as in the worklist. Tomorrow's run started last, the old date's first.
    add(repository, run(old, NOW - timedelta(days=11)), run(today, NOW - timedelta(hours=10)),
        run(today, NOW - timedelta(hours=5)), run(tomorrow, NOW - timedelta(hours=1)))
    text = scrape(repository, tmp_path)
    items = samples(text, "aggregator_batch_items", "batch_date", "carrier", "state")
    assert items == {
        ("2026-12-01", "cascade", "verified"): 1, ("2026-12-01", "ridgeline", "verified"): 1,
        ("2026-12-01", "cascade", "needs_human"): 1, ("2026-12-01", "ridgeline", "failed"): 1,
        ("2026-12-01", "cascade", "not_checked"): 1,
        ("2026-12-02", "cascade", "not_checked"): 3, ("2026-12-02", "ridgeline", "not_checked"): 2}
    assert samples(text, "aggregator_batch_item_retries", "batch_date", "carrier") == {
        ("2026-12-01", "cascade"): 0, ("2026-12-01", "ridgeline"): 2 + 3,
        ("2026-12-02", "cascade"): 0, ("2026-12-02", "ridgeline"): 0}
    assert samples(text, "aggregator_batch_item_attempts", "batch_date", "carrier")[("2026-12-01", "ridgeline")] == 7
    # One date more: the old one comes in.
    assert "2026-11-20" not in text
    wider = samples(scrape(repository, tmp_path, batch_dates=3), "aggregator_batch_items", "carrier", "state",
                    where={"batch_date": "2026-11-20"})
    assert wider == {("cascade", "verified"): 3, ("ridgeline", "verified"): 2}


def evidence(seq: int, carrier: str, files: dict[str, str | None]) -> EvidenceRow:
    return EvidenceRow(id=new_id(), seq=seq, carrier=carrier, account_label="frontdesk", flow="eligibility",
                       label="page", url="http://127.0.0.1:9/x", captured_at=NOW, screenshot_sha256="0" * 64,
                       html_sha256="0" * 64, screenshot_path=files["screenshot"] or "", html_path=files["html"] or "",
                       document_path=files.get("document"), prev_hash="0" * 64, entry_hash=f"{seq:064d}")


def test_evidence_bytes_are_counted_per_entry_and_caught_up_over_scrapes(repository, tmp_path):
    snapshots = tmp_path / "snapshots"
    (snapshots / "ab").mkdir(parents=True)
    for name, size in (("ab/one.png", 100), ("ab/one.html", 10), ("ab/two.png", 7), ("ab/eob.pdf", 1000)):
        (snapshots / name).write_bytes(b"x" * size)
    add(repository,
        evidence(1, "ridgeline", {"screenshot": "ab/one.png", "html": "ab/one.html"}),
        evidence(2, "ridgeline", {"screenshot": "ab/one.png", "html": "ab/one.html"}),  # the same files again
        evidence(3, "carrier-b", {"screenshot": "ab/two.png", "html": "ab/gone.html", "document": "ab/eob.pdf"}))
    tally = EvidenceSizeTally(repository, snapshots, max_entries=2)
    first = tally.totals()
    assert first.behind and first.entries == {"ridgeline": 2}
    second = tally.totals()
    assert not second.behind
    assert second.entries == {"ridgeline": 2, "carrier-b": 1}
    assert second.bytes == {("ridgeline", "screenshot"): 200, ("ridgeline", "html"): 20,
                            ("carrier-b", "screenshot"): 7, ("carrier-b", "html"): 0,  # its file is missing
                            ("carrier-b", "document"): 1000}
    add(repository, evidence(4, "carrier-b", {"screenshot": "ab/two.png", "html": "ab/one.html"}))
    third = tally.totals()
    assert third.entries["carrier-b"] == 2 and third.bytes[("carrier-b", "screenshot")] == 14
    assert third.bytes[("carrier-b", "html")] == 10
