"""Prior authorizations as FHIR.

- Each authorization on file: a `ClaimResponse` with `use = preauthorization`, shaped after Da Vinci PAS
  (STANDARDS.md 4.6): `preAuthRef` = the authorization number, `preAuthPeriod`, and per authorized procedure
  an item with PAS's `authorizedItemDetail` (procedure, approved quantity) and an adjudication carrying PAS's
  `reviewAction` (HCR01 decision, number, HCR03 reason). Units approved / used / remaining are adjudication
  values under this product's `authorized-units` codes.
- The prior-auth answer for one visit (aggregator/flows/authorization.py): a `ServiceRequest` for the visit's
  procedure (or service type) carrying Da Vinci CRD's `ext-coverage-information` (STANDARDS.md 4.7): covered /
  not-covered / conditional, `pa-needed` (no-auth, auth-needed, satisfied, indeterminate) and, when an
  authorization covers the visit, `satisfied-pa-id` = its number.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.servicerequest import ServiceRequest

from aggregator.exports.fhir_common import (
    BASE,
    CPT,
    EXT,
    HCPCS,
    NPI,
    SYSTEM_APPOINTMENT,
    SYSTEM_BATCH_ITEM,
    SYSTEM_LOOKUP,
    THO,
    X12,
    X12_SERVICE_TYPE,
    ResourceSet,
    coding,
    concept,
    period,
    ref,
    resource_id,
)
from aggregator.flows.authorization import AuthorizationAnswer
from aggregator.models import (
    Authorization,
    AuthorizationList,
    BenefitKind,
    CoverageStatus,
    EligibilityRecord,
    NetworkIndicator,
    ServiceType,
)
from aggregator.models.codes import AuthStatus

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition"
CRD_EXTENSION = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
SYSTEM_AUTH_UNITS = f"{BASE}/CodeSystem/authorized-units"
EXT_SERVICE_TYPE = f"{EXT}/service-type"
EXT_REQUEST_CATEGORY = f"{EXT}/request-category"

# PAS allows complete | error | partial (| queued for a pended review): a decision made is "complete".
_OUTCOME = {AuthStatus.CERTIFIED: "complete", AuthStatus.PARTIAL: "partial", AuthStatus.NOT_CERTIFIED: "complete",
            AuthStatus.PENDED: "queued", AuthStatus.MODIFIED: "complete", AuthStatus.CANCELLED: "complete",
            AuthStatus.CONTACT_PAYER: "partial"}
# The visit's answer status -> CRD pa-needed. "not_available": the portal shows no authorizations (call the payer).
_PA_NEEDED = {"not_required": "no-auth", "covered": "satisfied", "missing": "auth-needed", "expired": "auth-needed",
              "not_yet_effective": "auth-needed", "exhausted": "auth-needed", "pending": "auth-needed",
              "denied": "auth-needed", "unknown": "indeterminate", "not_available": "indeterminate"}


def auth_number_identifier(carrier: str, auth_number: str) -> dict[str, str]:
    return {"system": f"{BASE}/authorization-number/{carrier}", "value": auth_number}


def add_authorizations(resources: ResourceSet, found: AuthorizationList, lookup_id: str) -> list[dict[str, Any]]:
    """One ClaimResponse per authorization; returns their references (the Provenance's targets)."""
    patient = resources.patient(found.carrier, found.query.member_id, birth_date=found.query.date_of_birth)
    payer = resources.payer(found.carrier)
    return [resources.add(_authorization(auth, lookup_id, patient, payer)) for auth in found.authorizations]


def _authorization(auth: Authorization, lookup_id: str, patient: dict[str, Any], payer: dict[str, Any]) -> ClaimResponse:
    review = _review_action(auth)
    data: dict[str, Any] = {
        "id": resource_id("authorization", lookup_id, auth.auth_number),
        "identifier": [auth_number_identifier(auth.carrier, auth.auth_number),
                       {"system": SYSTEM_LOOKUP, "value": lookup_id}],
        "status": "active", "type": concept(coding(f"{THO}/claim-type", "professional")), "use": "preauthorization",
        "patient": patient, "created": auth.last_updated.isoformat(), "insurer": payer,
        "outcome": _OUTCOME[auth.status], "disposition": auth.status.label, "preAuthRef": auth.auth_number,
        "requestor": _provider(auth),
        "extension": [
            {"url": EXT_SERVICE_TYPE, "valueCodeableConcept": concept(
                coding(X12_SERVICE_TYPE, auth.service_type.value, auth.service_type.label))},
            {"url": EXT_REQUEST_CATEGORY, "valueCodeableConcept": concept(
                coding(f"{X12}/1525", auth.request_category.value, auth.request_category.label))},
        ],
    }
    auth_period = period(auth.effective_date, auth.expiration_date)
    if auth_period:
        data["preAuthPeriod"] = auth_period
    if auth.services:
        data["item"] = [{
            "itemSequence": n,
            "extension": [{"url": f"{PAS}/extension-authorizedItemDetail", "extension": [
                {"url": "productOrServiceCode", "valueCodeableConcept": concept(_procedure(service.procedure_code))},
                {"url": "quantity", "valueQuantity": {"value": service.approved, "unit": service.unit.label,
                                                      "system": f"{X12}/673", "code": service.unit.value}},
            ]}],
            "adjudication": [
                {"category": concept(coding(f"{THO}/adjudication", "submitted")), "extension": [review]},
                *({"category": concept(coding(SYSTEM_AUTH_UNITS, name)), "value": value}
                  for name, value in (("approved", service.approved), ("used", service.used),
                                      ("remaining", service.remaining))),
            ],
        } for n, service in enumerate(auth.services, start=1)]
    else:  # no procedure listed: the decision still travels, on the whole response
        data["adjudication"] = [{"category": concept(coding(f"{THO}/adjudication", "submitted")), "extension": [review]}]
    return ClaimResponse.model_validate(data)


def _review_action(auth: Authorization) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "code", "valueCodeableConcept": concept(coding(f"{X12}/306", auth.status.value, auth.status.label))},
        {"url": "number", "valueString": auth.auth_number},
    ]
    if auth.decision_reason is not None:
        reason = auth.decision_reason
        parts.append({"url": "reasonCode", "valueCodeableConcept": concept(
            coding("https://codesystem.x12.org/external/886", reason.value, reason.label))})
    return {"url": f"{PAS}/extension-reviewAction", "extension": parts}


