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
Nothing here validates values; `appointments.validate_row` does, as for a CSV row. What is checked here
is the shape: an element the mapping reads that has the wrong JSON type (a string where FHIR has a list
or an object, a number where it has a string) is a problem naming the entry, the element's path
(`Appointment.participant[0].actor`) and what it must be, never a crash and never silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from aggregator.models.appointments import RowProblem

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
P = ParamSpec("P")
R = TypeVar("R")

_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number",
               float: "a number", type(None): "null"}


class ShapeError(ValueError):
    """An element has the wrong JSON type. `path` is FHIRPath-like, `resource` the resource it is in."""

    def __init__(self, path: str, expected: str, found: object, resource: str | None = None) -> None:
        self.path, self.resource = path, resource
        self.reason = f"{path} must be {expected}, found {_JSON_TYPES.get(type(found), 'another type')}"
        super().__init__(self.reason)


def _obj(value: object, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise ShapeError(path, "an object", value)


def _list(value: object, path: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise ShapeError(path, "a list", value)


def _str(value: object, path: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise ShapeError(path, "a string", value)


def _ref(resource: Resource) -> str:
    kind, rid = resource.get("resourceType"), resource.get("id")
    return f"{kind if isinstance(kind, str) else '?'}/{rid if isinstance(rid, str) else '?'}"


class BundleIndex:
    """The bundle's resources by reference ("Patient/p1", or an entry's fullUrl) and coverages by patient.

    Entries that are not an object holding a resource object, and Coverages whose elements have the
    wrong type, are kept in `problems` (by entry position) instead of being used.
    """

    def __init__(self, entries: list[Any]) -> None:
        self.problems: list[RowProblem] = []
        self.entries: list[tuple[int, Resource]] = []
        self._by_reference: dict[str, Resource] = {}
        for position, entry in enumerate(entries):
            try:
                resource = self._resource_of(position, entry)
            except ShapeError as error:
                self.problems.append(RowProblem(position, error.path, error.reason, error.resource))
                continue
            self.entries.append((position, resource))
            self._by_reference[_ref(resource)] = resource
            if entry.get("fullUrl"):
                self._by_reference[entry["fullUrl"]] = resource
        self._coverages: dict[int, list[Resource]] = {}
        for position, resource in self.entries:
            if resource["resourceType"] != "Coverage":
                continue
            try:
                beneficiary = _obj(resource.get("beneficiary"), "Coverage.beneficiary")
                patient = self.resolve(_str(beneficiary.get("reference"), "Coverage.beneficiary.reference"))
                _str(resource.get("status"), "Coverage.status")
                order = resource.get("order")
                if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
                    raise ShapeError("Coverage.order", "a whole number", order)
            except ShapeError as error:
                self.problems.append(RowProblem(position, error.path, error.reason, _ref(resource)))
                continue
            if patient is not None:
                self._coverages.setdefault(id(patient), []).append(resource)

    @staticmethod
    def _resource_of(position: int, entry: object) -> Resource:
        where = f"entry[{position}]"
        if not isinstance(entry, dict):
            raise ShapeError(where, "an object", entry)
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            raise ShapeError(f"{where}.resource", "an object", resource)
        _str(entry.get("fullUrl"), f"{where}.fullUrl")
        kind = resource.get("resourceType")
        if not isinstance(kind, str) or not kind:
            raise ShapeError(f"{where}.resource.resourceType", "a resource type name", kind)
        _str(resource.get("id"), f"{kind}.id")
        return resource

    def appointments(self) -> Iterator[tuple[int, Resource]]:
        return ((i, r) for i, r in self.entries if r["resourceType"] == "Appointment")

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
    values: dict[str, str] = {}
    resources = {"appointment_id": here, "appointment_start": here, "service_type": here,
                 "procedure_codes": here, "provider_npi": here}
    try:
        return _appointment_values(index, position, appointment, values, resources)
    except ShapeError as error:
        return values, resources, [RowProblem(position, error.path, error.reason, error.resource or here)]


def _appointment_values(index: BundleIndex, position: int, appointment: Resource, values: dict[str, str],
                        resources: dict[str, str]) -> tuple[dict[str, str], dict[str, str], list[RowProblem]]:
    here = resources["appointment_id"]
    values.update(appointment_id=_appointment_id(appointment),
                  appointment_start=_str(appointment.get("start"), "Appointment.start"))
    status = _str(appointment.get("status"), "Appointment.status")
    if status in NOT_IMPORTED_STATUSES:
        return values, resources, [RowProblem(position, "status", f"status is {status}: not imported", here)]

    patients: list[Resource] = []
    npis: list[tuple[str, str]] = []
    for number, participant in enumerate(_list(appointment.get("participant"), "Appointment.participant")):
        path = f"Appointment.participant[{number}]"
        actor = _obj(_obj(participant, path).get("actor"), f"{path}.actor")
        target = index.resolve(_str(actor.get("reference"), f"{path}.actor.reference"))
        identifier = _obj(actor.get("identifier"), f"{path}.actor.identifier")
        if target is not None and target["resourceType"] == "Patient":
            patients.append(target)
        elif target is not None and target["resourceType"] == "Practitioner":
            npis.extend((npi, _ref(target)) for npi in _in(target, _identifier_values, target, NPI_SYSTEM))
        elif _str(identifier.get("system"), f"{path}.actor.identifier.system") == NPI_SYSTEM:
            npis.append((_str(identifier.get("value"), f"{path}.actor.identifier.value"), here))
    if len(patients) != 1:
        reason = "no Patient participant found in the bundle" if not patients else "more than one Patient participant"
        return values, resources, [RowProblem(position, "patient", reason, here)]
    patient = patients[0]
    if npis:
        values["provider_npi"], resources["provider_npi"] = npis[0]

    family, given, birth_date = _in(patient, _patient_fields, patient)
    values.update(patient_last_name=family, patient_first_name=given, patient_dob=birth_date)
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
    values["member_id"] = _in(coverage, _member_id, coverage)
    values["carrier"] = _in(coverage, _payor, index, coverage)
    resources["member_id"] = resources["carrier"] = _ref(coverage)

    problems: list[RowProblem] = []
    service_types: list[str] = []
    procedures: list[str] = []
    for number, concept in enumerate(_list(appointment.get("serviceType"), "Appointment.serviceType")):
        path = f"Appointment.serviceType[{number}]"
        for index_, coding in enumerate(_list(_obj(concept, path).get("coding"), f"{path}.coding")):
            coding = _obj(coding, f"{path}.coding[{index_}]")
            system = _str(coding.get("system"), f"{path}.coding[{index_}].system")
            code = _str(coding.get("code"), f"{path}.coding[{index_}].code")
            if system in X12_SERVICE_TYPE_SYSTEMS:
                service_types.append(code)
            elif system in PROCEDURE_SYSTEMS:
                procedures.append(code)
    if len(set(service_types)) > 1:
        problems.append(RowProblem(position, "service_type", "more than one X12 service type", here))
    values["service_type"] = service_types[0] if service_types else ""
    values["procedure_codes"] = ";".join(procedures)
    return values, resources, problems


def _in(resource: Resource, read: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call `read(*args)`, labelling a shape problem with the resource it is in (Patient/p1, Coverage/c1)."""
    try:
        return read(*args, **kwargs)
    except ShapeError as error:
        error.resource = error.resource or _ref(resource)
        raise


def _appointment_id(appointment: Resource) -> str:
    for number, identifier in enumerate(_list(appointment.get("identifier"), "Appointment.identifier")):
        value = _str(_obj(identifier, f"Appointment.identifier[{number}]").get("value"),
                     f"Appointment.identifier[{number}].value")
        if value.strip():
            return value
    return _str(appointment.get("id"), "Appointment.id")


def _identifier_values(resource: Resource, system: str) -> list[str]:
    kind = resource["resourceType"]
    found = []
    for number, identifier in enumerate(_list(resource.get("identifier"), f"{kind}.identifier")):
        identifier = _obj(identifier, f"{kind}.identifier[{number}]")
        if _str(identifier.get("system"), f"{kind}.identifier[{number}].system") == system:
            found.append(_str(identifier.get("value"), f"{kind}.identifier[{number}].value"))
    return found


def _patient_fields(patient: Resource) -> tuple[str, str, str]:
    """(family, first given, birthDate) from the official name, else the first one."""
    names = [_obj(name, f"Patient.name[{n}]") for n, name in enumerate(_list(patient.get("name"), "Patient.name"))]
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    where = f"Patient.name[{names.index(chosen)}]" if names else "Patient.name"
    given = _list(chosen.get("given"), f"{where}.given")
    return (_str(chosen.get("family"), f"{where}.family"), _str(given[0] if given else None, f"{where}.given[0]"),
            _str(patient.get("birthDate"), "Patient.birthDate"))


def _member_id(coverage: Resource) -> str:
    for number, identifier in enumerate(_list(coverage.get("identifier"), "Coverage.identifier")):
        path = f"Coverage.identifier[{number}]"
        identifier = _obj(identifier, path)
        codings = _list(_obj(identifier.get("type"), f"{path}.type").get("coding"), f"{path}.type.coding")
        for index_, coding in enumerate(codings):
            coding = _obj(coding, f"{path}.type.coding[{index_}]")
            if (coding.get("system"), coding.get("code")) == MEMBER_NUMBER_TYPE:
                return _str(identifier.get("value"), f"{path}.value")
    return _str(coverage.get("subscriberId"), "Coverage.subscriberId")


def _payor(index: BundleIndex, coverage: Resource) -> str:
    payors = _list(coverage.get("payor"), "Coverage.payor") or [{}]
    payor = _obj(payors[0], "Coverage.payor[0]")
    display = _str(payor.get("display"), "Coverage.payor[0].display")
    if display.strip():
        return display
    organization = index.resolve(_str(payor.get("reference"), "Coverage.payor[0].reference"))
    return _in(organization, _str, organization.get("name"), "Organization.name") if organization else ""
