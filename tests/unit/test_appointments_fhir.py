"""Reading appointments from a FHIR R4 Bundle: which element gives which field, and named problems."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aggregator.models import ServiceType
from aggregator.overnight.appointments import Appointment, AppointmentFileError, RowProblem, read_fhir_bundle

NPI = "1234567893"
X12 = "https://x12.org/codes/service-type-codes"
CPT = "http://www.ama-assn.org/go/cpt"


def patient(pid: str, family: str = "Okafor", given: str = "Grace", dob: str = "1980-02-03") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "birthDate": dob,
            "name": [{"use": "nickname", "given": ["Gigi"]}, {"use": "official", "family": family, "given": [given, "A"]}]}


def coverage(cid: str, pid: str, member_id: str = "rm-123456789", payor: str = "Ridgeline Mutual",
             **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Coverage", "id": cid, "status": "active", "beneficiary": {"reference": f"Patient/{pid}"},
            "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                 "code": "MB"}]}, "value": member_id}],
            "subscriberId": "RM999999999", "payor": [{"display": payor}], **extra}


def appointment(aid: str, pid: str, start: str = "2026-11-30T09:15:00-05:00", status: str = "booked",
                codes: tuple[tuple[str, str], ...] = ((X12, "62"), (CPT, "70551"), (CPT, "72148")),
                practitioner: bool = True, identifier: str | None = None) -> dict[str, Any]:
    participants = [{"actor": {"reference": f"Patient/{pid}"}}]
    if practitioner:
        participants.insert(0, {"actor": {"reference": "Practitioner/pr1"}})
    resource = {"resourceType": "Appointment", "id": aid, "status": status, "start": start,
                "participant": participants,
                "serviceType": [{"coding": [{"system": s, "code": c}]} for s, c in codes]
                + [{"coding": [{"system": "http://snomed.info/sct", "code": "394802001"}]}]}
    if identifier:
        resource["identifier"] = [{"system": "urn:practice", "value": identifier}]
    return resource


PRACTITIONER = {"resourceType": "Practitioner", "id": "pr1",
                "identifier": [{"system": "urn:other", "value": "x"}, {"system": "http://hl7.org/fhir/sid/us-npi",
                                                                       "value": NPI}]}


def bundle(tmp_path: Path, *resources: dict[str, Any], name: str = "b.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}", "resource": r}
                                          for r in resources]}))
    return path


def read(path: Path, **kwargs) -> tuple[list[Appointment], list[RowProblem]]:
    items = list(read_fhir_bundle(path, **kwargs))
    return [i for i in items if isinstance(i, Appointment)], [i for i in items if isinstance(i, RowProblem)]


def test_an_appointment_with_its_patient_coverage_and_practitioner(tmp_path):
    path = bundle(tmp_path, appointment("a1", "p1", identifier="APT-77"), PRACTITIONER, coverage("c1", "p1"),
                  patient("p1"))
    [found], problems = read(path)
    assert problems == []
    assert found == Appointment(
        id="APT-77", starts_at=datetime(2026, 11, 30, 9, 15), patient_last_name="Okafor", patient_first_name="Grace",
        patient_dob=date(1980, 2, 3), carrier="ridgeline", member_id="RM123456789", provider_npi=NPI,
        procedure_codes=("70551", "72148"), service_type=ServiceType.MRI_CAT_SCAN)


def test_fallbacks_resource_id_subscriber_id_organization_and_npi_identifier(tmp_path):
    cov = coverage("c1", "p1", payor="")
    del cov["identifier"]
    cov["payor"] = [{"reference": "urn:uuid:Organization-o1"}]
    appt = appointment("a1", "p1", codes=(), practitioner=False)
    appt["participant"].append({"actor": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": NPI}}})
    organization = {"resourceType": "Organization", "id": "o1", "name": "ridgeline"}
    [found], problems = read(bundle(tmp_path, appt, cov, patient("p1"), organization))
    assert problems == []
    assert (found.id, found.member_id, found.carrier, found.provider_npi, found.service_type, found.procedure_codes) \
        == ("a1", "RM999999999", "ridgeline", NPI, None, ())


def test_problems_name_the_entry_and_the_resource_at_fault(tmp_path):
    path = bundle(
        tmp_path,
        patient("p1"), coverage("c1", "p1"), PRACTITIONER,
        appointment("a1", "p1", start="2026-11-31T09:00:00-05:00"),  # entry 3: no such day
        patient("p2", dob="1980-02-30"), coverage("c2", "p2", payor="Acme Health"),
        appointment("a2", "p2"),  # entry 6: bad DOB (Patient/p2) and unknown carrier (Coverage/c2)
        appointment("a3", "p1", status="cancelled"),  # entry 7
        appointment("a4", "nobody"),  # entry 8
        patient("p3"), appointment("a5", "p3"),  # entry 10: no coverage
        patient("p4"), coverage("c4a", "p4"), coverage("c4b", "p4"), appointment("a6", "p4"),  # entry 14: two
        appointment("a7", "p1", codes=((X12, "62"), (X12, "PT"))),  # entry 15
        appointment("a8", "p1", codes=((CPT, "7055"),)),  # entry 16
        appointment("a9", "p1"),  # entry 17: good
    )
    appointments, problems = read(path)
    assert [a.id for a in appointments] == ["a9"]
    assert {(p.row, p.field, p.resource) for p in problems} == {
        (3, "appointment_start", "Appointment/a1"),
        (6, "patient_dob", "Patient/p2"), (6, "carrier", "Coverage/c2"),
        (7, "status", "Appointment/a3"),
        (8, "patient", "Appointment/a4"),
        (10, "member_id", "Patient/p3"),
        (14, "member_id", "Patient/p4"),
        (15, "service_type", "Appointment/a7"),
        (16, "procedure_codes", "Appointment/a8"),
    }
    reasons = {(p.row, p.field): p.reason for p in problems}
    assert reasons[(7, "status")] == "status is cancelled: not imported"
    assert reasons[(10, "member_id")] == "no Coverage for the patient in the bundle"
    assert "Coverage.order" in reasons[(14, "member_id")]
    assert "1980" not in reasons[(6, "patient_dob")]


def test_coverage_order_and_cancelled_coverages(tmp_path):
    path = bundle(tmp_path, patient("p1"), coverage("c1", "p1", member_id="RM000000002", order=2),
                  coverage("c2", "p1", member_id="RM000000001", order=1),
                  coverage("c3", "p1", member_id="RM000000003", status="cancelled"),
                  appointment("a1", "p1"))
    [found], problems = read(path)
    assert problems == [] and found.member_id == "RM000000001"


def test_duplicate_appointment_ids_name_the_first_entry(tmp_path):
    path = bundle(tmp_path, patient("p1"), coverage("c1", "p1"), appointment("a1", "p1", identifier="X1"),
                  appointment("a2", "p1", identifier="X2"), appointment("a3", "p1", identifier="X1"))
    appointments, problems = read(path)
    assert [a.id for a in appointments] == ["X1", "X2"]
    assert problems == [RowProblem(4, "appointment_id", "duplicate of entry[2]", "Appointment/a3")]


def test_utc_instants_need_the_practice_time_zone(tmp_path):
    path = bundle(tmp_path, patient("p1"), coverage("c1", "p1"), appointment("a1", "p1", start="2026-11-30T14:15:00Z"))
    assert [p.field for p in read(path)[1]] == ["appointment_start"]
    [found], problems = read(path, timezone=ZoneInfo("America/New_York"))
    assert problems == [] and found.starts_at == datetime(2026, 11, 30, 9, 15)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"resourceType": "Patient", "id": "p1"}', "not a FHIR Bundle"),
    ("[1, 2]", "not a FHIR Bundle"),
])
def test_file_errors(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(AppointmentFileError, match=message):
        list(read_fhir_bundle(path))


def test_an_empty_bundle_has_nothing(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"resourceType": "Bundle", "type": "collection"}')
    assert list(read_fhir_bundle(path)) == []
