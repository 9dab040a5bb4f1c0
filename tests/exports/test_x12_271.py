"""The 271-shaped JSON of the members on the recorded pages equals the sandbox's ground truth, field by field.

The JSON is made from what the product extracted: each carrier's pure parser reads the recorded eligibility
page (tests/recorded_pages/<carrier>/eligibility/, as tests/test_recorded_pages.py does) and
`eligibility_271` renders the parsed record. The expected JSON is written here, from the seeded dataset the
pages were recorded with: the member, payer, plan and dates straight from the dataset, the benefit lines from
`sandbox.ground_truth.eligibility` (it computes what is left of the deductibles), each turned into the 271
entry by this file's own code tables (not the product's enums or its renderer).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aggregator.exports.x12_271 import eligibility_271
from aggregator.models import EligibilityQuery, EligibilityRecord
from aggregator.scrapers.registry import adapter_for
from sandbox import ground_truth
from sandbox.carriers import payer_source
from sandbox.recorded_cases import CARRIERS, recording_dataset

ROOT = Path(__file__).parents[1] / "recorded_pages"

# The 271's words for the codes (Stedi's eligibility v3 enums; /work/shared/design/STANDARDS.md §1).
EB01 = {"1": "Active Coverage", "6": "Inactive", "A": "Co-Insurance", "B": "Co-Payment", "C": "Deductible",
        "F": "Limitations", "G": "Out of Pocket (Stop Loss)", "I": "Non-Covered"}
KINDS = {"coinsurance": "A", "copay": "B", "deductible": "C", "limitation": "F", "out_of_pocket": "G",
         "non_covered": "I"}
EB02 = {"IND": "Individual", "FAM": "Family"}
EB06 = {"23": "Calendar Year", "29": "Remaining", "22": "Service Year", "27": "Visit"}
EB12 = {"Y": "Yes", "N": "No", "W": "Not Applicable"}
EB04 = {"C1": "Commercial", "HM": "Health Maintenance Organization (HMO)",
        "PR": "Preferred Provider Organization (PPO)", "PS": "Point of Service (POS)",
        "EP": "Exclusive Provider Organization"}
INS02 = {"18": "Self", "01": "Spouse", "19": "Child", "G8": "Other Relationship"}
SERVICE_TYPES = {"30": "Health Benefit Plan Coverage", "98": "Professional (Physician) Visit - Office",
                 "3": "Consultation", "UC": "Urgent Care", "86": "Emergency Services", "PT": "Physical Therapy",
                 "MH": "Mental Health", "62": "MRI/CAT Scan", "4": "Diagnostic X-Ray", "5": "Diagnostic Lab",
                 "2": "Surgical", "48": "Hospital - Inpatient", "50": "Hospital - Outpatient", "33": "Chiropractic",
                 "AL": "Vision (Optometry)", "88": "Pharmacy", "A6": "Psychotherapy", "AD": "Occupational Therapy",
                 "AF": "Speech Therapy", "81": "Routine Physical", "69": "Maternity", "1": "Medical Care",
                 "53": "Hospital - Ambulatory Surgical", "12": "Durable Medical Equipment Purchase",
                 "18": "Durable Medical Equipment Rental", "42": "Home Health Care", "AG": "Skilled Nursing Care",
                 "AI": "Substance Abuse", "76": "Dialysis", "45": "Hospice", "47": "Hospital", "35": "Dental Care"}


def yyyymmdd(iso: str) -> str:
    return iso.replace("-", "")


def truth_of(carrier: str, expected: dict[str, Any]) -> tuple[str, EligibilityQuery]:
    """(payer, the member id query ground truth answers) of a recorded case. The payer and the member are the
    expected file's (itself ground truth, tests/test_recorded_ground_truth.py), never the parser's: a carrier's
    own page is its own payer's, a hub's page one of the payers it serves; a name search names its member there."""
    query = EligibilityQuery.model_validate(expected["query"])
    payer = expected["record"].get("carrier") or carrier
    member_id = query.member_id or expected["record"].get("member", {}).get("member_id")
    return payer, query.model_copy(update={"member_id": member_id})


def extracted_cases() -> list[tuple[str, str, EligibilityQuery, EligibilityRecord]]:
    """Every recorded eligibility page a correct adapter reads a record from, parsed by its carrier's parser."""
    cases = []
    for carrier in CARRIERS:
        for expected_path in sorted((ROOT / carrier / "eligibility").glob("*.expected.json")):
            expected = json.loads(expected_path.read_text(encoding="utf-8"))
            if expected.get("record", {}).get("kind") != "eligibility":
                continue
            query = EligibilityQuery.model_validate(expected["query"])
            page = expected_path.with_name(expected_path.name.replace(".expected.json", ".html"))
            answer = adapter_for(carrier).parse_answer("eligibility", page.read_text(encoding="utf-8"), query)
            assert isinstance(answer, EligibilityRecord), page
            cases.append((carrier, page.stem, query, answer))
            PAYER_QUERIES[(carrier, page.stem)] = truth_of(carrier, expected)
    return cases


