"""The day's answers (aggregator/exports/day.py) as one FHIR `Bundle` of type `collection`.

Each stored answer becomes its resources (fhir_eligibility, fhir_authorization, fhir_claims), then its
evidence's DocumentReferences and the Provenance tying the two; a visit's prior-auth answers become CRD
ServiceRequests whose Provenance cites both answers they were derived from (eligibility and authorizations).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from aggregator.evidence_files import EvidenceFiles
from aggregator.exports.day import DayAnswers, StoredAnswer, Visit
from aggregator.exports.fhir_authorization import add_authorizations, add_visit_answer
from aggregator.exports.fhir_claims import add_claims, add_search_not_found
from aggregator.exports.fhir_common import BASE, ResourceSet, instant, resource_id
from aggregator.exports.fhir_eligibility import EligibilityResources, add_eligibility, add_not_found
from aggregator.exports.fhir_evidence import add_evidence
from aggregator.models import AuthorizationList, ClaimList, EligibilityQuery, EligibilityRecord, MemberNotFound


def day_bundle(answers: DayAnswers, *, files: EvidenceFiles | None, base_url: str = "",
               now: datetime | None = None) -> Bundle:
    """Every resource of the day, each validated by the model library as it was built, in one validated Bundle."""
    resources = ResourceSet()
    for visit in answers.visits:
        _visit(resources, visit, files, base_url)
    for stored in answers.on_demand:
        _answer(resources, stored, files, base_url)
    return Bundle.model_validate({
        "id": resource_id("day", answers.day.isoformat()), "type": "collection",
        "identifier": {"system": f"{BASE}/day-export", "value": answers.day.isoformat()},
        "timestamp": instant(now or datetime.now(UTC)),
        "entry": [{"fullUrl": f"urn:uuid:{r.id}", "resource": r} for r in resources.resources()],
    })


def _visit(resources: ResourceSet, visit: Visit, files: EvidenceFiles | None, base_url: str) -> None:
    eligibility = _answer(resources, visit.eligibility, files, base_url) if visit.eligibility else None
    if visit.authorizations:
        _answer(resources, visit.authorizations, files, base_url)
    record = visit.eligibility.answer if visit.eligibility else None
    if not visit.auth_answers or visit.item is None or eligibility is None or eligibility.coverage_id is None:
        return
    assert isinstance(record, EligibilityRecord)
    derived = [add_visit_answer(resources, answer, eligibility=record, coverage_id=eligibility.coverage_id,
                                patient=eligibility.patient, appointment_id=visit.appointment.id,
                                item_id=visit.item.id, sequence=n)
               for n, answer in enumerate(visit.auth_answers, start=1)]
    # Derived answers: their Provenance cites the evidence of both answers they were read from.
    sources = [s for s in (visit.eligibility, visit.authorizations) if s is not None]
    evidence = sorted({row.id: row for s in sources for row in s.evidence}.values(), key=lambda r: r.seq)
    fetched = max(s.answer.provenance.fetched_at for s in sources if s.answer.provenance)
    add_evidence(resources, evidence, targets=derived, patient=eligibility.patient, files=files, base_url=base_url,
                 fetched_at=fetched, account_label=_account(visit.eligibility), payer=resources.payer(record.carrier))


def _answer(resources: ResourceSet, stored: StoredAnswer, files: EvidenceFiles | None,
            base_url: str) -> EligibilityResources | None:
    """The answer's resources and its evidence. Returns what an eligibility answer became (None otherwise)."""
    answer = stored.answer
    made: EligibilityResources | None = None
    patient: dict[str, Any] | None = None
    if isinstance(answer, EligibilityRecord):
        made = add_eligibility(resources, answer, stored.lookup_id)
        targets, patient = made.targets, made.patient
    elif isinstance(answer, MemberNotFound):
        if isinstance(answer.query, EligibilityQuery):
            made = add_not_found(resources, answer, stored.lookup_id)
            targets, patient = made.targets, made.patient
        else:
            targets = add_search_not_found(resources, answer, stored.lookup_id)
    elif isinstance(answer, AuthorizationList):
        targets = add_authorizations(resources, answer, stored.lookup_id)
        patient = resources.patient(answer.carrier, answer.query.member_id)
    else:
        assert isinstance(answer, ClaimList)
        targets = add_claims(resources, answer, stored.lookup_id)
    if targets and answer.provenance is not None:
        add_evidence(resources, stored.evidence, targets=targets, patient=patient, files=files, base_url=base_url,
                     fetched_at=answer.provenance.fetched_at, account_label=answer.provenance.portal_account,
                     payer=resources.payer(answer.carrier))
    return made


def _account(stored: StoredAnswer | None) -> str | None:
    if stored is None or stored.answer.provenance is None:
        return None
    return stored.answer.provenance.portal_account
