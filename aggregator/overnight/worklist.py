"""The day's worklist: one row per appointment with what staff need at the front desk.

Built from what the batch stored (items, records, authorization answers); it never asks a portal.
Cost share is read from the eligibility record for the visit's service type (office visit when the
appointment names none), in network: the copay, the coinsurance and the individual deductible left.
At a carrier whose portal shows no authorizations, the auth column says "not available at this carrier"
and the row's action is the call-the-payer checklist item (docs/batch.md); every row lists the visit's
call-the-payer items, from the carrier's manifest (capabilities it lacks, gaps it declares).

`carrier` is the payer the appointment names; `portal` the portal that answered when it is not the payer's
own site (a hub), read from the eligibility lookup: "Ridgeline Mutual via Crossway". An item the day's
search budget could not take is `deferred` with reason code `daily_limit` and `not_before`, when it can run.
Above the rows, `account_warnings` lists what portals told the practice's accounts (a password expiring):
account and date only, never member data.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from aggregator.errors import ConfigurationError
from aggregator.flows.authorization import AuthorizationAnswer
from aggregator.flows.capabilities import calls_for_visit
from aggregator.models import (
    BenefitKind,
    CoverageLevel,
    CoverageStatus,
    EligibilityRecord,
    NetworkIndicator,
    ServiceType,
    TimePeriod,
)
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import payer_name, portal_of
from aggregator.store import batches as store
from aggregator.store import budgets
from aggregator.store.repository import Repository
from aggregator.store.tables import AppointmentRow

NOT_CHECKED = "not_checked"  # an appointment the batch has not reached (or was imported after it ran)
VISIT_DEFAULT = ServiceType.OFFICE_VISIT
PLAN_LEVEL = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE
DAILY_LIMIT = "daily_limit"  # aggregator.overnight.batch.DAILY_LIMIT: no search of the day was left for it
PASSWORD_EXPIRING = "password_expiring"  # aggregator.scrapers.framework.AccountNotice kind
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
    # What to ask the payer by phone because this carrier's portal cannot show it (its manifest's
    # capabilities and gaps): the visit's cost share, whether it needs prior auth, the authorizations.
    call_the_payer: list[str] = []
    eligibility_lookup_id: str | None = None
    authorization_lookup_id: str | None = None
    checked_at: datetime | None = None
    # Added with payers and portals (appended: older readers of the JSON keep working).
    payer_name: str | None = None  # the payer's display name ("Ridgeline Mutual")
    portal: str | None = None  # the portal that answered, when not the payer's own site (e.g. "crossway")
    portal_name: str | None = None
    not_before: datetime | None = None  # a deferred item can run from then (daily limit, maintenance)

    @property
    def payer_via(self) -> str:
        """"Ridgeline Mutual via Crossway"; the payer's name alone when its own site answered."""
        return via(self.payer_name or self.carrier, self.portal_name)

    @property
    def daily_limit(self) -> bool:
        return self.state == "deferred" and self.reason_code == DAILY_LIMIT

    @property
    def state_words(self) -> str:
        """The state as staff read it: "deferred: daily limit" says why the item waits."""
        return "deferred: daily limit" if self.daily_limit else self.state.replace("_", " ")


def via(payer: str, portal: str | None) -> str:
    return f"{payer} via {portal}" if portal else payer


def portal_name(portal: str | None) -> str | None:
    if portal is None:
        return None
    try:
        return adapter_for(portal).manifest.display_name
    except ConfigurationError:  # a portal since removed: its slug still says which
        return portal


def answered_by(repository: Repository, lookup_id: str | None) -> str | None:
    """The portal that answered a lookup when not the payer's own site (None: its own site, or not asked)."""
    if not lookup_id:
        return None
    lookup = repository.get_lookup(lookup_id)
    return lookup.portal if lookup is not None else None


def worklist(repository: Repository, day: date) -> list[WorklistRow]:
    items = {item.appointment_id: item for item in store.items_on(repository, day)}
    names: dict[str, str] = {}  # payer -> display name: every manifest is read once per worklist, not per row
    rows: list[WorklistRow] = []
    for appointment in store.appointments_on(repository, day):
        item = items.get(appointment.id)
        row = WorklistRow(
            item_id=item.id if item else None, appointment_id=appointment.id,
            starts_at=appointment.starts_at,  # practice-local wall time (store.appointments.wall_time)
            patient_name=f"{appointment.patient_last_name}, {appointment.patient_first_name}",
            patient_dob=appointment.patient_dob, carrier=appointment.carrier, member_id=appointment.member_id,
            state=item.state if item else NOT_CHECKED,
            payer_name=names.get(appointment.carrier) or names.setdefault(appointment.carrier,
                                                                          payer_name(appointment.carrier)),
        )
        answers: list[AuthorizationAnswer] = []
        if item is not None:
            row.reason, row.reason_code, row.action = item.reason, item.reason_code, item.action
            row.checked_at = store.aware(item.finished_at)
            row.not_before = store.aware(item.not_before) if item.state == "deferred" else None
            row.portal = answered_by(repository, item.eligibility_lookup_id)
            row.portal_name = portal_name(row.portal)
            row.eligibility_lookup_id, row.authorization_lookup_id = item.eligibility_lookup_id, item.authorization_lookup_id
            row.changes = [c["message"] for c in json.loads(item.changes or "[]")]
            answers = _auth(row, item.auth_answer)
            if item.eligibility_lookup_id:
                records = repository.records_for_lookup(item.eligibility_lookup_id)
                if records and isinstance(records[0], EligibilityRecord):
                    service = ServiceType(appointment.service_type) if appointment.service_type else VISIT_DEFAULT
                    _cost_share(row, records[0], service)
        row.call_the_payer = _calls(appointment, answers, row.portal)
        rows.append(row)
    return rows