PAYER_QUERIES: dict[tuple[str, str], tuple[str, EligibilityQuery]] = {}  # (carrier, page) -> (payer, query)
CASES = extracted_cases()


def truth_source(carrier: str, page: str) -> tuple[Any, str, EligibilityQuery]:
    """(the payer's data in the recording's dataset, the payer, the member id query) of a recorded page."""
    payer, query = PAYER_QUERIES[(carrier, page)]
    return payer_source(recording_dataset(carrier), payer), payer, query


def expected_271(carrier: str, page: str) -> dict[str, Any]:
    """What the 271 must say about this member on this date, from the recording's dataset (the payer's data)."""
    dataset, payer, query = truth_source(carrier, page)
    data = dataset.carrier(payer)
    member = data.member(query.required_member_id)
    assert member is not None
    plan, group = data.plan_for(member), data.group_for(member)
    active = member.covered_on(query.service_date)
    status = "1" if active else "6"
    patient = {"memberId": member.member_id, "firstName": member.first_name, "lastName": member.last_name,
               "dateOfBirth": member.date_of_birth.strftime("%Y%m%d"),
               "relationToSubscriberCode": member.relationship.value,
               "relationToSubscriber": INS02[member.relationship.value]}
    people: dict[str, Any] = (
        {"subscriber": patient} if member.relationship.value == "18"
        else {"subscriber": {"memberId": member.subscriber_id}, "dependents": [patient]})
    dates = {"eligibilityBegin": member.effective_date.strftime("%Y%m%d")}
    if member.termination_date:
        dates["eligibilityEnd"] = member.termination_date.strftime("%Y%m%d")
    dates["service"] = query.service_date.strftime("%Y%m%d")
    truth = ground_truth.eligibility(dataset, payer, query)
    assert isinstance(truth, EligibilityRecord)
    benefits = [{"code": status, "name": EB01[status], "serviceTypeCodes": ["30"],
                 "serviceTypes": [SERVICE_TYPES["30"]], "insuranceTypeCode": plan.insurance_type.value,
                 "insuranceType": EB04[plan.insurance_type.value], "planCoverage": plan.name}]
    benefits += [expected_benefit(line) for line in truth.model_dump(mode="json")["benefits"]]
    return {
        "tradingPartnerServiceId": data.profile.payer_id,
        "payer": {"entityIdentifier": "Payer", "entityType": "Non-Person Entity", "name": data.profile.payer_name,
                  "payorIdentification": data.profile.payer_id},
        **people,
        "planInformation": {"groupNumber": group.number, "groupDescription": group.name},
        "planDateInformation": dates,
        "planStatus": [{"statusCode": status, "status": EB01[status], "planDetails": plan.name,
                        "serviceTypeCodes": ["30"]}],
        "benefitsInformation": benefits,
    }


def expected_benefit(line: dict[str, Any]) -> dict[str, Any]:
    """One ground-truth benefit line (its JSON form) as the 271 writes it."""
    code = KINDS[line["kind"]] if line["kind"] in KINDS else line["kind"]
    entry: dict[str, Any] = {"code": code, "name": EB01[code]}
    if line["coverage_level"]:
        entry |= {"coverageLevelCode": line["coverage_level"], "coverageLevel": EB02[line["coverage_level"]]}
    entry |= {"serviceTypeCodes": [line["service_type"]], "serviceTypes": [SERVICE_TYPES[line["service_type"]]]}
    if line["time_period"]:
        entry |= {"timeQualifierCode": line["time_period"], "timeQualifier": EB06[line["time_period"]]}
    if line["amount"] is not None:
        entry["benefitAmount"] = f"{Decimal(line['amount']):.2f}"
    if line["percent"] is not None:  # the patient's share as a fraction, no trailing zeros: "0.2"
        entry["benefitPercent"] = str(Decimal(line["percent"]).normalize())
    if line["quantity"] is not None:
        entry |= {"quantityQualifierCode": line["quantity_qualifier"], "quantityQualifier": "Visits",
                  "benefitQuantity": str(int(Decimal(line["quantity"])))}
    if line["prior_auth"] in ("Y", "N"):
        entry["authOrCertIndicator"] = line["prior_auth"]
    entry |= {"inPlanNetworkIndicatorCode": line["network"], "inPlanNetworkIndicator": EB12[line["network"]]}
    return entry


