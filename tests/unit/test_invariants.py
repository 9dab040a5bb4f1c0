"""The framework's invariants: each rule refuses a record that breaks it and accepts a consistent one; no
ground-truth record of any carrier breaks any of them; and every adapter's parsers and answers go
through them (and through the crash guard) without the adapter doing anything."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from aggregator.errors import AggregatorError, ConfigurationError, ParseError
from aggregator.models import (
    AuthIndicator,
    Authorization,
    AuthorizationList,
    AuthorizationQuery,
    BenefitKind,
    BenefitLine,
    ClaimList,
    ClaimQuery,
    ClaimStatus,
    Coverage,
    CoverageLevel,
    CoverageStatus,
    EligibilityQuery,
    EligibilityRecord,
    Member,
    NetworkIndicator,
    Payer,
    Plan,
    Provenance,
    ServiceType,
    TimePeriod,
)
from aggregator.models.authorization import AuthorizedService
from aggregator.models.claims import Adjustment, ClaimLine
from aggregator.models.codes import (
    AdjustmentGroup,
    AdjustmentReason,
    AuthDecisionReason,
    AuthStatus,
    ClaimStatusCategory,
    InsuranceType,
    Relationship,
    RequestCategory,
    UnitQualifier,
)
from aggregator.scrapers.framework import CarrierAdapter
from aggregator.scrapers.framework.checked import crash_reason
from aggregator.scrapers.framework.completeness import (
    EndsWith,
    StatesCount,
    require_after,
    require_count,
    require_whole_page,
)
from aggregator.scrapers.framework.html import Document
from aggregator.scrapers.framework.invariants import check_answer, check_record, evidence_of
from aggregator.scrapers.framework.listings import AuthListing, AuthListRow, ClaimListRow
from aggregator.scrapers.registry import all_adapters
from sandbox import ground_truth
from sandbox.carriers import carrier_slugs, hub_payers, payer_source
from sandbox.dataset import generate_dataset

D = Decimal
DAY = date(2026, 3, 2)


def changed(model: BaseModel, **fields: Any) -> Any:
    """`model` with `fields` replaced, without the model's own validators (the invariants must catch
    what a model lets through, and what a validator-free construction would)."""
    return model.model_copy(update=fields)


def refused(record: Any, rule: str) -> None:
    with pytest.raises(ParseError) as raised:
        check_record(record)
    assert rule in raised.value.reason, raised.value.reason


# --- claims -------------------------------------------------------------------------------------------

def paid_claim() -> ClaimStatus:
    line = ClaimLine(line_number=1, procedure_code="99213", service_date=DAY, units=D(1), billed=D("100.00"),
                     allowed=D("80.00"), paid=D("60.00"), adjustments=(
                         Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason=AdjustmentReason.EXCEEDS_FEE_SCHEDULE,
                                    amount=D("20.00")),
                         Adjustment(group=AdjustmentGroup.PATIENT_RESPONSIBILITY,
                                    reason=AdjustmentReason.COINSURANCE, amount=D("20.00"))))
    return ClaimStatus(carrier="x", payer_claim_number="C1", provider_account_number="A1", member_id="M1",
                       service_from=DAY, service_to=DAY, billed=D("100.00"), allowed=D("80.00"), paid=D("60.00"),
                       patient_responsibility=D("20.00"), status_category=ClaimStatusCategory.FINALIZED_PAYMENT,
                       status_code="65", received_date=DAY + timedelta(days=3),
                       adjudicated_date=DAY + timedelta(days=10), paid_date=DAY + timedelta(days=12),
                       check_number="EFT1", lines=(line,))


def pending_claim() -> ClaimStatus:
    line = ClaimLine(line_number=1, procedure_code="99213", service_date=DAY, units=D(1), billed=D("100.00"),
                     allowed=D("0.00"), paid=D("0.00"))
    return ClaimStatus(carrier="x", payer_claim_number="C2", provider_account_number="A1", member_id="M1",
                       service_from=DAY, service_to=DAY, billed=D("100.00"), paid=D("0.00"),
                       status_category=ClaimStatusCategory.PENDING_IN_PROCESS, status_code="20",
                       received_date=DAY + timedelta(days=3), lines=(line,))


def denied_claim() -> ClaimStatus:
    claim = paid_claim()
    line = changed(claim.lines[0], allowed=D("0.00"), paid=D("0.00"), adjustments=(Adjustment(
        group=AdjustmentGroup.CONTRACTUAL, reason=AdjustmentReason.NOT_MEDICALLY_NECESSARY, amount=D("100.00")),))
    return changed(claim, allowed=D("0.00"), paid=D("0.00"), patient_responsibility=D("0.00"),
                   status_category=ClaimStatusCategory.FINALIZED_DENIAL, status_code="585", paid_date=None,
                   check_number=None, lines=(line,))


def test_consistent_claims_pass() -> None:
    for claim in (paid_claim(), pending_claim(), denied_claim()):
        check_record(claim)


def line_with(claim: ClaimStatus, **fields: Any) -> ClaimStatus:
    return changed(claim, lines=(changed(claim.lines[0], **fields),))


@pytest.mark.parametrize(("make", "rule"), [
    (lambda c: changed(c, paid=D("70.00")), "total paid is not the sum"),
    (lambda c: changed(c, billed=D("90.00")), "total billed is not the sum"),
    (lambda c: changed(c, allowed=D("160.00")), "total allowed is not the sum"),
    (lambda c: changed(c, patient_responsibility=D("3000.00")), "patient responsibility"),
    (lambda c: line_with(c, adjustments=c.lines[0].adjustments[1:]), "billed is not paid plus adjustments"),
    (lambda c: changed(c, adjudicated_date=None), "without a processed date"),
    (lambda c: changed(c, paid_date=None), "without a paid date"),
    (lambda c: changed(c, status_code="19"), "status code contradicts the status category"),
    (lambda c: changed(c, status_code="45"), "status code contradicts the status category"),
    (lambda c: changed(c, status_code="585"), "status code contradicts the status category"),
    (lambda c: changed(c, status_code="pd"), "not a claim status code"),
    (lambda c: changed(c, received_date=DAY - timedelta(days=1)), "received before its last date of service"),
    (lambda c: changed(c, adjudicated_date=DAY + timedelta(days=1)), "processed before it was received"),
    (lambda c: changed(c, paid_date=DAY + timedelta(days=9)), "paid before it was processed"),
    (lambda c: changed(c, service_to=DAY - timedelta(days=2)), "service to is before service from"),
    (lambda c: changed(c, paid=D("-60.00")), "paid is negative"),
    (lambda c: changed(line_with(c, paid=D("90.00"), adjustments=(Adjustment(
        group=AdjustmentGroup.CONTRACTUAL, reason=AdjustmentReason.EXCEEDS_FEE_SCHEDULE, amount=D("10.00")),)),
        paid=D("90.00"), patient_responsibility=D("0.00")), "pays more than it allows"),
])
def test_a_paid_claim_that_contradicts_itself_is_refused(make: Any, rule: str) -> None:
    refused(make(paid_claim()), rule)


def test_status_and_payment_agree() -> None:
    refused(changed(paid_claim(), status_category=ClaimStatusCategory.FINALIZED_DENIAL, status_code="1"),
            "denied or unpaid finalized claim shows a payment")
    refused(changed(denied_claim(), status_category=ClaimStatusCategory.FINALIZED_PAYMENT, status_code="65"),
            "finalized as paid shows no payment")
    refused(changed(pending_claim(), status_code="65"), "status code contradicts the status category")
    refused(changed(denied_claim(), status_code="65"), "status code contradicts the status category")
    refused(changed(pending_claim(), adjudicated_date=DAY + timedelta(days=5)), "not yet decided")
    paid_open = changed(paid_claim(), status_category=ClaimStatusCategory.PENDING_PAYER_REVIEW, status_code="41",
                        adjudicated_date=None, allowed=None)
    refused(paid_open, "no allowed amount yet its lines show")


def test_a_claim_list_row_status_agrees_with_its_payment() -> None:
    row = ClaimListRow(claim_number="C1", provider_account_number="A1", service_from=DAY, service_to=DAY,
                       billed=D("100.00"), paid=D("60.00"), status_category=ClaimStatusCategory.FINALIZED_PAYMENT)
    check_record(row)
    refused(changed(row, status_category=ClaimStatusCategory.FINALIZED_DENIAL), "shows a payment")
    refused(changed(row, paid=D("0.00")), "finalized as paid shows no payment")
    refused(changed(row, paid=D("160.00")), "pays more than it bills")


# --- authorizations -----------------------------------------------------------------------------------

def certified() -> Authorization:
    return Authorization(
        carrier="x", member_id="M1", auth_number="A-1", status=AuthStatus.CERTIFIED,
        request_category=RequestCategory.HEALTH_SERVICES_REVIEW, service_type=ServiceType.PHYSICAL_THERAPY,
        services=(AuthorizedService(procedure_code="97110", unit=UnitQualifier.VISITS, approved=D(12), used=D(4),
                                    remaining=D(8)),),
        effective_date=DAY, expiration_date=DAY + timedelta(days=90), servicing_provider_name="Clinic",
        last_updated=DAY)


def denied_auth() -> Authorization:
    return changed(certified(), status=AuthStatus.NOT_CERTIFIED, effective_date=None, expiration_date=None,
                   decision_reason=AuthDecisionReason.NOT_MEDICALLY_NECESSARY,
                   services=(changed(certified().services[0], approved=D(0), used=D(0), remaining=D(0)),))


def test_consistent_authorizations_pass() -> None:
    check_record(certified())
    check_record(denied_auth())


@pytest.mark.parametrize(("make", "rule"), [
    (lambda a: changed(a, services=(changed(a.services[0], remaining=D(9)),)), "do not add up"),
    (lambda a: changed(a, expiration_date=DAY - timedelta(days=1)), "expiration date is before effective date"),
    (lambda a: changed(a, expiration_date=None), "no effective or expiration date"),
    (lambda a: changed(a, services=(changed(a.services[0], approved=D(0), used=D(0), remaining=D(0)),)),
     "certified in total has a procedure with no approved units"),
    (lambda a: changed(a, decision_reason=AuthDecisionReason.NOT_MEDICALLY_NECESSARY), "carries a denial reason"),
    (lambda a: changed(a, services=a.services * 2), "listed twice"),
    (lambda a: changed(a, services=(changed(a.services[0], approved=D(-1), used=D(0), remaining=D(-1)),)),
     "approved is negative"),
])
def test_an_authorization_that_contradicts_itself_is_refused(make: Any, rule: str) -> None:
    refused(make(certified()), rule)


def test_a_denied_authorization_approves_nothing_and_says_why() -> None:
    approving = changed(denied_auth(), services=certified().services)
    refused(approving, "shows approved units")
    refused(changed(denied_auth(), decision_reason=None), "has no decision reason")
    partial = changed(certified(), status=AuthStatus.PARTIAL,
                      services=(changed(certified().services[0], approved=D(0), used=D(0), remaining=D(0)),))
    refused(partial, "approves no units")


def test_an_authorization_list_row_and_list_are_checked_inside_the_answer() -> None:
    row = AuthListRow(auth_number="A-1", service_type=ServiceType.PHYSICAL_THERAPY, status=AuthStatus.CERTIFIED,
                      effective_date=DAY, expiration_date=DAY + timedelta(days=9))
    listing = AuthListing(member_id="M1", date_of_birth=date(1980, 1, 1), rows=(row,))
    check_record(listing)
    refused(changed(listing, rows=(changed(row, effective_date=None),)), "no effective or expiration date")
    query = AuthorizationQuery(member_id="M1", date_of_birth=date(1980, 1, 1))
    answer = AuthorizationList(carrier="x", query=query, authorizations=(certified(), denied_auth().model_copy(
        update={"auth_number": "A-2"})))
    check_record(answer)
    broken = changed(answer, authorizations=(changed(certified(), expiration_date=None),))
    refused(broken, "no effective or expiration date")
    refused(changed(answer, authorizations=(changed(certified(), carrier="y"),)), "another carrier")


# --- eligibility --------------------------------------------------------------------------------------

IN, OUT = NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK
PLAN = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE


def deductible(level: CoverageLevel, period: TimePeriod, amount: str) -> BenefitLine:
    return BenefitLine(service_type=PLAN, kind=BenefitKind.DEDUCTIBLE, network=IN, coverage_level=level,
                       time_period=period, amount=D(amount), prior_auth=AuthIndicator.UNKNOWN)


def eligibility() -> EligibilityRecord:
    benefits = (
        deductible(CoverageLevel.INDIVIDUAL, TimePeriod.CALENDAR_YEAR, "1000.00"),
        deductible(CoverageLevel.INDIVIDUAL, TimePeriod.REMAINING, "400.00"),
        deductible(CoverageLevel.FAMILY, TimePeriod.CALENDAR_YEAR, "2000.00"),
        deductible(CoverageLevel.FAMILY, TimePeriod.REMAINING, "900.00"),
        BenefitLine(service_type=ServiceType.MRI_CAT_SCAN, kind=BenefitKind.COINSURANCE, network=IN,
                    percent=D("0.2"), prior_auth=AuthIndicator.REQUIRED),
        BenefitLine(service_type=ServiceType.OFFICE_VISIT, kind=BenefitKind.COPAY, network=OUT, amount=D("40.00"),
                    prior_auth=AuthIndicator.NOT_REQUIRED),
    )
    return EligibilityRecord(
        carrier="x", service_date=DAY,
        member=Member(member_id="M1", subscriber_id="M1", first_name="A", last_name="B",
                      date_of_birth=date(1980, 1, 1), relationship=Relationship.SELF),
        payer=Payer(name="P", payer_id="P1"),
        plan=Plan(name="Plan", insurance_type=InsuranceType.PPO, group_number="G1", group_name="Group"),
        coverage=Coverage(status=CoverageStatus.ACTIVE, effective_date=date(2026, 1, 1)),
        benefits=benefits, prior_auth_service_types=(ServiceType.MRI_CAT_SCAN,))


def benefit_changed(record: EligibilityRecord, index: int, **fields: Any) -> EligibilityRecord:
    """The benefit at `index` in the model's canonical order (FAM 23, FAM 29, IND 23, IND 29, MRI, office)."""
    benefits = list(record.benefits)
    benefits[index] = changed(benefits[index], **fields)
    return changed(record, benefits=tuple(benefits))


