"""What every FHIR resource of an export shares: code systems, ids and references, and the set that collects
the resources of one export (one Patient per member, one Organization per payer) before they become a Bundle.

Resources are `fhir.resources.R4B` models (the R4 line; the resources used here have the same structure in
R4 and R4B, docs/exports.md). Each is built with `model_validate`, so the model library checks every field
and every required element as it is made: nothing unvalidated reaches a Bundle.

Ids are UUID v5 of a stable key (carrier and member id, lookup id, evidence id...): the same answer exported
twice gives the same ids, and `fullUrl` is `urn:uuid:<id>` so references resolve inside the Bundle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource

from aggregator.errors import ConfigurationError
from aggregator.scrapers.registry import adapter_for

# Systems of this product's own identifiers and extensions. Not a published canonical: a receiver matches on it.
BASE = "http://carrier-portal-aggregator.local/fhir"
EXT = f"{BASE}/StructureDefinition"
SYSTEM_LOOKUP = f"{BASE}/lookup-id"
SYSTEM_APPOINTMENT = f"{BASE}/appointment-id"
SYSTEM_BATCH_ITEM = f"{BASE}/batch-item-id"
SYSTEM_CARRIER = f"{BASE}/carrier"
SYSTEM_EVIDENCE_ID = f"{BASE}/evidence-id"
SYSTEM_EVIDENCE_SEQ = f"{BASE}/evidence-chain-position"
SYSTEM_EVIDENCE_ENTRY_HASH = f"{BASE}/evidence-entry-hash"
SYSTEM_FILE_SHA256 = f"{BASE}/evidence-file-sha256"

# HL7 terminology (STANDARDS.md 4.2) and X12 code systems in the Da Vinci pattern (STANDARDS.md 4.3).
THO = "http://terminology.hl7.org/CodeSystem"
X12 = "https://codesystem.x12.org/005010"
X12_SERVICE_TYPE = "https://x12.org/codes/service-type-codes"
X12_CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
NPI = "http://hl7.org/fhir/sid/us-npi"
CURRENCY = "USD"

_NAMESPACE = uuid.UUID("5b0f7f0e-3c1e-4d7a-9d55-6a1f2e0c8b41")  # this product's: never change it (ids would move)


def resource_id(*key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(key)))


def ref(resource_id_: str, display: str | None = None) -> dict[str, Any]:
    reference: dict[str, Any] = {"reference": f"urn:uuid:{resource_id_}"}
    if display:
        reference["display"] = display
    return reference


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(*codings: dict[str, str], text: str | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"coding": list(codings)}
    if text:
        value["text"] = text
    return value


def money(amount: Decimal) -> dict[str, Any]:
    return {"value": amount, "currency": CURRENCY}


def instant(moment: datetime) -> str:
    """FHIR instants need a zone; SQLite hands stored UTC times back without one."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat()


def period(start: date | None, end: date | None) -> dict[str, str] | None:
    found = {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
    return found or None


def member_identifier(carrier: str, member_id: str) -> dict[str, Any]:
    """The member id as the carrier prints it, typed v2-0203 MB (member number)."""
    return {"type": concept(coding(f"{THO}/v2-0203", "MB", "Member Number")),
            "system": f"{BASE}/member-id/{carrier}", "value": member_id}


def payer_name(carrier: str) -> str:
    try:
        return adapter_for(carrier).manifest.display_name
    except ConfigurationError:  # a carrier no longer installed: its slug still names it
        return carrier


@dataclass
class _PatientFacts:
    carrier: str
    member_id: str | None  # None: a name search the payer answered "not found"
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None


class ResourceSet:
    """The resources of one export, in order, each once. Patients and payers are gathered from every answer
    (the richest facts win: a claim knows only the member id, an eligibility answer knows the name) and built
    when the set is read."""

    def __init__(self) -> None:
        self._resources: dict[str, Resource] = {}
        self._patients: dict[str, _PatientFacts] = {}
        self._payers: dict[str, tuple[str, str, str | None]] = {}  # id -> carrier, name, payer id

    def add(self, resource: Resource) -> dict[str, Any]:
        assert resource.id, "every exported resource has an id"
        self._resources.setdefault(resource.id, resource)
        return ref(resource.id)

    def patient(self, carrier: str, member_id: str | None, *, first_name: str | None = None,
                last_name: str | None = None, birth_date: date | None = None) -> dict[str, Any]:
        # A patient searched by name has no member id: the name and birth date are what identify it.
        key = resource_id("patient", carrier, *([member_id] if member_id else
                                                [last_name or "", first_name or "", str(birth_date)]))
        facts = self._patients.setdefault(key, _PatientFacts(carrier, member_id))
        facts.first_name = facts.first_name or first_name
        facts.last_name = facts.last_name or last_name
        facts.birth_date = facts.birth_date or birth_date
        return ref(key)

    def payer(self, carrier: str, *, name: str | None = None, payer_id: str | None = None) -> dict[str, Any]:
        key = resource_id("payer", carrier)
        known = self._payers.get(key)
        if known is None or (payer_id and not known[2]):
            self._payers[key] = (carrier, name or payer_name(carrier), payer_id)
        return ref(key)

    def resources(self) -> list[Resource]:
        """Patients, then payers, then everything else in the order it was added."""
        return [*(_patient(key, facts) for key, facts in self._patients.items()),
                *(_payer(key, *facts) for key, facts in self._payers.items()),
                *self._resources.values()]


def _patient(key: str, facts: _PatientFacts) -> Patient:
    data: dict[str, Any] = {"id": key}
    if facts.member_id:
        data["identifier"] = [member_identifier(facts.carrier, facts.member_id)]
    if facts.last_name or facts.first_name:
        name: dict[str, Any] = {"use": "official"}
        if facts.last_name:
            name["family"] = facts.last_name
        if facts.first_name:
            name["given"] = [facts.first_name]
        data["name"] = [name]
    if facts.birth_date:
        data["birthDate"] = facts.birth_date.isoformat()
    return Patient.model_validate(data)


def _payer(key: str, carrier: str, name: str, payer_id: str | None) -> Organization:
    identifiers: list[dict[str, Any]] = [{"system": SYSTEM_CARRIER, "value": carrier}]
    if payer_id:  # X12 NM108 PI: the payer id clearinghouses route on
        identifiers.append({"type": concept(coding(f"{X12}/66", "PI", "Payor Identification")),
                            "system": f"{BASE}/payer-id", "value": payer_id})
    return Organization.model_validate({
        "id": key, "active": True, "name": name, "identifier": identifiers,
        "type": [concept(coding(f"{THO}/organization-type", "pay", "Payer"))],
    })