def fields(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value by its path, so a difference names the field."""
    if isinstance(value, dict):
        return {p: v for key, item in value.items() for p, v in fields(item, f"{path}.{key}" if path else key).items()}
    if isinstance(value, list):
        return {p: v for i, item in enumerate(value) for p, v in fields(item, f"{path}[{i}]").items()} or {path: []}
    return {path: value}


def test_the_recorded_pages_hold_twenty_members_of_every_carrier_in_every_shape() -> None:
    members = {(carrier, PAYER_QUERIES[(carrier, page)][1].member_id) for carrier, page, _, _ in CASES}
    assert len(members) >= 20
    assert {carrier for carrier, _ in members} == set(CARRIERS)
    records = [record for *_, record in CASES]
    assert any(r.coverage.status.value == "6" for r in records)  # inactive: termed and future
    assert any(r.member.relationship.value != "18" for r in records)  # dependents
    assert any(r.coverage.termination_date for r in records)
    lines = [line for r in records for line in r.benefits]
    assert {line.kind.value for line in lines} >= {"A", "B", "C", "F", "G", "I"}
    assert {line.network.value for line in lines} >= {"Y", "N"}
    assert {line.prior_auth.value for line in lines} >= {"Y", "N", "U"}


@pytest.mark.parametrize(("carrier", "page", "query", "record"), CASES, ids=[f"{c}/{p}" for c, p, _, _ in CASES])
def test_the_271_json_of_an_extracted_record_equals_ground_truth_field_by_field(
        carrier: str, page: str, query: EligibilityQuery, record: EligibilityRecord) -> None:
    produced = json.loads(json.dumps(eligibility_271(record)))  # what a consumer reads back
    expected = expected_271(carrier, page)
    got, want = fields(produced), fields(expected)
    differing = sorted(p for p in got.keys() | want.keys() if got.get(p, "<absent>") != want.get(p, "<absent>"))
    assert not differing, {p: (got.get(p, "<absent>"), want.get(p, "<absent>")) for p in differing[:10]}
    assert produced == expected  # and the same order of entries
    benefit_entries = produced["benefitsInformation"][1:]
    dataset, payer, member_query = truth_source(carrier, page)
    assert len(benefit_entries) == len(ground_truth.eligibility(dataset, payer, member_query).benefits)


def test_the_json_is_deterministic_and_json_safe() -> None:
    _, _, _, record = CASES[0]
    first = json.dumps(eligibility_271(record))
    assert first == json.dumps(eligibility_271(record.model_copy(deep=True)))
    assert all(isinstance(v, str | type(None)) or isinstance(v, list) for v in fields(eligibility_271(record)).values())


def test_percent_is_the_patients_share_as_a_decimal_fraction() -> None:
    coinsurance = [entry for *_, record in CASES for entry in eligibility_271(record)["benefitsInformation"]
                   if entry["code"] == "A"]
    assert coinsurance
    for entry in coinsurance:
        assert "benefitAmount" not in entry
        assert Decimal(0) <= Decimal(entry["benefitPercent"]) <= Decimal(1)
        assert entry["benefitPercent"] == "0" or not entry["benefitPercent"].endswith("0")


def not_found_cases() -> list[tuple[str, str, EligibilityQuery, Any]]:
    cases = []
    for carrier in CARRIERS:
        for expected_path in sorted((ROOT / carrier / "eligibility").glob("*.expected.json")):
            expected = json.loads(expected_path.read_text(encoding="utf-8"))
            if expected.get("record", {}).get("kind") == "not_found":
                query = EligibilityQuery.model_validate(expected["query"])
                page = expected_path.with_name(expected_path.name.replace(".expected.json", ".html"))
                answer = adapter_for(carrier).parse_answer("eligibility", page.read_text(encoding="utf-8"), query)
                cases.append((carrier, page.stem, query, answer))
                NOT_FOUND_PAYERS[(carrier, page.stem)] = expected["record"].get("carrier") or carrier
    return cases


NOT_FOUND_PAYERS: dict[tuple[str, str], str] = {}  # (carrier, page) -> the payer the not-found answer is for


@pytest.mark.parametrize(("carrier", "page", "query", "answer"), not_found_cases(),
                         ids=[f"{c}/{p}" for c, p, _, _ in not_found_cases()])
def test_a_member_not_found_is_the_271s_aaa_rejection_with_the_ground_truth_reason(
        carrier: str, page: str, query: EligibilityQuery, answer: Any) -> None:
    from aggregator.exports.x12_271 import not_found_271

    payer = NOT_FOUND_PAYERS[(carrier, page)]
    truth = ground_truth.eligibility(payer_source(recording_dataset(carrier), payer), payer, query)
    assert not isinstance(truth, EligibilityRecord)
    reasons = {"75": "Subscriber/Insured Not Found", "71": "Patient Birth Date Does Not Match That for the Patient "
               "on the Database", "73": "Invalid/Missing Subscriber/Insured Name"}
    code = truth.reject_reason.value
    error = {"field": "AAA", "code": code, "description": reasons[code], "followupActionCode": "C",
             "followupAction": "Please Correct and Resubmit", "location": "Loop 2100C"}
    subscriber = {"memberId": query.member_id, "dateOfBirth": query.date_of_birth.strftime("%Y%m%d")}
    if query.last_name:
        subscriber["lastName"] = query.last_name
    assert not_found_271(answer) == {"subscriber": {**subscriber, "aaaErrors": [error]},
                                     "planDateInformation": {"service": query.service_date.strftime("%Y%m%d")},
                                     "errors": [error]}
