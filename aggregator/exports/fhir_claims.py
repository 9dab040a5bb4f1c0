"""Claim status as FHIR: one `ClaimResponse` (`use = claim`) per claim a search returned (STANDARDS.md 4.5).

No HL7 profile maps the 277 to FHIR, so: `outcome` from the STC01-1 category (F* complete; A3/A4/A6/A7, E*, D0
error; the rest queued), the raw 507/508 codes in this product's `x12-claim-status` extension, amounts as
adjudications (submitted = billed, eligible = allowed, benefit = paid; CARIN's `memberliability` for the
patient's share), each line's CAS adjustments with their group (X12 1033) and CARC reason, and `payment` with
the paid date and the check/EFT number.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.claimresponse import ClaimResponse

from aggregator.exports.fhir_common import (
    BASE,
    CPT,
    EXT,
    HCPCS,
    SYSTEM_LOOKUP,
    THO,
    X12,
    X12_CARC,
    ResourceSet,
    coding,
    concept,
    instant,
    money,
    resource_id,
)
from aggregator.models import ClaimLine, ClaimList, ClaimQuery, ClaimStatus, EligibilityQuery, MemberNotFound
from aggregator.models.codes import ClaimStatusCategory

EXT_CLAIM_STATUS = f"{EXT}/x12-claim-status"
CARIN_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
_ERROR_CATEGORIES = ("A3", "A4", "A6", "A7", "A8", "D0")


def claim_number_identifier(carrier: str, claim_number: str) -> dict[str, str]:
    return {"system": f"{BASE}/claim-number/{carrier}", "value": claim_number}


def add_claims(resources: ResourceSet, found: ClaimList, lookup_id: str) -> list[dict[str, Any]]:
    """One ClaimResponse per claim; returns their references (the Provenance's targets)."""
    birth_date = found.query.date_of_birth  # None for a search by claim number
    targets = []
    for claim in found.claims:
        patient = resources.patient(found.carrier, claim.member_id, birth_date=birth_date)
        targets.append(resources.add(_claim(claim, lookup_id, patient, resources.payer(found.carrier))))
    return targets


def outcome_of(category: ClaimStatusCategory) -> str:
    code = category.value
    if code.startswith("F"):
        return "complete"
    if code in _ERROR_CATEGORIES or code.startswith("E"):
        return "error"
    return "queued"


def _claim(claim: ClaimStatus, lookup_id: str, patient: dict[str, Any], payer: dict[str, Any]) -> ClaimResponse:
    data: dict[str, Any] = {
        "id": resource_id("claim", lookup_id, claim.payer_claim_number),
        "identifier": [claim_number_identifier(claim.carrier, claim.payer_claim_number),
                       {"system": SYSTEM_LOOKUP, "value": lookup_id}],
        "status": "active", "type": concept(coding(f"{THO}/claim-type", "professional")), "use": "claim",
        "patient": patient, "created": (claim.adjudicated_date or claim.received_date).isoformat(), "insurer": payer,
        "request": {"type": "Claim", "identifier": {"system": f"{BASE}/provider-account-number",
                                                    "value": claim.provider_account_number}},
        "outcome": outcome_of(claim.status_category), "disposition": claim.status_category.label,
        "extension": [{"url": EXT_CLAIM_STATUS, "extension": [
            {"url": "category", "valueCoding": coding("https://codesystem.x12.org/external/507",
                                                      claim.status_category.value, claim.status_category.label)},
            {"url": "code", "valueCoding": coding("https://codesystem.x12.org/external/508", claim.status_code)},
            {"url": "received", "valueDate": claim.received_date.isoformat()},
            {"url": "servicePeriod", "valuePeriod": {"start": claim.service_from.isoformat(),
                                                     "end": claim.service_to.isoformat()}},
        ]}],
        "total": _totals(claim),
    }
    if claim.lines:
        data["item"] = [_line(line) for line in claim.lines]
    if claim.paid > 0 or claim.paid_date or claim.check_number:
        payment: dict[str, Any] = {"type": concept(coding(f"{THO}/ex-paymenttype", "complete")),
                                   "amount": money(claim.paid)}
        if claim.paid_date:
            payment["date"] = claim.paid_date.isoformat()
        if claim.check_number:
            payment["identifier"] = {"system": f"{BASE}/check-or-eft-number", "value": claim.check_number}
        data["payment"] = payment
    return ClaimResponse.model_validate(data)


def _amount(code: str, amount: Decimal, system: str = f"{THO}/adjudication") -> dict[str, Any]:
    return {"category": concept(coding(system, code)), "amount": money(amount)}


def _totals(claim: ClaimStatus) -> list[dict[str, Any]]:
    totals = [_amount("submitted", claim.billed)]
    if claim.allowed is not None:
        totals.append(_amount("eligible", claim.allowed))
    totals.append(_amount("benefit", claim.paid))
    if claim.patient_responsibility is not None:
        totals.append(_amount("memberliability", claim.patient_responsibility, CARIN_ADJUDICATION))
    return totals


def _line(line: ClaimLine) -> dict[str, Any]:
    adjudication = [_amount("submitted", line.billed), _amount("eligible", line.allowed), _amount("benefit", line.paid)]
    for adjustment in line.adjustments:
        adjudication.append({
            "category": concept(coding(f"{X12}/1033", adjustment.group.value, adjustment.group.label)),
            "reason": concept(coding(X12_CARC, adjustment.reason.value, adjustment.reason.label)),
            "amount": money(adjustment.amount),
        })
    code = line.procedure_code
    return {
        "itemSequence": line.line_number, "adjudication": adjudication,
        "extension": [{"url": f"{EXT}/claim-line-service", "extension": [
            {"url": "productOrService", "valueCodeableConcept": concept(coding(HCPCS if code[0].isalpha() else CPT, code))},
            {"url": "servicedDate", "valueDate": line.service_date.isoformat()},
            {"url": "quantity", "valueDecimal": line.units},
        ]}],
    }


def add_search_not_found(resources: ResourceSet, answer: MemberNotFound, lookup_id: str) -> list[dict[str, Any]]:
    """"No such member" (or the date of birth does not match) to a claim or authorization search: a
    ClaimResponse (use claim or preauthorization) with outcome `error` and the AAA03 reason (X12 901)."""
    query = answer.query
    if isinstance(query, EligibilityQuery) or query.member_id is None:
        return []  # eligibility has its own error response; a search by claim number never answers "no member"
    patient = resources.patient(answer.carrier, query.member_id, birth_date=query.date_of_birth)
    reason = answer.reject_reason
    fetched = answer.provenance.fetched_at if answer.provenance else None
    response = ClaimResponse.model_validate({
        "id": resource_id("search-not-found", lookup_id), "identifier": [{"system": SYSTEM_LOOKUP, "value": lookup_id}],
        "status": "active", "type": concept(coding(f"{THO}/claim-type", "professional")),
        "use": "claim" if isinstance(query, ClaimQuery) else "preauthorization",
        "patient": patient, "insurer": resources.payer(answer.carrier), "outcome": "error",
        "created": instant(fetched) if fetched else date.today().isoformat(), "disposition": reason.label,
        "error": [{"code": concept(coding(f"{X12}/901", reason.value, reason.label))}],
    })
    return [resources.add(response)]
