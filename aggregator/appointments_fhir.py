"""Reading one appointment's raw values out of a FHIR R4 Bundle (used by `appointments.read_fhir_bundle`).

Which element gives which column (docs/appointments.md):
- appointment_id: the Appointment's first `identifier.value` (the practice system's id), else its `id`
- appointment_start: `Appointment.start`; statuses cancelled / noshow / entered-in-error are not imported
- patient: the one `participant.actor` that is a Patient in the bundle: `name` (use official, else the
  first) `family` and first `given`, and `birthDate`
- member_id, carrier: the patient's Coverage in the bundle (`beneficiary`), not cancelled; several ->
  the lowest `order`. Member id: the `identifier` typed v2-0203 `MB`, else `subscriberId`. Carrier:
  `payor[0].display`, else the name of the Organization it references
- provider_npi: the first participant Practitioner's `identifier` with system us-npi (or an actor given
  by that identifier)
- service_type / procedure_codes: `Appointment.serviceType` codings by system (X12 service type codes;
  CPT or HCPCS). Codings of other systems are left alone.
Nothing here validates values; `appointments.validate_row` does, as for a CSV row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aggregator.appointments import RowProblem

X12_SERVICE_TYPE_SYSTEMS = frozenset({
    "https://x12.org/codes/service-type-codes", "https://codesystem.x12.org/005010/1365",
})
PROCEDURE_SYSTEMS = frozenset({
    "http://www.ama-assn.org/go/cpt", "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
})
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
MEMBER_NUMBER_TYPE = ("http://terminology.hl7.org/CodeSystem/v2-0203", "MB")
NOT_IMPORTED_STATUSES = frozenset({"cancelled", "noshow", "entered-in-error"})
INACTIVE_COVERAGE = frozenset({"cancelled", "entered-in-error", "draft"})

Resource = dict[str, Any]


def _text(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _ref(resource: Resource) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


class BundleIndex:
    """The bundle's resources by reference ("Patient/p1", or an entry's fullUrl) and coverages by patient."""

    def __init__(self, entries: list[Any]) -> None:
        self.entries = [(i, e.get("resource")) for i, e in enumerate(entries)
                        if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
        self._by_reference: dict[str, Resource] = {}
        for position, resource in self.entries:
            self._by_reference[_ref(resource)] = resource
            full_url = entries[position].get("fullUrl")
            if isinstance(full_url, str):
                self._by_reference[full_url] = resource
        self._coverages: dict[int, list[Resource]] = {}
        for _, resource in self.entries:
            if resource.get("resourceType") == "Coverage":
                patient = self.resolve((resource.get("beneficiary") or {}).get("reference"))
                if patient is not None:
                    self._coverages.setdefault(id(patient), []).append(resource)

    def appointments(self) -> Iterator[tuple[int, Resource]]:
        return ((i, r) for i, r in self.entries if r.get("resourceType") == "Appointment")

    def resolve(self, reference: object) -> Resource | None:
        if not isinstance(reference, str):
            return None
        if reference in self._by_reference:
            return self._by_reference[reference]
        parts = reference.rstrip("/").split("/")  # an absolute URL ending in Type/id
        return self._by_reference.get("/".join(parts[-2:])) if len(parts) >= 2 else None

    def coverages_for(self, patient: Resource) -> list[Resource]:
        return [c for c in self._coverages.get(id(patient), []) if c.get("status") not in INACTIVE_COVERAGE]


def appointment_values(index: BundleIndex, position: int, appointment: Resource
                       ) -> tuple[dict[str, str], dict[str, str], list[RowProblem]]:
    """(column -> raw text, column -> resource at fault, problems that stop the row before validation)."""
    here = _ref(appointment)
    values: dict[str, str] = {"appointment_id": _appointment_id(appointment),
                              "appointment_start": _text(appointment.get("start"))}
    resources = {"appointment_id": here, "appointment_start": here, "service_type": here,
                 "procedure_codes": here, "provider_npi": here}
    status = _text(appointment.get("status"))
    if status in NOT_IMPORTED_STATUSES:
        return values, resources, [RowProblem(position, "status", f"status is {status}: not imported", here)]

    patients: list[Resource] = []
    npis: list[tuple[str, str]] = []
    for participant in appointment.get("participant") or []:
        actor = (participant or {}).get("actor") or {}
        target = index.resolve(actor.get("reference"))
        if target is not None and target.get("resourceType") == "Patient":
            patients.append(target)
        elif target is not None and target.get("resourceType") == "Practitioner":
            npis.extend((npi, _ref(target)) for npi in _identifier_values(target, NPI_SYSTEM))
        elif _text((actor.get("identifier") or {}).get("system")) == NPI_SYSTEM:
            npis.append((_text(actor["identifier"].get("value")), here))
    if len(patients) != 1:
        reason = "no Patient participant found in the bundle" if not patients else "more than one Patient participant"
        return values, resources, [RowProblem(position, "patient", reason, here)]
    patient = patients[0]
    if npis:
        values["provider_npi"], resources["provider_npi"] = npis[0]

    name = _official_name(patient)
    given = name.get("given") or [""]
    values.update(patient_last_name=_text(name.get("family")), patient_first_name=_text(given[0]),
                  patient_dob=_text(patient.get("birthDate")))
    for column in ("patient_last_name", "patient_first_name", "patient_dob"):
        resources[column] = _ref(patient)

    coverages = sorted(index.coverages_for(patient), key=lambda c: c.get("order") or 0)
    if not coverages:
        return values, resources, [RowProblem(position, "member_id", "no Coverage for the patient in the bundle",
                                              _ref(patient))]
    if len(coverages) > 1 and (coverages[0].get("order") or 0) == (coverages[1].get("order") or 0):
        return values, resources, [RowProblem(position, "member_id", "several Coverages for the patient: "
                                              "set Coverage.order to say which is primary", _ref(patient))]
    coverage = coverages[0]
    values["member_id"] = _member_id(coverage)
    values["carrier"] = _payor(index, coverage)
    resources["member_id"] = resources["carrier"] = _ref(coverage)

    problems: list[RowProblem] = []
    service_types: list[str] = []
    procedures: list[str] = []
    for concept in appointment.get("serviceType") or []:
        for coding in (concept or {}).get("coding") or []:
            system, code = _text(coding.get("system")), _text(coding.get("code"))
            if system in X12_SERVICE_TYPE_SYSTEMS:
                service_types.append(code)
            elif system in PROCEDURE_SYSTEMS:
                procedures.append(code)
    if len(set(service_types)) > 1:
        problems.append(RowProblem(position, "service_type", "more than one X12 service type", here))
    values["service_type"] = service_types[0] if service_types else ""
    values["procedure_codes"] = ";".join(procedures)
    return values, resources, problems


def _appointment_id(appointment: Resource) -> str:
    for identifier in appointment.get("identifier") or []:
        if _text((identifier or {}).get("value")).strip():
            return _text(identifier["value"])
    return _text(appointment.get("id"))


def _identifier_values(resource: Resource, system: str) -> list[str]:
    return [_text(i.get("value")) for i in resource.get("identifier") or [] if _text((i or {}).get("system")) == system]


def _official_name(patient: Resource) -> dict[str, Any]:
    names = [n for n in patient.get("name") or [] if isinstance(n, dict)]
    for name in names:
        if name.get("use") == "official":
            return name
    return names[0] if names else {}


def _member_id(coverage: Resource) -> str:
    for identifier in coverage.get("identifier") or []:
        for coding in ((identifier or {}).get("type") or {}).get("coding") or []:
            if (coding.get("system"), coding.get("code")) == MEMBER_NUMBER_TYPE:
                return _text(identifier.get("value"))
    return _text(coverage.get("subscriberId"))


def _payor(index: BundleIndex, coverage: Resource) -> str:
    payors = coverage.get("payor") or [{}]
    payor = payors[0] or {}
    if _text(payor.get("display")).strip():
        return _text(payor["display"])
    organization = index.resolve(payor.get("reference"))
    return _text((organization or {}).get("name"))
