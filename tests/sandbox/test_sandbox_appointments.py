"""The sandbox's appointment lists: deterministic, every row's kind true of the dataset, writers that import back."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, time, timedelta

import pytest

from aggregator.models import Relationship, ServiceType
from aggregator.overnight.appointments import COLUMNS, Appointment, RowProblem, read_csv, read_fhir_bundle
from aggregator.scrapers.registry import all_adapters
from sandbox.appointments import HIDDEN_FIELDS, appointment_list, write_csv, write_fhir_bundle
from sandbox.carriers import profiles
from sandbox.dataset import Dataset
from sandbox.identifiers import npi_valid

DAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def rows(dataset: Dataset) -> list[dict]:
    return appointment_list(dataset, DAY, 90)


def slug(row: dict) -> str:
    return next(s for s, p in profiles().items() if row["carrier"] in (s, p.display_name))


def test_deterministic_and_shaped(dataset, rows):
    assert appointment_list(dataset, DAY, 90) == rows
    assert appointment_list(dataset, DAY + timedelta(days=1), 90) != rows
    assert appointment_list(dataset, DAY, 90, seed=7) != rows
    assert len(rows) == 90 and list(rows[0]) == [*COLUMNS, *HIDDEN_FIELDS]
    assert [r["appointment_id"] for r in rows] == [f"A261130-{n:04d}" for n in range(1, 91)]
    starts = [r["appointment_start"] for r in rows]
    assert starts == sorted(starts)
    assert all(s.date() == DAY and time(8) <= s.time() <= time(16, 45) and s.minute % 15 == 0 for s in starts)
    assert {r["provider_npi"] for r in rows} == {dataset.provider.npi} and npi_valid(dataset.provider.npi)


def test_every_carrier_and_both_ways_of_naming_it(rows):
    assert set(map(slug, rows)) == set(profiles())
    names = Counter(r["carrier"] in profiles() for r in rows)
    assert names[True] > names[False] > 0


def test_each_kind_is_true_of_the_dataset(dataset, rows):
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) == {"active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob"}
    assert kinds["active_subscriber"] + kinds["dependent"] > len(rows) / 2  # mostly active members
    for row in rows:
        data = dataset.carrier(slug(row))
        member = data.member(row["member_id"])
        if row["kind"] == "not_found":
            assert member is None and row["needs_prior_auth"] is None
            continue
        assert member is not None
        assert (row["patient_last_name"], row["patient_first_name"]) == (member.last_name, member.first_name)
        assert (row["patient_dob"] == member.date_of_birth) is (row["kind"] != "wrong_dob")
        assert row["patient_dob"] <= DAY
        expected = {"active_subscriber": "active", "dependent": "active", "wrong_dob": "active", "termed": "termed",
                    "future": "future"}[row["kind"]]
        assert member.coverage_kind(DAY) == expected
        if row["kind"] in ("active_subscriber", "dependent"):
            assert (member.relationship is Relationship.SELF) is (row["kind"] == "active_subscriber")


def test_about_a_third_need_prior_auth_and_authorizations_belong_to_the_member(dataset, rows):
    needing = [r for r in rows if r["needs_prior_auth"]]
    assert 0.2 * len(rows) <= len(needing) <= 0.4 * len(rows)
    with_auth = [r for r in rows if r["authorization"]]
    assert len(with_auth) >= 5
    for row in rows:
        if row["kind"] == "not_found":
            continue
        data = dataset.carrier(slug(row))
        plan = data.plan_for(data.member(row["member_id"]))
        if row["service_type"] is not None:
            assert (row["service_type"] in plan.prior_auth) is row["needs_prior_auth"]
        else:
            assert row["procedure_codes"] or not row["needs_prior_auth"]
        if row["authorization"]:
            auth = data.authorizations[row["authorization"]]
            assert auth.member_id == row["member_id"] and row["needs_prior_auth"]
            assert row["service_type"] in (None, auth.service_type)
            assert set(row["procedure_codes"]) <= {s.procedure_code for s in auth.services}
    assert any(r["procedure_codes"] and r["service_type"] for r in needing)
    assert any(not r["procedure_codes"] and not r["service_type"] for r in rows)  # no codes at all happens too


def test_one_carrier_only(dataset):
    only = appointment_list(dataset, DAY, 12, carriers=("ridgeline",))
    assert {slug(r) for r in only} == {"ridgeline"}


def known(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """Rows whose carrier has an adapter in the registry (imported), and the others (an unknown carrier)."""
    slugs = {cls.manifest.slug for cls in all_adapters()}
    return [r for r in rows if slug(r) in slugs], [r for r in rows if slug(r) not in slugs]


def expected_appointment(row: dict) -> Appointment:
    return Appointment(
        id=row["appointment_id"], starts_at=row["appointment_start"], patient_last_name=row["patient_last_name"],
        patient_first_name=row["patient_first_name"], patient_dob=row["patient_dob"], carrier=slug(row),
        member_id=row["member_id"], provider_npi=row["provider_npi"], procedure_codes=tuple(row["procedure_codes"]),
        service_type=ServiceType(row["service_type"]) if row["service_type"] else None)


@pytest.mark.parametrize("date_style", ["iso", "us"])
def test_csv_round_trip(tmp_path, rows, date_style):
    path = write_csv(rows, tmp_path / "list.csv", date_style=date_style)
    with open(path, newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == list(COLUMNS)  # hidden fields left out
    items = list(read_csv(path))
    good, other = known(rows)
    assert [i for i in items if isinstance(i, Appointment)] == [expected_appointment(r) for r in good]
    problems = [i for i in items if isinstance(i, RowProblem)]
    rows_by_number = {n: r for n, r in enumerate(rows, start=2)}
    assert sorted(rows_by_number[p.row]["appointment_id"] for p in problems) == sorted(r["appointment_id"] for r in other)
    assert {p.field for p in problems} <= {"carrier"}


def test_fhir_round_trip(tmp_path, rows):
    path = write_fhir_bundle(rows, tmp_path / "list.json")
    text = path.read_text()
    assert all(f'"{hidden}"' not in text for hidden in HIDDEN_FIELDS)
    bundle = json.loads(text)
    types = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert types["Appointment"] == 90 and types["Practitioner"] == 1 and types["Patient"] == types["Coverage"]
    items = list(read_fhir_bundle(path))
    good, other = known(rows)
    assert [i for i in items if isinstance(i, Appointment)] == [expected_appointment(r) for r in good]
    problems = [i for i in items if isinstance(i, RowProblem)]
    assert len(problems) == len(other) and {p.field for p in problems} <= {"carrier"}


# --- payers reached only through a sandbox hub (Crossway's) ------------------------------------------

def test_a_hub_day_books_the_hub_payers_members_with_the_same_mix(dataset):
    from sandbox.appointments import hub_day, payer_of
    from sandbox.carriers import hub_payers, payer_source

    day = hub_day(dataset, DAY, 400)
    assert hub_day(dataset, DAY, 400) == day and len(day) == 400
    assert [r["appointment_id"] for r in day] == [f"A261130-{n:04d}" for n in range(1, 401)]
    payers = Counter(payer_of(r) for r in day)
    assert set(payers) == set(hub_payers()) and len(payers) >= 2
    assert max(payers.values()) - min(payers.values()) <= 1, "the payers share the day evenly"
    assert Counter(r["carrier"] in hub_payers() for r in day)[False] > 0, "some rows name the payer by its name"
    kinds = Counter(r["kind"] for r in day)
    assert set(kinds) == {"active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob"}
    for row in day:  # every kind true of the hub's data
        data = payer_source(dataset, payer_of(row)).carrier(payer_of(row))
        member = data.member(row["member_id"])
        if row["kind"] == "not_found":
            assert member is None
            continue
        assert member is not None and (row["patient_dob"] == member.date_of_birth) == (row["kind"] != "wrong_dob")
        expected = {"termed": "termed", "future": "future"}.get(row["kind"], "active")
        assert member.coverage_kind(DAY) == expected


def test_the_default_day_names_no_hub_payer_and_is_unchanged_by_them(dataset, rows):
    from sandbox.appointments import hub_day, payer_of, with_hub_visits
    from sandbox.carriers import hub_payers

    assert not any(payer_of(r) in hub_payers() for r in rows)
    extra = hub_day(dataset, DAY, 8)
    merged = with_hub_visits(rows, extra)
    assert len(merged) == 98 and [r["appointment_id"] for r in merged] == [f"A261130-{n:04d}" for n in range(1, 99)]
    strip = lambda r: {k: v for k, v in r.items() if k != "appointment_id"}  # noqa: E731
    assert sorted(map(str, map(strip, merged))) == sorted(map(str, map(strip, [*rows, *extra])))
    assert [r["appointment_start"] for r in merged] == sorted(r["appointment_start"] for r in merged)


def test_expected_eligibility_of_a_hub_payers_row_is_the_hubs_ground_truth(dataset):
    from aggregator.models import CoverageStatus, EligibilityQuery, EligibilityRecord, MemberNotFound, RejectReason
    from sandbox.appointments import hub_day, payer_of
    from sandbox.batch_truth import expected_eligibility
    from sandbox.crossway import truth

    reasons = {"not_found": RejectReason.NOT_FOUND, "wrong_dob": RejectReason.DOB_MISMATCH}
    for row in hub_day(dataset, DAY, 60):
        expected = expected_eligibility(dataset, row)
        query = EligibilityQuery(member_id=row["member_id"], date_of_birth=row["patient_dob"], service_date=DAY,
                                 last_name=row["patient_last_name"])
        assert expected == truth.eligibility(dataset, payer_of(row), query)
        assert expected.carrier == payer_of(row)
        if row["kind"] in reasons:
            assert isinstance(expected, MemberNotFound) and expected.reject_reason == reasons[row["kind"]]
        else:
            assert isinstance(expected, EligibilityRecord)
            active = row["kind"] in ("active_subscriber", "dependent")
            assert (expected.coverage.status == CoverageStatus.ACTIVE) == active


def test_a_hub_day_round_trips_through_csv_and_fhir_with_the_payer_slugs(tmp_path, dataset):
    from sandbox.appointments import hub_day, payer_of

    day = hub_day(dataset, DAY, 12)
    for path in (write_csv(day, tmp_path / "hub.csv"), write_fhir_bundle(day, tmp_path / "hub.json")):
        items = list(read_csv(path) if path.suffix == ".csv" else read_fhir_bundle(path))
        assert [i for i in items if isinstance(i, RowProblem)] == []
        assert [(i.id, i.carrier, i.member_id) for i in items] == [
            (r["appointment_id"], payer_of(r), r["member_id"]) for r in day]