def _provider(auth: Authorization) -> dict[str, Any]:
    provider: dict[str, Any] = {"display": auth.servicing_provider_name}
    if auth.servicing_provider_npi:
        provider["identifier"] = {"system": NPI, "value": auth.servicing_provider_npi}
    return provider


def _procedure(code: str) -> dict[str, str]:
    return coding(HCPCS if code[0].isalpha() else CPT, code)


# --- the prior-auth answer for one visit (CRD coverage-information) --------------------------------------

def add_visit_answer(resources: ResourceSet, answer: AuthorizationAnswer, *, eligibility: EligibilityRecord,
                     coverage_id: str, patient: dict[str, Any], appointment_id: str, item_id: str,
                     sequence: int) -> dict[str, Any]:
    """One ServiceRequest per prior-auth answer of a visit (one per procedure the appointment names)."""
    covered = _covered(eligibility, answer)
    info: list[dict[str, Any]] = [
        {"url": "coverage", "valueReference": ref(coverage_id)},
        {"url": "covered", "valueCode": covered},
    ]
    if covered != "not-covered":  # CRD: a service that is not covered says nothing about prior auth
        info.append({"url": "pa-needed", "valueCode": _PA_NEEDED[answer.status]})
    info += [{"url": "date", "valueDate": answer.service_date.isoformat()},
             {"url": "coverage-assertion-id", "valueString": f"{item_id}-{sequence}"}]
    if answer.status == "covered" and answer.covering_auth_number:
        info.append({"url": "satisfied-pa-id", "valueString": answer.covering_auth_number})
    info.append({"url": "reason", "valueCodeableConcept": {"text": answer.required_because}})
    data: dict[str, Any] = {
        "id": resource_id("visit-auth", item_id, str(sequence)),
        "identifier": [{"system": SYSTEM_APPOINTMENT, "value": appointment_id},
                       {"system": SYSTEM_BATCH_ITEM, "value": f"{item_id}-{sequence}"}],
        "status": "active", "intent": "order", "subject": patient, "code": _visit_code(answer),
        "occurrenceDateTime": answer.service_date.isoformat(), "insurance": [ref(coverage_id)],
        "extension": [{"url": CRD_EXTENSION, "extension": info}],
    }
    if answer.missing:
        data["note"] = [{"text": sentence} for sentence in answer.missing]
    return resources.add(ServiceRequest.model_validate(data))


def _visit_code(answer: AuthorizationAnswer) -> dict[str, Any]:
    if answer.procedure_code:
        return concept(_procedure(answer.procedure_code))
    service = answer.service_type or ServiceType.OFFICE_VISIT
    return concept(coding(X12_SERVICE_TYPE, service.value, service.label), text=service.label)


def _covered(eligibility: EligibilityRecord, answer: AuthorizationAnswer) -> str:
    if eligibility.coverage.status is not CoverageStatus.ACTIVE or not _in_force(eligibility, answer.service_date):
        return "not-covered"
    tiers = (answer.network, NetworkIndicator.NOT_APPLICABLE)
    lines = [b for b in eligibility.benefits if b.service_type is answer.service_type and b.network in tiers]
    if lines and all(b.kind is BenefitKind.NON_COVERED for b in lines):
        return "not-covered"
    # Covered when the plan is in force and the service is not excluded; "conditional" when prior auth is still
    # open (CRD: covered only if the conditions, here the authorization, are met).
    return "covered" if answer.status in ("not_required", "covered") else "conditional"


def _in_force(eligibility: EligibilityRecord, on: date) -> bool:
    coverage = eligibility.coverage
    return coverage.effective_date <= on and (coverage.termination_date is None or on <= coverage.termination_date)
