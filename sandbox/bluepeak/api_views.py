"""Ground-truth records -> the JSON BluePeak's API sends (formatting only, never a computation).

Every value comes from the product's record models that `sandbox.ground_truth` returns, plus names
the records do not carry (member names on candidates and lists). v2 adds informational fields
(cosmetic), and for two plans changes what benefit values *mean* (`V2_MEANING_CHANGES`).
"""

from __future__ import annotations

from typing import Any

from aggregator.models import BenefitKind, BenefitLine, CoverageStatus, EligibilityRecord, NetworkIndicator, ServiceType
from aggregator.models.authorization import Authorization
from aggregator.models.claims import ClaimStatus
from sandbox.bluepeak import vocabulary as v
from sandbox.dataset import CarrierData, MemberData

PLAN_LEVEL = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE
SERVICE_ORDER = (ServiceType.OFFICE_VISIT, ServiceType.URGENT_CARE, ServiceType.EMERGENCY_SERVICES,
                 ServiceType.MRI_CAT_SCAN, ServiceType.DIAGNOSTIC_LAB, ServiceType.PHYSICAL_THERAPY,
                 ServiceType.MENTAL_HEALTH, ServiceType.CHIROPRACTIC)


def meaning_change_for(data: CarrierData, member_id: str, layout: str) -> str | None:
    """Which v2 change of meaning (if any) this member's benefits carry."""
    member = data.member(member_id)
    if layout != "v2" or member is None:
        return None
    return v.V2_MEANING_CHANGES.get(data.plan_for(member).code)


def candidate(member: MemberData) -> dict[str, Any]:
    return {"memberId": member.member_id, "firstName": member.first_name, "lastName": member.last_name,
            "dateOfBirth": member.date_of_birth.isoformat(), "relationship": v.RELATIONSHIP_CODES[member.relationship]}


def eligibility_json(record: EligibilityRecord, data: CarrierData, layout: str) -> dict[str, Any]:
    change = meaning_change_for(data, record.member.member_id, layout)
    networks = dict(v.NETWORK_CODES)
    if change == "tier_labels":
        networks = {n: ("T1" if code == "IN" else "T2") for n, code in networks.items()}
    m, c, p = record.member, record.coverage, record.plan
    body: dict[str, Any] = {
        "dateOfService": record.service_date.isoformat(),
        "member": {"memberId": m.member_id, "subscriberId": m.subscriber_id, "firstName": m.first_name,
                   "lastName": m.last_name, "dateOfBirth": m.date_of_birth.isoformat(),
                   "relationship": v.RELATIONSHIP_CODES[m.relationship]},
        "coverage": {"payerName": record.payer.name, "payerId": record.payer.payer_id, "planName": p.name,
                     "planType": v.PLAN_TYPE_CODES[p.insurance_type], "groupNumber": p.group_number,
                     "groupName": p.group_name, "status": v.COVERAGE_CODES[c.status],
                     "effectiveDate": c.effective_date.isoformat(), "terminationDate": v.iso(c.termination_date)},
        "accumulators": [], "services": [], "priorAuthServices": [],
    }
    if c.status is CoverageStatus.ACTIVE:
        body["accumulators"] = [_accumulator(b, networks) for b in record.benefits if b.service_type is PLAN_LEVEL]
        body["services"] = [_service(record, service, networks, change) for service in SERVICE_ORDER
                            if any(b.service_type is service for b in record.benefits)]
        body["priorAuthServices"] = [v.SERVICE_CODES[s] for s in SERVICE_ORDER if s in record.prior_auth_service_types]
    if layout == "v2":  # cosmetic: informational fields an old reader never needed
        body["schemaVersion"] = 2
        body["_links"] = {"self": f"/api/members/{m.member_id}/eligibility"}
    return body


def _accumulator(b: BenefitLine, networks: dict[NetworkIndicator, str]) -> dict[str, Any]:
    assert b.coverage_level is not None and b.time_period is not None  # a plan-level accumulator has both
    return {"type": v.ACCUMULATOR_CODES[b.kind], "level": v.LEVEL_CODES[b.coverage_level],
            "period": v.PERIOD_CODES[b.time_period], "network": networks[b.network], "amount": v.amount(b.amount)}


def _service(record: EligibilityRecord, service: ServiceType, networks: dict[NetworkIndicator, str],
             change: str | None) -> dict[str, Any]:
    lines = [b for b in record.benefits if b.service_type is service]
    benefits = []
    for b in lines:
        entry: dict[str, Any] = {"network": networks[b.network]}
        if b.kind is BenefitKind.NON_COVERED:
            entry["type"] = v.NOT_COVERED_CODE
        else:
            entry["type"] = v.BENEFIT_CODES[(b.kind, b.time_period)]
            if b.kind is BenefitKind.COINSURANCE:
                assert b.percent is not None
                if change == "plan_share":
                    entry.update(value=v.percent(1 - b.percent), basis="PLAN")
                else:
                    entry["value"] = v.percent(b.percent)
            elif b.kind is BenefitKind.LIMITATION:
                assert b.quantity is not None
                entry["value"] = int(b.quantity)
            else:
                entry["value"] = v.amount(b.amount)
        benefits.append(entry)
    required = any(b.prior_auth.value == "Y" for b in lines)
    return {"code": v.SERVICE_CODES[service], "priorAuthRequired": required, "benefits": benefits}


def authorization_json(auth: Authorization, layout: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "authNumber": auth.auth_number, "memberId": auth.member_id, "status": v.AUTH_STATUS_CODES[auth.status],
        "requestType": v.REQUEST_CODES[auth.request_category], "service": v.SERVICE_CODES[auth.service_type],
        "effectiveDate": v.iso(auth.effective_date), "expirationDate": v.iso(auth.expiration_date),
        "provider": {"name": auth.servicing_provider_name, "npi": auth.servicing_provider_npi},
        "decisionReason": v.REASON_CODES[auth.decision_reason] if auth.decision_reason else None,
        "lastUpdated": auth.last_updated.isoformat(),
        "lines": [{"procedureCode": s.procedure_code, "unit": v.UNIT_CODES[s.unit], "approved": int(s.approved),
                   "used": int(s.used), "remaining": int(s.remaining)} for s in auth.services],
    }
    if layout == "v2":
        body["schemaVersion"] = 2
    return body


def claim_json(claim: ClaimStatus, layout: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "claimNumber": claim.payer_claim_number, "patientAccount": claim.provider_account_number,
        "memberId": claim.member_id, "serviceFrom": claim.service_from.isoformat(),
        "serviceTo": claim.service_to.isoformat(), "status": v.CLAIM_STATUS_CODES[claim.status_category],
        "statusCode": claim.status_code, "receivedDate": claim.received_date.isoformat(),
        "processedDate": v.iso(claim.adjudicated_date), "paidDate": v.iso(claim.paid_date),
        "paymentNumber": claim.check_number,
        "totals": {"billed": v.amount(claim.billed), "allowed": v.amount(claim.allowed), "paid": v.amount(claim.paid),
                   "memberOwes": v.amount(claim.patient_responsibility)},
        "lines": [{"line": line.line_number, "procedureCode": line.procedure_code,
                   "serviceDate": line.service_date.isoformat(), "units": int(line.units),
                   "billed": v.amount(line.billed), "allowed": v.amount(line.allowed), "paid": v.amount(line.paid),
                   "adjustments": [{"group": a.group.value, "reason": a.reason.value, "amount": v.amount(a.amount)}
                                   for a in line.adjustments]}
                  for line in claim.lines],
    }
    if layout == "v2":
        body["schemaVersion"] = 2
    return body
