"""Importing into a real database: counts, idempotent re-imports, updates, all-or-nothing file errors, 10,000 rows."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from aggregator.overnight.appointments import COLUMNS, AppointmentFileError, detect_format, import_appointments
from aggregator.store import Repository
from aggregator.store.appointments import appointments_on, get_appointment, upsert_appointments
from aggregator.store.tables import AppointmentRow
from tests.postgres import throwaway_database

DAY = date(2026, 11, 30)
NPI = "1234567893"


def csv_row(n: int, *, day: date = DAY, dob: str = "1980-02-03", carrier: str = "ridgeline", last: str = "Okafor") -> str:
    start = datetime.combine(day, time(8)) + timedelta(minutes=15 * (n % 36))
    return (f"A{n:05d},{start:%Y-%m-%dT%H:%M},{last},Grace,{dob},{carrier},RM{n:09d},{NPI},"
            f"{'99213;97110' if n % 2 else ''},{'98' if n % 3 else ''}")


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    return Repository.open(f"sqlite:///{tmp_path}/a.db")


def test_good_rows_are_imported_and_bad_rows_named(tmp_path, repository):
    rows = [csv_row(n) for n in range(1, 11)]
    rows[2] = csv_row(3, dob="not a date")  # row 4
    rows[6] = csv_row(7, carrier="no-such-carrier")  # row 8
    report = import_appointments(repository, write_csv(tmp_path / "day.csv", rows))
    assert (report.source, report.format, report.added, report.updated, report.unchanged) == ("day.csv", "csv", 8, 0, 0)
    assert [(p.row, p.field) for p in report.problems] == [(4, "patient_dob"), (8, "carrier")]
    stored = appointments_on(repository, DAY)
    assert sorted(r.id for r in stored) == sorted(f"A{n:05d}" for n in range(1, 11) if n not in (3, 7))
    row = get_appointment(repository, "A00002")
    assert row is not None
    assert (row.starts_at, row.service_date, row.patient_dob, row.carrier, row.member_id, row.provider_npi,
            row.procedure_codes, row.service_type, row.source) == (
        datetime(2026, 11, 30, 8, 30), DAY, date(1980, 2, 3), "ridgeline", "RM000000002", NPI, None, "98", "day.csv")
    odd = get_appointment(repository, "A00001")
    assert odd is not None and odd.procedure_codes == "99213;97110" and odd.service_type == "98"
    assert get_appointment(repository, "A00003") is None


def test_reimporting_the_same_file_changes_nothing(tmp_path, repository):
    path = write_csv(tmp_path / "day.csv", [csv_row(n) for n in range(1, 6)])
    import_appointments(repository, path)
    before = {r.id: (r.updated_at, r.imported_at, r.fingerprint) for r in appointments_on(repository, DAY)}
    report = import_appointments(repository, path)
    assert (report.added, report.updated, report.unchanged, report.problems) == (0, 0, 5, [])
    assert {r.id: (r.updated_at, r.imported_at, r.fingerprint) for r in appointments_on(repository, DAY)} == before


def test_an_id_seen_again_updates_its_row(tmp_path, repository):
    import_appointments(repository, write_csv(tmp_path / "monday.csv", [csv_row(n) for n in range(1, 4)]))
    first = get_appointment(repository, "A00002")
    moved = csv_row(2, day=DAY + timedelta(days=1), last="Okafor-Bell")
    report = import_appointments(repository, write_csv(tmp_path / "tuesday.csv", [csv_row(1), moved, csv_row(4)]))
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    again = get_appointment(repository, "A00002")
    assert first is not None and again is not None
    assert (again.service_date, again.patient_last_name, again.source) == (DAY + timedelta(days=1), "Okafor-Bell",
                                                                          "tuesday.csv")
    assert again.imported_at == first.imported_at and again.updated_at > first.updated_at
    assert again.fingerprint != first.fingerprint
    assert [r.id for r in appointments_on(repository, DAY)] == ["A00001", "A00003", "A00004"]


def test_a_file_error_half_way_leaves_the_store_as_it_was(tmp_path, repository):
    """Rows before the bad bytes span two write chunks; the one transaction is rolled back."""
    path = write_csv(tmp_path / "day.csv", [csv_row(n) for n in range(1, 1201)])
    with open(path, "ab") as handle:
        handle.write(b"A99999,2026-11-30T09:00,M\xfcller,Jo,1980-01-01,ridgeline,RM1,,,\n")
    with pytest.raises(AppointmentFileError, match="not UTF-8"):
        import_appointments(repository, path)
    assert appointments_on(repository, DAY) == []


def test_a_missing_column_imports_nothing(tmp_path, repository):
    path = tmp_path / "day.csv"
    path.write_text("appointment_id,appointment_start\nA1,2026-11-30T09:00\n")
    with pytest.raises(AppointmentFileError, match="missing required column"):
        import_appointments(repository, path)
    with pytest.raises(AppointmentFileError, match="no such file"):
        import_appointments(repository, tmp_path / "nope.csv")


def test_format_by_extension_or_content(tmp_path):
    for name, content, expected in (("a.json", "x", "fhir"), ("a.CSV", "{", "csv"), ("a.txt", "{", "csv"),
                                    ("export", '\ufeff  {"resourceType": "Bundle"}', "fhir"), ("export2", "a,b", "csv")):
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        assert detect_format(path) == expected, name


def test_duplicate_ids_in_one_upsert_are_refused(repository):
    from aggregator.overnight.appointments import Appointment

    one = Appointment(id="A1", starts_at=datetime(2026, 11, 30, 9), patient_last_name="L", patient_first_name="F",
                      patient_dob=date(1980, 1, 1), carrier="ridgeline", member_id="RM1")
    with pytest.raises(ValueError, match="duplicate"):
        upsert_appointments(repository, [one, one], source="x")


def _peak_import(repository: Repository, path: Path) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    try:
        report = import_appointments(repository, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report.added, peak


def test_ten_thousand_rows_stream_in_bounded_memory(tmp_path, repository):
    big = write_csv(tmp_path / "big.csv", [csv_row(n, carrier="Ridgeline Mutual" if n % 4 == 0 else "ridgeline")
                                           for n in range(1, 10_001)])
    small = write_csv(tmp_path / "small.csv", [csv_row(n) for n in range(20_001, 21_001)])
    warm = Repository.open(f"sqlite:///{tmp_path}/warm.db")  # imports, statement caches: not per-row costs
    import_appointments(warm, small)
    small_added, small_peak = _peak_import(repository, small)
    big_added, big_peak = _peak_import(repository, big)
    assert (small_added, big_added) == (1_000, 10_000)
    print(f"tracemalloc peak: 1k rows {small_peak / 1024:.0f} KiB, 10k rows {big_peak / 1024:.0f} KiB "
          f"({big_peak / small_peak:.2f}x)")
    assert big_peak < 3 * small_peak
    with repository.session() as session:
        assert session.exec(select(func.count()).select_from(AppointmentRow)).one() == 11_000


@pytest.fixture
def postgres_url():
    with throwaway_database() as url:
        yield url


def test_wall_time_survives_postgres_timestamptz_in_any_session_time_zone(tmp_path, postgres_url):
    path = write_csv(tmp_path / "day.csv", [csv_row(n) for n in range(1, 4)])
    writer = Repository.open(postgres_url + "?options=-c%20TimeZone%3DPacific/Auckland")
    assert import_appointments(writer, path).added == 3
    writer.engine.dispose()
    reader = Repository.open(postgres_url + "?options=-c%20TimeZone%3DAmerica/Los_Angeles")
    rows = appointments_on(reader, DAY)
    assert [(r.id, r.starts_at) for r in rows] == [("A00001", datetime(2026, 11, 30, 8, 15)),
                                                   ("A00002", datetime(2026, 11, 30, 8, 30)),
                                                   ("A00003", datetime(2026, 11, 30, 8, 45))]
    assert import_appointments(reader, path).unchanged == 3
    reader.engine.dispose()
