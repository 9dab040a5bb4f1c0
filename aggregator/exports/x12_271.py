"""An eligibility record as 271-shaped JSON: the JSON rendering of an X12 271 that clearinghouse eligibility
APIs return (Stedi / Change Healthcare "eligibility v3" style keys), so tools built to read those can read ours.

What goes where (docs/exports.md, "271-shaped JSON"):
- `subscriber`: the subscriber loop (2100C). When the patient is the subscriber it carries the member id,
  names and date of birth; when the patient is a dependent it carries only the subscriber's member id (the
  portal shows no more about the subscriber) and the patient is the one entry of `dependents` (2100D), with
  the relationship code (INS02). No gender: no carrier portal shows it, so it is left out, never guessed.
- `planStatus` and the first `benefitsInformation` entry: EB01 1 (active) or 6 (inactive) for service type
  30, with the insurance type (EB04) and the plan name (EB05).
- `planDateInformation`: the member's eligibility dates (DTP 356/357) and the date of service (DTP 472).
- one `benefitsInformation` entry per benefit line (EB segment) of the record, in the record's canonical
  order: EB01 code and name, coverage level (EB02), service types (EB03), time qualifier (EB06), amount
  (EB07) or percent (EB08, the patient's share as a decimal fraction: "0.2"), quantity (EB09/EB10),
  authorization indicator (EB11, only when the portal said Y or N) and network indicator (EB12).

Dates are CCYYMMDD and decimals are strings, as those APIs write them; the same record always gives the
same JSON (no clock, no ids made up here).

A "no such member" answer (`not_found_271`) is the 271's AAA rejection in the subscriber loop: the reject
reason (AAA03) and "Please Correct and Resubmit" (AAA04 C), with the member id, date of birth and last name
that were asked about (the 271 echoes the inquiry's subscriber).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from aggregator.models import (
    AuthIndicator,
    BenefitLine,
    EligibilityQuery,
    EligibilityRecord,
    InsuranceType,
    MemberNotFound,
    NetworkIndicator,
    Relationship,
    ServiceType,
)

PLAN_LEVEL = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE

# The words those APIs put beside a code where they differ from the 005010 label the enums carry.
INSURANCE_TYPE_NAMES = {
    InsuranceType.COMMERCIAL: "Commercial",
    InsuranceType.HMO: "Health Maintenance Organization (HMO)",
    InsuranceType.PPO: "Preferred Provider Organization (PPO)",
    InsuranceType.POS: "Point of Service (POS)",
    InsuranceType.EPO: "Exclusive Provider Organization",
}
NETWORK_NAMES = {
    NetworkIndicator.IN_NETWORK: "Yes",
    NetworkIndicator.OUT_OF_NETWORK: "No",
    NetworkIndicator.NOT_APPLICABLE: "Not Applicable",
    NetworkIndicator.UNKNOWN: "Unknown",
}
STATED_AUTH = (AuthIndicator.REQUIRED, AuthIndicator.NOT_REQUIRED)  # U is "the portal said nothing": left out


def d8(day: date) -> str:
    """A date as X12 writes it (D8 format, CCYYMMDD)."""
    return day.strftime("%Y%m%d")


def money(amount: Decimal) -> str:
    """A dollar amount with its cents ("25.00")."""
    return f"{amount.quantize(Decimal('0.01')):f}"


def plain_decimal(value: Decimal) -> str:
    """A percent or quantity without trailing zeros or exponent ("0.2", "20")."""
    return f"{value.normalize():f}"


def eligibility_271(record: EligibilityRecord) -> dict[str, Any]:
    """The 271-shaped JSON of one eligibility answer (a dict ready for `json.dumps`)."""
    status = record.coverage.status
    plan_status = {
        "statusCode": status.value,
        "status": status.label,
        "planDetails": record.plan.name,
        "serviceTypeCodes": [PLAN_LEVEL.value],
    }
    coverage_entry = {
        "code": status.value,
        "name": status.label,
        "serviceTypeCodes": [PLAN_LEVEL.value],
        "serviceTypes": [PLAN_LEVEL.label],
        "insuranceTypeCode": record.plan.insurance_type.value,
        "insuranceType": INSURANCE_TYPE_NAMES[record.plan.insurance_type],
        "planCoverage": record.plan.name,
    }
    body: dict[str, Any] = {
        "tradingPartnerServiceId": record.payer.payer_id,
        "payer": {
            "entityIdentifier": "Payer",
            "entityType": "Non-Person Entity",
            "name": record.payer.name,
            "payorIdentification": record.payer.payer_id,
        },
        **_people(record),
        "planInformation": {"groupNumber": record.plan.group_number, "groupDescription": record.plan.group_name},
        "planDateInformation": _dates(record),
        "planStatus": [plan_status],
        "benefitsInformation": [coverage_entry, *(_benefit(line) for line in record.benefits)],
    }
    return body


def _people(record: EligibilityRecord) -> dict[str, Any]:
    member = record.member
    patient = {
        "memberId": member.member_id,
        "firstName": member.first_name,
        "lastName": member.last_name,
        "dateOfBirth": d8(member.date_of_birth),
    }
    if member.relationship is Relationship.SELF:
        return {"subscriber": {**patient, "relationToSubscriberCode": member.relationship.value,
                               "relationToSubscriber": member.relationship.label}}
    dependent = {**patient, "relationToSubscriberCode": member.relationship.value,
                 "relationToSubscriber": member.relationship.label}
    return {"subscriber": {"memberId": member.subscriber_id}, "dependents": [dependent]}


def _dates(record: EligibilityRecord) -> dict[str, str]:
    dates = {"eligibilityBegin": d8(record.coverage.effective_date)}
    if record.coverage.termination_date is not None:
        dates["eligibilityEnd"] = d8(record.coverage.termination_date)
    dates["service"] = d8(record.service_date)
    return dates


def _benefit(line: BenefitLine) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": line.kind.value, "name": line.kind.label}
    if line.coverage_level is not None:
        entry["coverageLevelCode"] = line.coverage_level.value
        entry["coverageLevel"] = line.coverage_level.label
    entry["serviceTypeCodes"] = [line.service_type.value]
    entry["serviceTypes"] = [line.service_type.label]
    if line.time_period is not None:
        entry["timeQualifierCode"] = line.time_period.value
        entry["timeQualifier"] = line.time_period.label
    if line.amount is not None:
        entry["benefitAmount"] = money(line.amount)
    if line.percent is not None:
        entry["benefitPercent"] = plain_decimal(line.percent)
    if line.quantity is not None and line.quantity_qualifier is not None:
        entry["quantityQualifierCode"] = line.quantity_qualifier.value
        entry["quantityQualifier"] = line.quantity_qualifier.label
        entry["benefitQuantity"] = plain_decimal(line.quantity)
    if line.prior_auth in STATED_AUTH:
        entry["authOrCertIndicator"] = line.prior_auth.value
    entry["inPlanNetworkIndicatorCode"] = line.network.value
    entry["inPlanNetworkIndicator"] = NETWORK_NAMES[line.network]
    return entry


def not_found_271(answer: MemberNotFound) -> dict[str, Any]:
    """The 271-shaped JSON of an eligibility lookup that found no such member (an AAA rejection)."""
    query = answer.query
    if not isinstance(query, EligibilityQuery):
        raise ValueError(f"a 271 answers an eligibility lookup, not a {type(query).__name__}")
    error = {
        "field": "AAA",
        "code": answer.reject_reason.value,
        "description": answer.reject_reason.label,
        "followupActionCode": "C",
        "followupAction": "Please Correct and Resubmit",
        "location": "Loop 2100C",
    }
    subscriber: dict[str, Any] = {"memberId": query.member_id, "dateOfBirth": d8(query.date_of_birth)}
    if query.last_name:
        subscriber["lastName"] = query.last_name
    return {
        "subscriber": {**subscriber, "aaaErrors": [error]},
        "planDateInformation": {"service": d8(query.service_date)},
        "errors": [error],
    }