def test_consistent_eligibility_passes() -> None:
    check_record(eligibility())
    inactive = changed(eligibility(), coverage=Coverage(status=CoverageStatus.INACTIVE,
                                                        effective_date=date(2026, 1, 1), termination_date=DAY - timedelta(days=1)),
                       benefits=(), prior_auth_service_types=())
    check_record(inactive)


@pytest.mark.parametrize(("make", "rule"), [
    (lambda r: changed(r, benefits=(*r.benefits, changed(r.benefits[1], amount=D("500.00")))),
     "two benefit rows share one benefit key"),
    (lambda r: changed(r, benefits=(*r.benefits, r.benefits[1])), "two benefit rows share one benefit key"),
    (lambda r: changed(r, coverage=changed(r.coverage, termination_date=DAY - timedelta(days=1))),
     "coverage status contradicts its dates"),
    (lambda r: changed(r, coverage=changed(r.coverage, effective_date=DAY + timedelta(days=1))),
     "coverage status contradicts its dates"),
    (lambda r: changed(r, coverage=Coverage(status=CoverageStatus.INACTIVE, effective_date=date(2027, 1, 1))),
     "inactive coverage shows benefits"),
    (lambda r: benefit_changed(r, 3, amount=D("1400.00")), "remaining or met amount exceeds its total"),
    (lambda r: benefit_changed(r, 3, amount=D("-400.00")), "amount is negative"),
    (lambda r: benefit_changed(r, 2, amount=D("3000.00")), "individual amount exceeds the family amount"),
    (lambda r: benefit_changed(r, 4, percent=D("20")), "percent is outside"),
    (lambda r: changed(r, prior_auth_service_types=()), "missing from the list"),
    (lambda r: changed(r, prior_auth_service_types=(ServiceType.MRI_CAT_SCAN, ServiceType.OFFICE_VISIT)),
     "marked as not needing it"),
])
def test_eligibility_that_contradicts_itself_is_refused(make: Any, rule: str) -> None:
    refused(make(eligibility()), rule)