def _calls(appointment: AppointmentRow, answers: list[AuthorizationAnswer], portal: str | None) -> list[str]:
    # What the portal that answered cannot show; not asked yet: the payer's first portal by default.
    try:
        manifest = adapter_for(portal or portal_of(appointment.carrier)).manifest
    except ConfigurationError:  # an unknown carrier: its batch item says so
        return []
    service = ServiceType(appointment.service_type) if appointment.service_type else VISIT_DEFAULT
    prior_auth = bool(appointment.procedure_codes) or appointment.service_type is not None
    # Answers settled without the authorizations (e.g. "not required") need no call about them.
    unsettled = any(a.status == "not_available" for a in answers) if answers else None
    return calls_for_visit(manifest, service=service, prior_auth=prior_auth, authorizations=unsettled,
                           payer=appointment.carrier)


def state_counts(rows: list[WorklistRow]) -> dict[str, int]:
    counts = Counter(row.state for row in rows)
    return {state: counts[state] for state in STATE_ORDER if counts[state]}


_AUTH_RANK = {"denied": 0, "missing": 1, "expired": 2, "exhausted": 3, "not_yet_effective": 4, "pending": 5,
              "not_available": 6, "unknown": 7, "covered": 8, "not_required": 9}
# How an answer's status reads in the worklist's one line ("not available" alone would not say why).
_AUTH_WORDS = {"not_available": "not available at this carrier"}


def _auth(row: WorklistRow, answers_json: str | None) -> list[AuthorizationAnswer]:
    if not answers_json:
        return []
    answers = [AuthorizationAnswer.model_validate(a) for a in json.loads(answers_json)]
    if not answers:
        return []
    worst = min(answers, key=lambda a: _AUTH_RANK[a.status])
    what = worst.procedure_code or (worst.service_type.label if worst.service_type else "visit")
    words = _AUTH_WORDS.get(worst.status, worst.status.replace("_", " "))
    row.auth = f"{words} ({what}, {worst.covering_auth_number})" if worst.covering_auth_number else f"{words} ({what})"
    row.auth_missing = [m for a in answers for m in a.missing]
    return answers


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

# New columns go at the end: spreadsheets and scripts reading the older ones by position keep working.
CSV_COLUMNS = ("appointment_id", "starts_at", "patient_name", "patient_dob", "carrier", "member_id", "state",
               "coverage", "plan", "copay", "coinsurance", "deductible_remaining", "auth", "changes", "reason",
               "action", "call_the_payer", "portal", "not_before")


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
        data["call_the_payer"] = "; ".join(row.call_the_payer)
        writer.writerow([spreadsheet_safe(data[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def as_json(rows: list[WorklistRow]) -> str:
    return json.dumps([row.model_dump(mode="json") for row in rows], indent=2)


# --- what portals told the practice's accounts -----------------------------------------------------------

class AccountWarning(BaseModel):
    """One portal account's notice (its password expires soon), as the worklist summary shows it."""

    portal: str
    portal_name: str
    account_label: str
    kind: str
    message: str  # the portal's own words: about the account, never a member
    due: date | None = None
    line: str


def _can_change(portal: str) -> bool:
    """Whether the product can change this portal's passwords itself (its manifest declares the rules)."""
    try:
        return adapter_for(portal).manifest.password_policy is not None
    except ConfigurationError:
        return False


def account_warnings(repository: Repository, today: date) -> list[AccountWarning]:
    """Every current notice, soonest due first, each with the line the worklist summary prints."""
    warnings = []
    for notice in budgets.notices(repository):
        name = portal_name(notice.portal) or notice.portal
        if notice.kind == PASSWORD_EXPIRING and notice.due is not None:
            days = (notice.due - today).days
            when = (f"expired on {notice.due}" if days < 0 else "expires today" if days == 0 else
                    f"expires on {notice.due} (in {days} day{'s' if days != 1 else ''})")
            line = (f"{name} account “{notice.account_label}”: password {when}; "
                    + (f"change it with `aggregator vault change-password --portal {notice.portal} --account "
                       f"{notice.account_label}` or the web admin's account page" if _can_change(notice.portal) else
                       f"change it at the portal, then store it (`aggregator vault update --carrier {notice.portal} "
                       f"--label {notice.account_label} --password` or the web admin's portal accounts page)"))
        else:
            line = f"{name} account “{notice.account_label}”: {notice.message}"
        warnings.append(AccountWarning(portal=notice.portal, portal_name=name, account_label=notice.account_label,
                                       kind=notice.kind, message=notice.message, due=notice.due, line=line))
    return warnings
