"""Property-based tests of the appointment importers (CSV and FHIR R4 Bundle): whatever the file holds,
the reader gives imported rows and/or problems with row, field and why, or one file-level error
(AppointmentFileError); never a traceback.

Bounded and deterministic (derandomize): the same examples every run.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aggregator.overnight.appointments import (
    COLUMNS,
    Appointment,
    AppointmentFileError,
    RowProblem,
    read_csv,
    read_fhir_bundle,
)
from tests.carrier_params import slugs as carrier_slugs

from .budget import fuzz_settings
from .json_tree import element_paths, replace_each

FUZZ = fuzz_settings(250)

CELL = st.one_of(
    st.sampled_from(["A1", "2026-11-30T09:15", "11/30/2026 9:15 AM", "Okafor", "Grace", "1980-02-03", "02/03/1980",
                     *carrier_slugs(), "RM123456789", "1234567893", "99213;70551", "98", "", " ", "=1+1",
                     "2026-11-30T14:15Z", "1980-02-30", "9999-12-31T23:59", "\u202eOkafor", "O\x00kafor"]),
    st.text(max_size=20),
)


def _write(data: bytes, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    with handle:
        handle.write(data)
    return Path(handle.name)


def _read_all(reader, path: Path) -> list[Appointment | RowProblem] | None:  # type: ignore[no-untyped-def]
    """The reader's items, or None for a file-level error; any other exception fails the test."""
    try:
        items = list(reader(path))
    except AppointmentFileError as error:
        assert error.reason and "\n" not in error.reason
        return None
    finally:
        path.unlink()
    for item in items:
        assert isinstance(item, (Appointment, RowProblem)), item
        if isinstance(item, RowProblem):
            assert isinstance(item.row, int) and item.row >= 0 and item.field and item.reason
    return items


@FUZZ
@given(st.lists(st.lists(CELL, min_size=0, max_size=12), max_size=8), st.sampled_from([",", "\t"]),
       st.booleans(), st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from([csv.QUOTE_ALL, csv.QUOTE_MINIMAL]))
def test_csv_rows_of_any_cells(rows: list[list[str]], delimiter: str, bom: bool, newline: str, quoting: int):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    items = _read_all(read_csv, _write((("\ufeff" if bom else "") + out.getvalue()).encode(), ".csv"))
    if items is not None and quoting == csv.QUOTE_ALL:
        # every data row is either imported or named in a problem (blank rows excepted). Only when every
        # cell is quoted: minimal quoting leaves a line break the terminator does not name unquoted, and
        # such a file really has more rows than were written.
        named = {p.row for p in items if isinstance(p, RowProblem)}
        imported = [a for a in items if isinstance(a, Appointment)]
        assert len(imported) + len(named) <= len(rows)


@FUZZ
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_csv_any_bytes(data: bytes):
    _read_all(read_csv, _write(data, ".csv"))


# --- FHIR -----------------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def good_bundle() -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1980-02-03",
                                                "name": [{"use": "official", "family": "Okafor", "given": ["Grace"]}]}},
        {"resource": {"resourceType": "Coverage", "id": "c1", "status": "active", "order": 1,
                      "beneficiary": {"reference": "Patient/p1"}, "subscriberId": "RM123456789",
                      "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                           "code": "MB"}]}, "value": "RM123456789"}],
                      "payor": [{"display": "", "reference": "Organization/o1"}]}},
        {"resource": {"resourceType": "Organization", "id": "o1", "name": "ridgeline"}},
        {"resource": {"resourceType": "Practitioner", "id": "pr1",
                      "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}]}},
        {"resource": {"resourceType": "Appointment", "id": "a1", "status": "booked", "start": "2026-11-30T09:15:00-05:00",
                      "identifier": [{"value": "APT-1"}],
                      "participant": [{"actor": {"reference": "Patient/p1"}}, {"actor": {"reference": "Practitioner/pr1"}},
                                      {"actor": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi",
                                                                "value": "1234567893"}}}],
                      "serviceType": [{"coding": [{"system": "https://x12.org/codes/service-type-codes", "code": "62"},
                                                  {"system": "http://www.ama-assn.org/go/cpt", "code": "70551"}]}]}},
    ]}


PATHS = element_paths(good_bundle())[1:]


def test_the_unmutated_bundle_imports():
    items = _read_all(read_fhir_bundle, _write(json.dumps(good_bundle()).encode(), ".json"))
    assert [type(i).__name__ for i in items or []] == ["Appointment"]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON), min_size=1, max_size=3))
def test_fhir_bundle_with_elements_replaced_by_any_json(changes: list[tuple[tuple[Any, ...], Any]]):
    document = replace_each(good_bundle(), changes)
    _read_all(read_fhir_bundle, _write(json.dumps(document).encode(), ".json"))


@FUZZ
@given(st.one_of(JSON, st.dictionaries(st.sampled_from(["resourceType", "entry", "type"]),
                                       st.one_of(st.just("Bundle"), JSON), max_size=3)))
def test_fhir_any_json_document(document: Any):
    _read_all(read_fhir_bundle, _write(json.dumps(document).encode(), ".json"))


@FUZZ
@given(st.binary(max_size=300))
def test_fhir_any_bytes(data: bytes):
    _read_all(read_fhir_bundle, _write(data, ".json"))


_STORE = Path(tempfile.mkdtemp(prefix="fuzz-import-"))


@fuzz_settings(40)
@given(st.lists(st.lists(CELL, min_size=7, max_size=10), min_size=1, max_size=5))
def test_csv_import_into_the_store_counts_every_row(rows: list[list[str]]):
    """Through `import_appointments` into a real database: the counts add up and nothing escapes."""
    from aggregator.overnight.appointments import import_appointments
    from aggregator.store import Repository

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)  # a "\r" in a cell stays in its row
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    path = _write(out.getvalue().encode(), ".csv")
    try:
        report = import_appointments(Repository.open(f"sqlite:///{_STORE / 'aggregator.db'}"), path)
    except AppointmentFileError:
        return
    finally:
        path.unlink()
    assert report.added + report.updated + report.unchanged + report.rows_with_problems <= len(rows)