def test_a_limitation_remaining_never_exceeds_its_limit() -> None:
    limit = BenefitLine(service_type=ServiceType.PHYSICAL_THERAPY, kind=BenefitKind.LIMITATION, network=IN,
                        time_period=TimePeriod.CALENDAR_YEAR, quantity=D(20),
                        quantity_qualifier="VS", prior_auth=AuthIndicator.NOT_REQUIRED)
    record = changed(eligibility(), benefits=(*eligibility().benefits, limit,
                                              changed(limit, time_period=TimePeriod.REMAINING, quantity=D(5))))
    check_record(record)
    refused(changed(record, benefits=(*record.benefits[:-1], changed(record.benefits[-1], quantity=D(25)))),
            "exceeds its total")


# --- page models, answers and evidence ---------------------------------------------------------------

def test_a_pager_that_contradicts_itself_is_refused() -> None:
    from aggregator.scrapers.ridgeline.pages_claims import ClaimResultsListing

    listing = ClaimResultsListing(member_id="M1", service_from=DAY, service_to=DAY, total=1, page=1, pages=1,
                                  has_next=False)
    check_record(listing)
    refused(changed(listing, has_next=True), "next link disagrees")
    refused(changed(listing, page=3), "page number is outside")
    row = ClaimListRow(claim_number="C1", provider_account_number="A1", service_from=DAY, service_to=DAY,
                       billed=D("1.00"), paid=D("0.00"), status_category=ClaimStatusCategory.RECEIVED)
    refused(changed(listing, rows=(row, changed(row, claim_number="C2"))), "more rows than the stated total")


