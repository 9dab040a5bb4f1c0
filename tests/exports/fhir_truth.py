"""Reading an exported FHIR Bundle back (as JSON, with this file's own code, not the exporter's) and comparing
it with the sandbox's ground truth: copays, coinsurance percents, deductible and out-of-pocket totals and
what is left, visit limits, coverage dates, authorization numbers and decisions, claim amounts.

Shared by the mapping tests (ground-truth records in, no browser) and the e2e test (records the product
extracted from the sandbox portals in; the expected values still from `sandbox.ground_truth`).
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from aggregator.models import Authorization, ClaimStatus, EligibilityRecord

BASE = "http://carrier-portal-aggregator.local/fhir"
X12 = "https://codesystem.x12.org/005010"
REMAINING = f"{BASE}/StructureDefinition/benefit-remaining"
CRD = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"


def round_trip(content: str) -> dict[str, Any]:
    """Parse the Bundle with the model library, and every resource in it with its own R4B class from its own
    JSON (serialize -> parse -> serialize gives the same JSON). Returns the parsed Bundle as plain JSON."""
    bundle = Bundle.model_validate_json(content)
    assert bundle.type == "collection"
    for entry in bundle.entry or []:
        resource = entry.resource
        module = importlib.import_module(f"fhir.resources.R4B.{resource.get_resource_type().lower()}")
        cls = getattr(module, resource.get_resource_type())
        again = cls.model_validate_json(resource.model_dump_json())
        assert again.model_dump(mode="json") == resource.model_dump(mode="json")
        assert entry.fullUrl == f"urn:uuid:{resource.id}"
    parsed: dict[str, Any] = bundle.model_dump(mode="json")
    return parsed


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


def by_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle.get("entry", [])}


def code_in(concept: dict[str, Any] | None, system: str) -> str | None:
    return next((c["code"] for c in (concept or {}).get("coding", []) if c["system"] == system), None)


def identifier(resource: dict[str, Any], system_prefix: str) -> str | None:
    return next((i["value"] for i in resource.get("identifier", []) if i["system"].startswith(system_prefix)), None)


def eligibility_response(bundle: dict[str, Any], lookup_id: str) -> dict[str, Any]:
    found = [r for r in resources(bundle, "CoverageEligibilityResponse") if identifier(r, f"{BASE}/lookup-id") == lookup_id]
    assert len(found) == 1, f"one CoverageEligibilityResponse for lookup {lookup_id}"
    return found[0]


def money_of(value: dict[str, Any] | None) -> Decimal | None:
    return None if value is None else Decimal(str(value["value"]))


def check_eligibility(bundle: dict[str, Any], response: dict[str, Any], truth: EligibilityRecord) -> int:
    """Every ground-truth benefit line is in the response with its value; returns how many were checked."""
    urls = by_url(bundle)
    patient = urls[response["patient"]["reference"]]
    assert patient["birthDate"] == truth.member.date_of_birth.isoformat()
    assert patient["name"][0]["family"] == truth.member.last_name
    insurance = response["insurance"][0]
    coverage = urls[insurance["coverage"]["reference"]]
    assert coverage["subscriberId"] == truth.member.subscriber_id
    assert coverage["period"]["start"] == truth.coverage.effective_date.isoformat()
    assert coverage["period"].get("end") == (truth.coverage.termination_date.isoformat()
                                             if truth.coverage.termination_date else None)
    assert insurance["benefitPeriod"] == coverage["period"]
    assert insurance["inforce"] is (truth.coverage.status.value == "1")
    assert urls[response["insurer"]["reference"]]["name"] == truth.payer.name
    items = insurance.get("item", [])
    checked = 0
    for line in truth.benefits:
        key = (line.service_type.value, line.network.value, line.coverage_level.value if line.coverage_level else None)
        matching = [i for i in items if (code_in(i["category"], "https://x12.org/codes/service-type-codes"),
                                         code_in(i["network"], f"{X12}/1073"), code_in(i.get("unit"), f"{X12}/1207")) == key]
        assert matching, f"no item for {key}"
        if line.prior_auth.value == "Y":
            assert all(i.get("authorizationRequired") is True for i in matching)
        if line.kind.value == "I":
            assert any(i.get("excluded") is True for i in matching)
            checked += 1
            continue
        benefits = [b for i in matching for b in i.get("benefit", []) if code_in(b["type"], f"{X12}/1390") == line.kind.value]
        assert len(benefits) == 1, f"one {line.kind.label} benefit for {key}"
        benefit = benefits[0]
        period = line.time_period.value if line.time_period else None
        remaining_ext = next((e for e in benefit.get("extension", []) if e["url"] == REMAINING), None)
        if line.kind.value == "B":
            assert money_of(benefit["allowedMoney"]) == line.amount
        elif line.kind.value == "A":
            assert line.percent is not None and Decimal(benefit["allowedUnsignedInt"]) == line.percent * 100
        elif line.kind.value in ("C", "G"):
            allowed, used = money_of(benefit.get("allowedMoney")), money_of(benefit.get("usedMoney"))
            if period == "23":
                assert allowed == line.amount
            else:
                assert period == "29" and remaining_ext is not None
                assert money_of(remaining_ext["valueMoney"]) == line.amount
                assert allowed is not None and used is not None and allowed - used == line.amount
        elif line.kind.value == "F":
            if period == "23":
                assert Decimal(benefit["allowedUnsignedInt"]) == line.quantity
            else:
                assert remaining_ext is not None and Decimal(remaining_ext["valueUnsignedInt"]) == line.quantity
                assert Decimal(benefit["allowedUnsignedInt"] - benefit["usedUnsignedInt"]) == line.quantity
        checked += 1
    for service in truth.prior_auth_service_types:
        assert any(code_in(i["category"], "https://x12.org/codes/service-type-codes") == service.value
                   and i.get("authorizationRequired") is True for i in items)
    return checked


def check_authorizations(bundle: dict[str, Any], truth: list[Authorization]) -> None:
    found = {r["preAuthRef"]: r for r in resources(bundle, "ClaimResponse") if r["use"] == "preauthorization"}
    for auth in truth:
        response = found.get(auth.auth_number)
        assert response is not None, f"no ClaimResponse for authorization {auth.auth_number}"
        if auth.effective_date:
            assert response["preAuthPeriod"]["start"] == auth.effective_date.isoformat()
        if auth.expiration_date:
            assert response["preAuthPeriod"]["end"] == auth.expiration_date.isoformat()
        adjudications = [a for i in response.get("item", []) for a in i["adjudication"]] + response.get("adjudication", [])
        reviews = [e for a in adjudications for e in a.get("extension", []) if e["url"].endswith("extension-reviewAction")]
        assert reviews
        for review in reviews:
            parts = {p["url"]: p for p in review["extension"]}
            assert code_in(parts["code"]["valueCodeableConcept"], f"{X12}/306") == auth.status.value
            assert parts["number"]["valueString"] == auth.auth_number
        for n, service in enumerate(auth.services, start=1):
            item = next(i for i in response["item"] if i["itemSequence"] == n)
            units = {code_in(a["category"], f"{BASE}/CodeSystem/authorized-units"): a.get("value") for a in item["adjudication"]}
            assert Decimal(str(units["approved"])) == service.approved
            assert Decimal(str(units["remaining"])) == service.remaining


def check_claims(bundle: dict[str, Any], truth: list[ClaimStatus]) -> None:
    found = {identifier(r, f"{BASE}/claim-number/"): r for r in resources(bundle, "ClaimResponse") if r["use"] == "claim"}
    for claim in truth:
        response = found.get(claim.payer_claim_number)
        assert response is not None, f"no ClaimResponse for claim {claim.payer_claim_number}"
        totals = {code_in(t["category"], "http://terminology.hl7.org/CodeSystem/adjudication"): money_of(t["amount"])
                  for t in response["total"]}
        assert totals["submitted"] == claim.billed and totals["benefit"] == claim.paid
        assert totals.get("eligible") == claim.allowed
        if claim.paid > 0:
            assert money_of(response["payment"]["amount"]) == claim.paid
            if claim.check_number:
                assert response["payment"]["identifier"]["value"] == claim.check_number
        status = {p["url"]: p for p in response["extension"][0]["extension"]}
        assert status["category"]["valueCoding"]["code"] == claim.status_category.value
        for line in claim.lines:
            item = next(i for i in response["item"] if i["itemSequence"] == line.line_number)
            amounts = {code_in(a["category"], "http://terminology.hl7.org/CodeSystem/adjudication"): money_of(a["amount"])
                       for a in item["adjudication"]}
            assert amounts["benefit"] == line.paid and amounts["submitted"] == line.billed


def visit_answers(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """appointment id -> the CRD coverage-information parts of its ServiceRequests, in order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for request in resources(bundle, "ServiceRequest"):
        appointment = identifier(request, f"{BASE}/appointment-id")
        info = next(e for e in request["extension"] if e["url"] == CRD)
        parts = {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in info["extension"]}
        found.setdefault(str(appointment), []).append(parts)
    return found
