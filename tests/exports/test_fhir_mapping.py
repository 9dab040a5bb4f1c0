"""The FHIR mapping without a browser: ground-truth records of every sandbox carrier (eligibility of active,
dependent, termed, future and unknown members; authorizations of every decision; claims of every status
category) become a Bundle; every resource validates with the model library and survives a round trip, and
the values read back equal the ground truth."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from aggregator.exports.day import DayAnswers, StoredAnswer, Visit
from aggregator.exports.fhir_bundle import day_bundle
from aggregator.exports.fhir_claims import outcome_of
from aggregator.flows.authorization import answer_authorization
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimList,
    ClaimQuery,
    EligibilityRecord,
    MemberNotFound,
    Provenance,
    RejectReason,
    ServiceType,
)
from aggregator.models.codes import ClaimStatusCategory
from aggregator.scrapers.framework import Capability
from aggregator.store.tables import AppointmentRow, BatchItemRow, EvidenceRow
from sandbox import ground_truth
from sandbox.carriers import payer_source
from tests.carrier_params import payers, portal_payers
from tests.exports import fhir_truth
from tests.web.conftest import dataset

# Every payer some registered portal serves (a carrier's own site, or a hub's payers), discovered; its records
# come from that payer's ground truth (a hub's payers: the hub's data).
CARRIERS = tuple(payers())
KINDS = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob")
FETCHED = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def evidence_row(n: int, lookup_id: str) -> EvidenceRow:
    return EvidenceRow(id=f"ev{n:030d}", seq=n, lookup_id=lookup_id, carrier="ridgeline", account_label="frontdesk",
                       flow="eligibility", label="benefits", url="http://portal.invalid/benefits", captured_at=FETCHED,
                       screenshot_sha256=f"{n:064x}", html_sha256=f"{n + 1000:064x}", screenshot_path="a/b.png",
                       html_path="a/b.html", prev_hash="0" * 64, entry_hash=f"{n + 2000:064x}",
                       document_path="a/c.pdf" if n % 2 else None, document_sha256=f"{n + 3000:064x}" if n % 2 else None,
                       document_media_type="application/pdf" if n % 2 else None)


def stored(lookup_id: str, answer, n: int) -> StoredAnswer:  # type: ignore[no-untyped-def]
    row = evidence_row(n, lookup_id)
    with_provenance = answer.model_copy(update={"provenance": Provenance(
        carrier=answer.carrier, portal_account="frontdesk", fetched_at=FETCHED, evidence_ids=[row.id])})
    return StoredAnswer(lookup_id=lookup_id, answer=with_provenance, evidence=[row])


def truth_day() -> tuple[DayAnswers, dict[str, object]]:
    base = dataset()
    answers: list[StoredAnswer] = []
    truth: dict[str, object] = {}
    n = 0
    with_authorizations = {payer for _, payer in portal_payers(Capability.AUTHORIZATION)}
    for carrier in CARRIERS:
        data = payer_source(base, carrier)
        for sample in ground_truth.sample_members(data, carrier, len(KINDS), kinds=KINDS):
            n += 1
            answers.append(stored(f"elig-{n}", sample.expected, n))
            truth[f"elig-{n}"] = sample.expected
        # Authorizations only of payers some portal can look them up at (a record no portal gives is not tested).
        for member in ground_truth.members_with_authorizations(data, carrier)[:3 if carrier in with_authorizations else 0]:
            found = ground_truth.authorizations(data, carrier, member.member_id, member.date_of_birth)
            assert isinstance(found, AuthorizationList)
            n += 1
            answers.append(stored(f"auth-{n}", found, n))
            truth[f"auth-{n}"] = found
        for claims in ground_truth.claims_by_category(data, carrier).values():
            claim = ground_truth.claim(data, carrier, claims[0].claim_number)
            assert claim is not None
            n += 1
            found_claims = ClaimList(carrier=carrier, query=ClaimQuery(claim_number=claim.payer_claim_number),
                                     claims=(claim,))
            answers.append(stored(f"claim-{n}", found_claims, n))
            truth[f"claim-{n}"] = claim
    return DayAnswers(day=date(2026, 11, 27), visits=[], on_demand=answers), truth


def test_every_resource_validates_round_trips_and_equals_the_ground_truth():
    answers, truth = truth_day()
    bundle = fhir_truth.round_trip(day_bundle(answers, files=None).model_dump_json())
    checked = 0
    for lookup_id, expected in truth.items():
        if isinstance(expected, EligibilityRecord):
            response = fhir_truth.eligibility_response(bundle, lookup_id)
            checked += fhir_truth.check_eligibility(bundle, response, expected)
        elif isinstance(expected, AuthorizationList):
            fhir_truth.check_authorizations(bundle, list(expected.authorizations))
        elif not lookup_id.startswith("elig-"):
            fhir_truth.check_claims(bundle, [expected])  # type: ignore[list-item]
    lines = sum(len(r.benefits) for r in truth.values() if isinstance(r, EligibilityRecord))
    assert checked == lines > 200  # every benefit line of every found member
    # Unknown members and wrong dates of birth: an error response with the AAA03 reason, no insurance.
    errors = [r for r in fhir_truth.resources(bundle, "CoverageEligibilityResponse") if r["outcome"] == "error"]
    assert len(errors) == 2 * len(CARRIERS)
    assert {fhir_truth.code_in(r["error"][0]["code"], f"{fhir_truth.X12}/901") for r in errors} == {"75", "71"}
    # One Patient per member and one Organization per payer, however many answers cite them.
    patients = fhir_truth.resources(bundle, "Patient")
    assert len({p["id"] for p in patients}) == len(patients)
    assert len(fhir_truth.resources(bundle, "Organization")) == len(CARRIERS)


def test_every_answer_carries_its_evidence():
    answers, _ = truth_day()
    bundle = fhir_truth.round_trip(day_bundle(answers, files=None, base_url="https://desk.example/").model_dump_json())
    urls = fhir_truth.by_url(bundle)
    documents = fhir_truth.resources(bundle, "DocumentReference")
    rows = [row for a in answers.on_demand for row in a.evidence]
    assert len(documents) == sum(3 if row.document_sha256 else 2 for row in rows)
    for row in rows:
        mine = [d for d in documents if fhir_truth.identifier(d, f"{fhir_truth.BASE}/evidence-id") == row.id]
        assert {d["masterIdentifier"]["value"] for d in mine} == {
            h for h in (row.screenshot_sha256, row.html_sha256, row.document_sha256) if h}
        assert {fhir_truth.identifier(d, f"{fhir_truth.BASE}/evidence-chain-position") for d in mine} == {str(row.seq)}
        assert {d["content"][0]["attachment"]["url"] for d in mine} <= {
            f"https://desk.example/evidence/{row.id}/{kind}" for kind in ("screenshot", "html", "document")}
        assert {d["content"][0]["attachment"]["contentType"] for d in mine} <= {"image/png", "text/html", "application/pdf"}
    provenances = fhir_truth.resources(bundle, "Provenance")
    assert len(provenances) == sum(1 for a in answers.on_demand if not (
        a.lookup_id.startswith("auth-") and not a.answer.authorizations))  # type: ignore[union-attr]
    for provenance in provenances:
        for target in provenance["target"]:
            assert target["reference"] in urls
        for entity in provenance["entity"]:
            assert urls[entity["what"]["reference"]]["resourceType"] == "DocumentReference"
            assert entity["what"]["identifier"]["value"] == urls[entity["what"]["reference"]]["masterIdentifier"]["value"]


def test_the_prior_auth_answer_of_a_visit_is_a_crd_coverage_information():
    data = dataset()
    member = next(m for m in ground_truth.members_with_authorizations(data, "ridgeline")
                  if m.coverage_kind(data.as_of) == "active")
    auths = ground_truth.authorizations(data, "ridgeline", member.member_id, member.date_of_birth)
    assert isinstance(auths, AuthorizationList)
    sample_query = ground_truth.EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth,
                                                 service_date=data.as_of)
    eligibility = ground_truth.eligibility(data, "ridgeline", sample_query)
    assert isinstance(eligibility, EligibilityRecord)
    codes = [s.procedure_code for a in auths.authorizations for s in a.services][:2] + ["99213"]
    expected = [answer_authorization(eligibility, auths, service_date=data.as_of, procedure_code=code) for code in codes]
    expected.append(answer_authorization(eligibility, auths, service_date=data.as_of,
                                         service_type=ServiceType.OFFICE_VISIT))
    now = datetime.now(UTC)
    appointment = AppointmentRow(id="appt-7", starts_at=datetime(2026, 11, 27, 9), service_date=data.as_of,
                                 patient_last_name=member.last_name, patient_first_name=member.first_name,
                                 patient_dob=member.date_of_birth, carrier="ridgeline", member_id=member.member_id,
                                 source="t.csv", fingerprint="0" * 64, imported_at=now, updated_at=now)
    item = BatchItemRow(id="item7", batch_date=data.as_of, appointment_id="appt-7", carrier="ridgeline",
                        state="verified", updated_at=now)
    visit = Visit(appointment=appointment, item=item, eligibility=stored("e1", eligibility, 1),
                  authorizations=stored("a1", auths, 2), auth_answers=expected)
    bundle = fhir_truth.round_trip(day_bundle(DayAnswers(data.as_of, [visit], []), files=None).model_dump_json())
    parts = fhir_truth.visit_answers(bundle)["appt-7"]
    assert len(parts) == len(expected)
    pa_needed = {"not_required": "no-auth", "covered": "satisfied"}
    for got, answer in zip(parts, expected, strict=True):
        assert got["covered"] in ("covered", "conditional", "not-covered")
        assert got["pa-needed"] == pa_needed.get(answer.status, got["pa-needed"])
        if answer.status in ("missing", "expired", "exhausted", "denied", "pending", "not_yet_effective"):
            assert got["pa-needed"] == "auth-needed"
        assert got.get("satisfied-pa-id") == (answer.covering_auth_number if answer.status == "covered" else None)
        assert got["date"] == data.as_of.isoformat()
        coverage = fhir_truth.by_url(bundle)[got["coverage"]["reference"]]
        assert coverage["resourceType"] == "Coverage"
    # The derived answers' Provenance cites the evidence of both answers they came from.
    derived = [p for p in fhir_truth.resources(bundle, "Provenance")
               if fhir_truth.by_url(bundle)[p["target"][0]["reference"]]["resourceType"] == "ServiceRequest"]
    assert len(derived) == 1
    assert {e["what"]["display"].rsplit(" ", 1)[1] for e in derived[0]["entity"]} == {"1", "2"}


@pytest.mark.parametrize("category, outcome", [
    (ClaimStatusCategory.FINALIZED_PAYMENT, "complete"), (ClaimStatusCategory.FINALIZED_DENIAL, "complete"),
    (ClaimStatusCategory.PENDING_IN_PROCESS, "queued"), (ClaimStatusCategory.REQUEST_DOCUMENTATION, "queued"),
    (ClaimStatusCategory.RECEIVED, "queued"), (ClaimStatusCategory.RETURNED_UNPROCESSABLE, "error"),
    (ClaimStatusCategory.ERROR_SYSTEM_STATUS, "error"),
])
def test_claim_outcome_follows_the_status_category(category, outcome):
    assert outcome_of(category) == outcome


def test_a_fractional_coinsurance_stays_exact():
    data = dataset()
    sample = ground_truth.sample_members(data, "ridgeline", 1, kinds=("active_subscriber",))[0]
    record = sample.expected
    assert isinstance(record, EligibilityRecord)
    lines = tuple(line.model_copy(update={"percent": Decimal("0.125")}) if line.kind.value == "A" else line
                  for line in record.benefits)
    assert any(line.kind.value == "A" for line in lines)
    changed = record.model_copy(update={"benefits": lines})
    bundle = fhir_truth.round_trip(day_bundle(DayAnswers(data.as_of, [], [stored("x", changed, 1)]),
                                              files=None).model_dump_json())
    percents = [b for r in fhir_truth.resources(bundle, "CoverageEligibilityResponse") for i in r["insurance"][0]["item"]
                for b in i.get("benefit", []) if fhir_truth.code_in(b["type"], f"{fhir_truth.X12}/1390") == "A"]
    assert percents and all(b["allowedString"] == "12.5%" for b in percents)


def test_no_such_member_to_a_claim_or_authorization_search_is_an_error_claim_response():
    data = dataset()
    unknown = data.carrier("cascade").not_found_ids[0]
    asked = [ClaimQuery(member_id=unknown, date_of_birth=date(1970, 1, 2), service_from=date(2026, 1, 1),
                        service_to=date(2026, 11, 27)),
             AuthorizationQuery(member_id=unknown, date_of_birth=date(1970, 1, 2))]
    answers = []
    for n, query in enumerate(asked, start=1):
        reason = (ground_truth.claims(data, "cascade", query) if isinstance(query, ClaimQuery)
                  else ground_truth.authorizations(data, "cascade", query.member_id, query.date_of_birth))
        assert isinstance(reason, RejectReason)
        answers.append(stored(f"nf-{n}", MemberNotFound(carrier="cascade", query=query, reject_reason=reason), n))
    bundle = fhir_truth.round_trip(day_bundle(DayAnswers(data.as_of, [], answers), files=None).model_dump_json())
    responses = fhir_truth.resources(bundle, "ClaimResponse")
    assert sorted(r["use"] for r in responses) == ["claim", "preauthorization"]
    assert all(r["outcome"] == "error" and fhir_truth.code_in(r["error"][0]["code"], f"{fhir_truth.X12}/901") == "75"
               for r in responses)
    assert len(fhir_truth.resources(bundle, "Provenance")) == 2
