"""The day's worklist: one row per appointment with what staff need at the front desk.

Built from what the batch stored (items, records, authorization answers); it never asks a portal.
Cost share is read from the eligibility record for the visit's service type (office visit when the
appointment names none), in network: the copay, the coinsurance and the individual deductible left.
At a carrier whose portal shows no authorizations, the auth column says "not available at this carrier"
and the row's action is the call-the-payer checklist item (docs/batch.md).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from aggregator.flows.authorization import AuthorizationAnswer
from aggregator.models import (
    BenefitKind,
    CoverageLevel,
    CoverageStatus,
    EligibilityRecord,
    NetworkIndicator,
    ServiceType,
    TimePeriod,
)
from aggregator.store import batches as store
from aggregator.store.repository import Repository

NOT_CHECKED = "not_checked"  # an appointment the batch has not reached (or was imported after it ran)
VISIT_DEFAULT = ServiceType.OFFICE_VISIT
PLAN_LEVEL = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE
STATE_ORDER = ("needs_human", "failed", "not_found", "verified_with_changes", "verified", "deferred", "running",
               "pending", NOT_CHECKED)


class WorklistRow(BaseModel):
    item_id: str | None
    appointment_id: str
    starts_at: datetime
    patient_name: str
    patient_dob: date
    carrier: str
    member_id: str
    state: str
    reason: str | None = None
    reason_code: str | None = None  # e.g. "not_available_at_carrier" (the portal cannot answer prior auth)
    action: str | None = None
    coverage: str | None = None  # "active" / "inactive" / None when not verified
    plan: str | None = None
    copay: Decimal | None = None
    coinsurance: Decimal | None = None  # patient share, 0-1
    deductible_remaining: Decimal | None = None
    auth: str | None = None  # one line: the worst of the visit's authorization answers
    auth_missing: list[str] = []
    changes: list[str] = []
    eligibility_lookup_id: str | None = None
    authorization_lookup_id: str | None = None
    checked_at: datetime | None = None


def worklist(repository: Repository, day: date) -> list[WorklistRow]:
    items = {item.appointment_id: item for item in store.items_on(repository, day)}
    rows: list[WorklistRow] = []
    for appointment in store.appointments_on(repository, day):
        item = items.get(appointment.id)
        row = WorklistRow(
            item_id=item.id if item else None, appointment_id=appointment.id,
            starts_at=appointment.starts_at,  # practice-local wall time (store.appointments.wall_time)
            patient_name=f"{appointment.patient_last_name}, {appointment.patient_first_name}",
            patient_dob=appointment.patient_dob, carrier=appointment.carrier, member_id=appointment.member_id,
            state=item.state if item else NOT_CHECKED,
        )
        if item is not None:
            row.reason, row.reason_code, row.action = item.reason, item.reason_code, item.action
            row.checked_at = store.aware(item.finished_at)
            row.eligibility_lookup_id, row.authorization_lookup_id = item.eligibility_lookup_id, item.authorization_lookup_id
            row.changes = [c["message"] for c in json.loads(item.changes or "[]")]
            _auth(row, item.auth_answer)
            if item.eligibility_lookup_id:
                records = repository.records_for_lookup(item.eligibility_lookup_id)
                if records and isinstance(records[0], EligibilityRecord):
                    service = ServiceType(appointment.service_type) if appointment.service_type else VISIT_DEFAULT
                    _cost_share(row, records[0], service)
        rows.append(row)
    return rows


def state_counts(rows: list[WorklistRow]) -> dict[str, int]:
    counts = Counter(row.state for row in rows)
    return {state: counts[state] for state in STATE_ORDER if counts[state]}


_AUTH_RANK = {"denied": 0, "missing": 1, "expired": 2, "exhausted": 3, "not_yet_effective": 4, "pending": 5,
              "not_available": 6, "unknown": 7, "covered": 8, "not_required": 9}
# How an answer's status reads in the worklist's one line ("not available" alone would not say why).
_AUTH_WORDS = {"not_available": "not available at this carrier"}


def _auth(row: WorklistRow, answers_json: str | None) -> None:
    if not answers_json:
        return
    answers = [AuthorizationAnswer.model_validate(a) for a in json.loads(answers_json)]
    if not answers:
        return
    worst = min(answers, key=lambda a: _AUTH_RANK[a.status])
    what = worst.procedure_code or (worst.service_type.label if worst.service_type else "visit")
    words = _AUTH_WORDS.get(worst.status, worst.status.replace("_", " "))
    row.auth = f"{words} ({what}, {worst.covering_auth_number})" if worst.covering_auth_number else f"{words} ({what})"
    row.auth_missing = [m for a in answers for m in a.missing]


def _cost_share(row: WorklistRow, record: EligibilityRecord, service: ServiceType) -> None:
    row.coverage = "active" if record.coverage.status is CoverageStatus.ACTIVE else "inactive"
    row.plan = record.plan.name
    if record.coverage.status is not CoverageStatus.ACTIVE:
        return
    in_network = [b for b in record.benefits if b.network is NetworkIndicator.IN_NETWORK]
    for line in in_network:
        if line.service_type is service and line.kind is BenefitKind.COPAY and line.time_period in (None, TimePeriod.VISIT):
            row.copay = line.amount
        if line.service_type is service and line.kind is BenefitKind.COINSURANCE:
            row.coinsurance = line.percent
        if (line.service_type is PLAN_LEVEL and line.kind is BenefitKind.DEDUCTIBLE
                and line.coverage_level is CoverageLevel.INDIVIDUAL and line.time_period is TimePeriod.REMAINING):
            row.deductible_remaining = line.amount


# --- output -------------------------------------------------------------------------------------------

CSV_COLUMNS = ("appointment_id", "starts_at", "patient_name", "patient_dob", "carrier", "member_id", "state",
               "coverage", "plan", "copay", "coinsurance", "deductible_remaining", "auth", "changes", "reason",
               "action")


# A spreadsheet evaluates a cell that starts with one of these (after any leading spaces) as a formula:
# `=HYPERLINK(...)` in a patient name would run when staff open the export (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """A CSV cell's text that no spreadsheet runs as a formula: a leading `'` when it could be one.

    Every CSV the product writes passes its cells through this; the quote is what spreadsheets
    themselves use to mark "text, not a formula", and it shows as such rather than vanishing.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def as_csv(rows: list[WorklistRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = row.model_dump(mode="json")
        data["changes"] = "; ".join(row.changes)
        writer.writerow([spreadsheet_safe(data[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def as_json(rows: list[WorklistRow]) -> str:
    return json.dumps([row.model_dump(mode="json") for row in rows], indent=2)