def test_a_violation_in_an_answer_carries_its_evidence() -> None:
    provenance = Provenance(carrier="x", portal_account="a", fetched_at=datetime.now(UTC), evidence_ids=["e1"])
    query = ClaimQuery(claim_number="C1")
    bad = changed(paid_claim(), paid=D("1.00"), provenance=changed(provenance, evidence_ids=["e2", "e1"]))
    answer = ClaimList(carrier="x", query=query, claims=(bad,), provenance=provenance)
    assert evidence_of(answer) == ["e1", "e2"]
    with pytest.raises(ParseError) as raised:
        check_answer(answer)
    assert raised.value.evidence_ids == ["e1", "e2"]
    assert raised.value.reason.startswith("claim: ")


def test_reasons_carry_no_values() -> None:
    claim = changed(paid_claim(), paid=D("12345.67"), member_id="SECRET-ID")
    with pytest.raises(ParseError) as raised:
        check_record(claim)
    assert "12345" not in raised.value.reason and "SECRET" not in raised.value.reason


# --- ground truth: no record of any carrier breaks a rule --------------------------------------------

@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    return generate_dataset()


# Every sandbox carrier and every payer only a sandbox hub serves (its data: the hub's, from the same dataset).
PAYERS = (*carrier_slugs(), *hub_payers())


