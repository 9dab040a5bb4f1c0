"""An eligibility answer as FHIR: `Coverage` and `CoverageEligibilityResponse` (with the `Patient` and the payer's
`Organization` in the ResourceSet), or a response with outcome `error` when the carrier has no such member.

One `insurance.item` per service type / network / coverage level / term, its `benefit` entries built from the
record's EB lines (docs/exports.md has the table):
copay -> benefit-type `copay` (allowedMoney); coinsurance -> `copay-percent` (allowedUnsignedInt, whole percent:
EB08 0.20 -> 20); deductible and out-of-pocket -> allowed = the period's total, used = total - remaining (the
remaining amount is also carried as-is in the `benefit-remaining` extension, it is what the desk reads); visit
limits -> `visit` (allowed and used visits). Every type also carries its X12 EB01 coding, since HL7's
benefit-type has no code for coinsurance or out-of-pocket.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse

from aggregator.exports.fhir_common import (
    EXT,
    SYSTEM_LOOKUP,
    THO,
    X12,
    X12_SERVICE_TYPE,
    ResourceSet,
    coding,
    concept,
    instant,
    member_identifier,
    money,
    period,
    resource_id,
)
from aggregator.models import (
    AuthIndicator,
    BenefitKind,
    BenefitLine,
    CoverageLevel,
    CoverageStatus,
    EligibilityQuery,
    EligibilityRecord,
    MemberNotFound,
    NetworkIndicator,
    QuantityQualifier,
    Relationship,
    ServiceType,
    TimePeriod,
)

EXT_REMAINING = f"{EXT}/benefit-remaining"
_TERM = {TimePeriod.SERVICE_YEAR: "annual", TimePeriod.CALENDAR_YEAR: "annual", TimePeriod.YEAR_TO_DATE: "annual",
         TimePeriod.REMAINING: "annual", TimePeriod.LIFETIME: "lifetime", TimePeriod.LIFETIME_REMAINING: "lifetime"}
_TOTAL = (None, TimePeriod.SERVICE_YEAR, TimePeriod.CALENDAR_YEAR, TimePeriod.LIFETIME)
_REMAINING = (TimePeriod.REMAINING, TimePeriod.LIFETIME_REMAINING)
_NETWORK = {NetworkIndicator.IN_NETWORK: "in", NetworkIndicator.OUT_OF_NETWORK: "out"}
_UNIT = {CoverageLevel.INDIVIDUAL: "individual", CoverageLevel.FAMILY: "family"}
_RELATIONSHIP = {Relationship.SELF: "self", Relationship.SPOUSE: "spouse", Relationship.CHILD: "child"}
_BENEFIT_TYPE = {  # EB01 -> (system, code) of the HL7 coding that goes first
    BenefitKind.COPAY: (f"{THO}/benefit-type", "copay"),
    BenefitKind.COINSURANCE: (f"{THO}/benefit-type", "copay-percent"),
    BenefitKind.DEDUCTIBLE: (f"{THO}/benefit-type", "deductible"),
    BenefitKind.OUT_OF_POCKET: (f"{THO}/coverage-copay-type", "maxoutofpocket"),
}


@dataclass(frozen=True)
class EligibilityResources:
    """Ids of what one eligibility answer became (the Provenance targets them; prior-auth answers cite the
    Coverage)."""

    response_id: str
    coverage_id: str | None
    patient: dict[str, Any]
    targets: list[dict[str, Any]] = field(default_factory=list)


def add_eligibility(resources: ResourceSet, record: EligibilityRecord, lookup_id: str) -> EligibilityResources:
    member = record.member
    patient = resources.patient(record.carrier, member.member_id, first_name=member.first_name,
                                last_name=member.last_name, birth_date=member.date_of_birth)
    payer = resources.payer(record.carrier, name=record.payer.name, payer_id=record.payer.payer_id)
    coverage_resource = _coverage(record, patient, payer)
    coverage = resources.add(coverage_resource)
    in_force = record.coverage.status is CoverageStatus.ACTIVE
    insurance: dict[str, Any] = {"coverage": coverage, "inforce": in_force,
                                 "item": [*_items(record)]}
    benefit_period = period(record.coverage.effective_date, record.coverage.termination_date)
    if benefit_period:
        insurance["benefitPeriod"] = benefit_period
    if not insurance["item"]:
        del insurance["item"]
    disposition = (f"coverage in force on {record.service_date}" if in_force
                   else f"coverage not in force on {record.service_date}")
    response = CoverageEligibilityResponse.model_validate({
        **_response_base(lookup_id, patient, payer, record.service_date,
                         record.provenance.fetched_at if record.provenance else None),
        "purpose": ["benefits", "validation", "auth-requirements"], "outcome": "complete",
        "disposition": disposition, "insurance": [insurance],
    })
    response_ref = resources.add(response)
    return EligibilityResources(response_id=str(response.id), coverage_id=str(coverage_resource.id), patient=patient,
                                targets=[response_ref, coverage])


def add_not_found(resources: ResourceSet, answer: MemberNotFound, lookup_id: str) -> EligibilityResources:
    """No such member (or the date of birth or name does not match): outcome `error`, the AAA03 code."""
    query = answer.query
    assert isinstance(query, EligibilityQuery)
    patient = resources.patient(answer.carrier, query.member_id, first_name=query.first_name,
                                last_name=query.last_name, birth_date=query.date_of_birth)
    payer = resources.payer(answer.carrier)
    reason = answer.reject_reason
    response = CoverageEligibilityResponse.model_validate({
        **_response_base(lookup_id, patient, payer, query.service_date,
                         answer.provenance.fetched_at if answer.provenance else None),
        "purpose": ["validation"], "outcome": "error", "disposition": reason.label,
        "error": [{"code": concept(coding(f"{X12}/901", reason.value, reason.label))}],
    })
    return EligibilityResources(response_id=str(response.id), coverage_id=None, patient=patient,
                                targets=[resources.add(response)])


def _response_base(lookup_id: str, patient: dict[str, Any], payer: dict[str, Any], service_date: date,
                   fetched_at: datetime | None) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": resource_id("eligibility", lookup_id), "status": "active",
        "identifier": [{"system": SYSTEM_LOOKUP, "value": lookup_id}],
        "patient": patient, "insurer": payer, "servicedDate": service_date.isoformat(),
        # The question was asked of a portal, not sent as a FHIR request: the lookup id names it.
        "request": {"type": "CoverageEligibilityRequest", "identifier": {"system": SYSTEM_LOOKUP, "value": lookup_id}},
    }
    if fetched_at is not None:
        base["created"] = instant(fetched_at)
    return base


def _coverage(record: EligibilityRecord, patient: dict[str, Any], payer: dict[str, Any]) -> Coverage:
    member, plan = record.member, record.plan
    relationship = _RELATIONSHIP.get(member.relationship, "other")
    data: dict[str, Any] = {
        "id": resource_id("coverage", record.carrier, member.member_id, plan.group_number, plan.name),
        # The status of this record, which is current; whether the coverage is in force on the visit's date is
        # the response's `inforce` and this `period`.
        "status": "active",
        "identifier": [member_identifier(record.carrier, member.member_id)],
        "type": concept(coding(f"{X12}/1336", plan.insurance_type.value, plan.insurance_type.label)),
        "subscriberId": member.subscriber_id, "beneficiary": patient,
        "relationship": concept(coding(f"{THO}/subscriber-relationship", relationship),
                                coding(f"{X12}/1069", member.relationship.value, member.relationship.label)),
        "payor": [payer],
        "class": [
            {"type": concept(coding(f"{THO}/coverage-class", "group")), "value": plan.group_number,
             "name": plan.group_name},
            {"type": concept(coding(f"{THO}/coverage-class", "plan")), "value": plan.name, "name": plan.name},
        ],
    }
    coverage_period = period(record.coverage.effective_date, record.coverage.termination_date)
    if coverage_period:
        data["period"] = coverage_period
    return Coverage.model_validate(data)


ItemKey = tuple[ServiceType, NetworkIndicator, CoverageLevel | None, str | None]


def _items(record: EligibilityRecord) -> Iterable[dict[str, Any]]:
    groups: dict[ItemKey, list[BenefitLine]] = {}
    for line in record.benefits:
        term = _TERM.get(line.time_period) if line.time_period else None
        groups.setdefault((line.service_type, line.network, line.coverage_level, term), []).append(line)
    listed = set(record.prior_auth_service_types)
    seen_services = set()
    for (service, network, level, term), lines in groups.items():
        seen_services.add(service)
        yield _item(service, network, level, term, lines, service in listed)
    for service in sorted(listed - seen_services, key=lambda s: s.value):  # on the carrier's list, no EB line
        yield _item(service, NetworkIndicator.NOT_APPLICABLE, None, None, [], True)


def _item(service: ServiceType, network: NetworkIndicator, level: CoverageLevel | None, term: str | None,
          lines: list[BenefitLine], listed: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "category": concept(coding(X12_SERVICE_TYPE, service.value, service.label), text=service.label),
        "network": _network(network),
    }
    if level is not None:
        codings = [coding(f"{X12}/1207", level.value, level.label)]
        if level in _UNIT:
            codings.insert(0, coding(f"{THO}/benefit-unit", _UNIT[level]))
        item["unit"] = concept(*codings)
    if term is not None:
        item["term"] = concept(coding(f"{THO}/benefit-term", term))
    if any(line.kind is BenefitKind.NON_COVERED for line in lines):
        item["excluded"] = True
    # Required when any line says so or the carrier lists the service (the safer answer, as the prior-auth flow
    # decides); not required only when every line says N; unknown (U) leaves it unset.
    indicators = {line.prior_auth for line in lines}
    if listed or AuthIndicator.REQUIRED in indicators:
        item["authorizationRequired"] = True
    elif indicators == {AuthIndicator.NOT_REQUIRED}:
        item["authorizationRequired"] = False
    benefits = [*_benefits(lines)]
    if benefits:
        item["benefit"] = benefits
    return item


def _network(network: NetworkIndicator) -> dict[str, Any]:
    codings = [coding(f"{X12}/1073", network.value, network.label)]
    if network in _NETWORK:
        codings.insert(0, coding(f"{THO}/benefit-network", _NETWORK[network]))
    return concept(*codings)


def _benefits(lines: list[BenefitLine]) -> Iterable[dict[str, Any]]:
    by_kind: dict[BenefitKind, list[BenefitLine]] = {}
    for line in lines:
        by_kind.setdefault(line.kind, []).append(line)
    for kind, same in by_kind.items():
        if kind is BenefitKind.NON_COVERED:
            continue  # the item's `excluded`
        if kind is BenefitKind.COINSURANCE:
            yield from (_percent(line) for line in same)
        elif kind is BenefitKind.LIMITATION:
            yield from _limits(same)
        else:
            yield from _amounts(kind, same)


def _type(kind: BenefitKind, extra: dict[str, str] | None = None) -> dict[str, Any]:
    codings = [coding(f"{X12}/1390", kind.value, kind.label)]
    if extra is not None:
        codings.insert(0, extra)
    elif kind in _BENEFIT_TYPE:
        codings.insert(0, coding(*_BENEFIT_TYPE[kind]))
    return concept(*codings, text=kind.label)


def _percent(line: BenefitLine) -> dict[str, Any]:
    assert line.percent is not None
    whole = line.percent * 100
    benefit: dict[str, Any] = {"type": _type(line.kind)}
    if whole == whole.to_integral_value():
        benefit["allowedUnsignedInt"] = int(whole)
    else:  # a fractional percent does not fit unsignedInt
        benefit["allowedString"] = f"{whole.normalize()}%"
    return benefit


def _amounts(kind: BenefitKind, lines: list[BenefitLine]) -> Iterable[dict[str, Any]]:
    """Copays per line; a deductible or out-of-pocket's total, met and remaining lines become one benefit."""
    if kind is BenefitKind.COPAY:
        for line in lines:
            assert line.amount is not None
            yield {"type": _type(kind), "allowedMoney": money(line.amount)}
        return
    total = next((line.amount for line in lines if line.time_period in _TOTAL), None)
    met = next((line.amount for line in lines if line.time_period is TimePeriod.YEAR_TO_DATE), None)
    remaining = next((line.amount for line in lines if line.time_period in _REMAINING), None)
    benefit: dict[str, Any] = {"type": _type(kind)}
    if total is not None:
        benefit["allowedMoney"] = money(total)
        if met is None and remaining is not None:
            met = max(Decimal(0), total - remaining)
    if met is not None:
        benefit["usedMoney"] = money(met)
    if remaining is not None:
        benefit["extension"] = [{"url": EXT_REMAINING, "valueMoney": money(remaining)}]
    yield benefit


