"""An appointment as the overnight run verifies it, and why a row of an appointment file was not imported.

Shared by the importers (aggregator/overnight/appointments.py, appointments_fhir.py) and the store
(aggregator/store/appointments.py), which is below the overnight run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from aggregator.models.base import Record
from aggregator.models.codes import ServiceType


class Appointment(Record):
    """One appointment as the batch verifies it: the normalized fields of one row."""

    id: str
    starts_at: datetime  # practice-local wall time, naive
    patient_last_name: str
    patient_first_name: str
    patient_dob: date
    carrier: str  # registry slug
    member_id: str  # normalize_member_id: uppercase, no spaces or dashes
    provider_npi: str | None = None
    procedure_codes: tuple[str, ...] = ()  # uppercased, validated, in file order without repeats
    service_type: ServiceType | None = None

    @property
    def service_date(self) -> date:
        return self.starts_at.date()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the normalized fields: equal fingerprints mean a re-import has nothing to write."""
        fields = [self.id, self.starts_at.isoformat(), self.patient_last_name, self.patient_first_name,
                  self.patient_dob.isoformat(), self.carrier, self.member_id, self.provider_npi or "",
                  ";".join(self.procedure_codes), self.service_type.value if self.service_type else ""]
        return hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class RowProblem:
    """Why one row (or one field of it) was not imported."""

    row: int
    field: str
    reason: str
    resource: str | None = None  # FHIR only: "Patient/p1"