@pytest.mark.parametrize("carrier", PAYERS)  # every sandbox payer: its ground truth
def test_every_ground_truth_record_keeps_every_invariant(dataset, carrier: str) -> None:  # type: ignore[no-untyped-def]
    dataset = payer_source(dataset, carrier)
    data = dataset.carrier(carrier)
    checked = 0
    for member in data.members.values():
        # Active, termed and future members on the dataset's day, on their first day and before it.
        for day in (dataset.as_of, member.effective_date, member.effective_date - timedelta(days=1)):
            query = EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth, service_date=day)
            check_record(ground_truth.eligibility(dataset, carrier, query))
            checked += 1
        found = ground_truth.authorizations(dataset, carrier, member.member_id, member.date_of_birth)
        check_record(found)
        claims = ground_truth.claims(dataset, carrier, ground_truth.member_claims_query(dataset, carrier,
                                                                                        member.member_id))
        check_record(claims)
        checked += 2
    for claim in data.claims.values():
        check_record(ground_truth.claim_record(carrier, claim))
    assert checked >= 3 * len(data.members) and data.claims and data.authorizations


@pytest.mark.parametrize("carrier", PAYERS)  # every sandbox payer: its ground truth
def test_ground_truth_after_run_time_changes_keeps_every_invariant(dataset, carrier: str) -> None:  # type: ignore[no-untyped-def]
    """The e2e tests pay, deny, approve and cancel at run time: what the portal then shows is consistent."""
    from sandbox.data_changes import DataChangeError, apply_change

    dataset = payer_source(dataset, carrier)
    changed_records = 0
    for claim in ground_truth.open_claims(dataset, carrier)[:15]:
        day = (claim.received_date + timedelta(days=3)).isoformat()
        for change in ({"action": "pay_claim"}, {"action": "deny_claim", "group": "CO", "reason": "50"},
                       {"action": "deny_claim", "group": "PR", "reason": "204"}):
            after = apply_change(dataset, carrier, {**change, "claim_number": claim.claim_number, "date": day})
            check_record(ground_truth.claim(after, carrier, claim.claim_number))
            changed_records += 1
    for auth in list(dataset.carrier(carrier).authorizations.values())[:30]:
        for action in ("approve_authorization", "cancel_authorization"):
            try:
                after = apply_change(dataset, carrier, {"action": action, "auth_number": auth.auth_number,
                                                        "date": dataset.as_of.isoformat()})
            except DataChangeError:
                continue  # not a change this authorization's status allows
            check_record(ground_truth.authorization(after, carrier, auth.auth_number))
            changed_records += 1
    assert changed_records >= 30