def _limits(lines: list[BenefitLine]) -> Iterable[dict[str, Any]]:
    """Visit (or day) limits: allowed = the period's limit, used = limit - remaining (or the used count)."""
    by_unit: dict[QuantityQualifier | None, list[BenefitLine]] = {}
    for line in lines:
        by_unit.setdefault(line.quantity_qualifier, []).append(line)
    for unit, same in by_unit.items():
        total = next((line.quantity for line in same if line.time_period in _TOTAL), None)
        remaining = next((line.quantity for line in same if line.time_period in _REMAINING), None)
        used = next((line.quantity for line in same if line.time_period is TimePeriod.YEAR_TO_DATE), None)
        if used is None and total is not None and remaining is not None:
            used = max(Decimal(0), total - remaining)
        kind = same[0].kind
        visits = coding(f"{THO}/benefit-type", "visit") if unit is QuantityQualifier.VISITS else None
        benefit: dict[str, Any] = {"type": _type(kind, visits)}
        if unit is not None:
            benefit["type"]["coding"].append(coding(f"{X12}/673", unit.value, unit.label))
        if total is not None:
            benefit["allowedUnsignedInt"] = int(total)
        if used is not None:
            benefit["usedUnsignedInt"] = int(used)
        if remaining is not None:
            benefit["extension"] = [{"url": EXT_REMAINING, "valueUnsignedInt": int(remaining)}]
        yield benefit