# --- the checked path every adapter gets -------------------------------------------------------------

def test_every_adapter_parser_and_answer_is_checked() -> None:
    for adapter in all_adapters():
        assert getattr(adapter.parse_answer, "__checked__", False), adapter.__name__
        for name in ("parse_document", "check_eligibility", "check_authorizations", "check_claims"):
            method, inherited = getattr(adapter, name, None), getattr(CarrierAdapter, name, None)
            # A classmethod is a new bound method on each access: compare the functions underneath.
            if method is not None and getattr(method, "__func__", method) is not getattr(inherited, "__func__", inherited):
                assert getattr(method, "__checked__", False), (adapter.__name__, name)


class _Toy(CarrierAdapter):
    """A parser that fails in every way a real one might, by the `flow`'s page content."""

    manifest = all_adapters()[0].manifest

    async def login(self) -> None:  # pragma: no cover - never run
        pass

    @classmethod
    def parse_answer(cls, flow: str, html: str, query: Any) -> Any:
        problem = Document.parse(html).title
        if problem == "key":
            return {}["secret value"]
        if problem == "decimal":
            return Decimal("($3,000.00)")
        if problem == "model":
            return ClaimLine(line_number=1, procedure_code="99213", service_date=DAY, units=D(-1),
                             billed=D(1), allowed=D(1), paid=D(1))
        if problem == "deep":
            raise RecursionError("maximum recursion depth exceeded")
        if problem == "claim":
            return changed(paid_claim(), paid=D("1.00"))
        return paid_claim()

    @staticmethod
    def parse_document(kind: str, data: bytes) -> Any:
        return data.decode("ascii")


def page(title: str) -> str:
    return f"<html><head><title>{title}</title></head><body></body></html>\n"


def test_nothing_but_aggregator_errors_leave_a_parser() -> None:
    assert _Toy.parse_answer("claim_status", page("fine"), None) == paid_claim()
    reasons = {}
    for problem in ("key", "decimal", "model", "deep", "claim"):
        with pytest.raises(ParseError) as raised:
            _Toy.parse_answer("claim_status", page(problem), None)
        reasons[problem] = raised.value.reason
        assert "secret" not in raised.value.reason and "3,000" not in raised.value.reason
    assert "(KeyError)" in reasons["key"] and "(InvalidOperation)" in reasons["decimal"]
    assert reasons["model"] == "the page does not make a valid record (units: greater_than)"
    assert "nested too deeply" in reasons["deep"] and reasons["claim"].startswith("claim: total paid")
    with pytest.raises(ParseError, match="UnicodeDecodeError"):
        _Toy.parse_document("eob", b"\xff\xfe")


def test_a_page_cut_short_and_an_unknown_flow_are_refused() -> None:
    with pytest.raises(ParseError, match="ends early"):
        _Toy.parse_answer("claim_status", page("fine")[:-12], None)
    with pytest.raises(ConfigurationError):
        _Toy.parse_answer("appointments", page("fine"), None)
    assert isinstance(crash_reason(MemoryError()), str)


def test_a_crash_is_logged_by_type_and_place_not_by_message(caplog: pytest.LogCaptureFixture,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AggregatorError):
        _Toy.parse_answer("claim_status", page("key"), None)
    captured = capsys.readouterr()
    logged = captured.err + captured.out + caplog.text
    assert "parser_crashed" in logged and "KeyError" in logged and "secret value" not in logged


# --- completeness -------------------------------------------------------------------------------------

LIST = ('<html><body><p id="before"></p><table id="t"><tr><td>1</td></tr><tfoot><tr class="end"><td>1 item'
        '</td></tr></tfoot></table><footer id="foot"></footer></body></html>')


def test_a_list_is_complete_only_when_its_end_marker_follows_it() -> None:
    doc = Document.parse(LIST)
    table = doc.one("#t", field="table")
    require_after(doc, table, "tr.end", what="list")
    EndsWith("#foot", what="list").check(doc, table)
    EndsWith("#foot", what="list").check(doc)
    with pytest.raises(ParseError, match="list is cut short"):
        require_after(doc, table, "#before", what="list")  # a marker before the list proves nothing
    cut = Document.parse(LIST[:LIST.index("<tfoot>")])
    with pytest.raises(ParseError, match="cut short"):
        EndsWith("tr.end", what="list").check(cut, cut.one("#t", field="table"))


def test_a_stated_count_must_match_the_rows() -> None:
    require_count(2, 2, what="claim list")
    StatesCount("claim list").check(0, 0)
    with pytest.raises(ParseError, match="disagrees"):
        require_count(3, 2, what="claim list")
    with pytest.raises(ParseError, match="does not state"):
        StatesCount("claim list").check(None, 2)


def test_a_whole_page_ends_with_its_closing_tag() -> None:
    require_whole_page("<html><body></body></html>  \n")
    require_whole_page("<HTML></HTML >")
    for cut in ("<html><body></body>", "<html><body></body></html><div>", ""):
        with pytest.raises(ParseError, match="ends early"):
            require_whole_page(cut)


def test_a_pure_step_that_crashes_is_a_misread_with_its_evidence() -> None:
    from aggregator.browser import Capture

    adapter = _Toy(None, None)  # type: ignore[arg-type]  # a pure step needs no session
    capture = Capture(evidence_id="ev1", html=page("fine"), url="https://portal.example/x")
    with pytest.raises(ParseError) as raised:
        adapter.pure(lambda: {}["secret value"], capture)
    assert raised.value.evidence_ids == ["ev1"] and "secret" not in raised.value.reason
    assert adapter.pure(lambda: 7, capture) == 7
