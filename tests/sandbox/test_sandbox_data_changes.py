"""Run-time data changes (`POST /_sandbox/data`): the page and ground truth change together; reset undoes."""

from datetime import timedelta

import pytest

from aggregator.models import CoverageStatus, EligibilityQuery, EligibilityRecord, NetworkIndicator
from aggregator.models.codes import AuthStatus, ClaimStatusCategory
from sandbox.data_changes import DataChangeError, replay
from sandbox.dataset import generate_dataset
from sandbox.ground_truth import (
    authorization,
    authorizations_by_status,
    claim,
    claims_by_category,
    eligibility,
    open_claims,
)
from tests.sandbox.ridgeline_activity_reference import parse_auth_detail, parse_claim_detail
from tests.sandbox.ridgeline_reference import parse_benefits_page

IN = NetworkIndicator.IN_NETWORK


@pytest.fixture
async def logged_in(portal, account):
    await portal.login(account)
    return portal


async def _post(portal, change):
    return await portal.http.post("/_sandbox/data", json=change)


async def test_pay_claim_changes_page_and_truth_and_reset_restores(logged_in, dataset, state):
    pending = open_claims(dataset, "ridgeline")[0]
    before_page = parse_claim_detail((await logged_in.http.get(f"/claims/{pending.claim_number}")).text)
    assert before_page == claim(dataset, "ridgeline", pending.claim_number)
    answer = await _post(logged_in, {"action": "pay_claim", "claim_number": pending.claim_number})
    assert answer.status_code == 200
    applied = answer.json()["applied"]
    assert applied == {"action": "pay_claim", "claim_number": pending.claim_number, "date": dataset.as_of.isoformat()}

    now = claim(state, "ridgeline", pending.claim_number)  # the state: the truth the portal shows now
    assert now.status_category is ClaimStatusCategory.FINALIZED_PAYMENT and now.status_code == "65"
    assert now.paid > 0 and now.check_number and now.paid_date == now.adjudicated_date == dataset.as_of
    assert now.allowed == sum(line.allowed for line in now.lines)
    assert now.patient_responsibility == sum(a.amount for line in now.lines for a in line.adjustments
                                             if a.group.value == "PR")
    assert all(line.billed == line.paid + sum(a.amount for a in line.adjustments) for line in now.lines)
    page = parse_claim_detail((await logged_in.http.get(f"/claims/{pending.claim_number}")).text)
    assert page == now != before_page
    assert claim(dataset, "ridgeline", pending.claim_number) == before_page, "the generated dataset never changes"

    log = (await logged_in.http.get("/_sandbox/data")).json()
    assert log == {"carrier": "ridgeline", "changes": [applied]}
    rebuilt = replay(generate_dataset(), "ridgeline", log["changes"])
    assert rebuilt == state.current_dataset(), "an out-of-process test can rebuild the current data"

    assert (await logged_in.http.post("/_sandbox/reset")).status_code == 200
    assert (await logged_in.http.get("/_sandbox/data")).json()["changes"] == []
    assert claim(state, "ridgeline", pending.claim_number) == before_page
    assert state.current_dataset() is dataset


async def test_deny_claim(logged_in, dataset, state):
    pending = next(c for c in open_claims(dataset, "ridgeline") if c.received_date < dataset.as_of)
    day = dataset.as_of - timedelta(days=1)
    answer = await _post(logged_in, {"action": "deny_claim", "claim_number": pending.claim_number, "reason": "50",
                                     "date": day.isoformat()})
    assert answer.status_code == 200, answer.text
    now = claim(state, "ridgeline", pending.claim_number)
    assert now.status_category is ClaimStatusCategory.FINALIZED_DENIAL and now.status_code == "585"
    assert now.paid == 0 and now.allowed == 0 and now.adjudicated_date == day
    assert all(line.adjustments[0].reason.value == "50" and line.adjustments[0].amount == line.billed
               for line in now.lines)
    page = (await logged_in.http.get(f"/claims/{pending.claim_number}")).text
    assert parse_claim_detail(page) == now and "CO-50 $" in page and ">Denied<" in page


async def test_term_coverage_and_meet_deductible_change_eligibility(logged_in, dataset, state):
    data = dataset.carrier("ridgeline")
    subscriber_id, ids = next((s, ids) for s, ids in data.households.items()
                              if len(ids) > 1 and data.members[s].coverage_kind(dataset.as_of) == "active"
                              and data.members[s].termination_date is None)
    subscriber, dependent = data.members[subscriber_id], data.members[ids[1]]
    end = dataset.as_of - timedelta(days=1)
    assert (await _post(logged_in, {"action": "term_coverage", "member_id": subscriber.member_id,
                                    "termination_date": end.isoformat()})).status_code == 200
    for person in (subscriber, dependent):  # a subscriber's termination ends the household's coverage
        query = EligibilityQuery(member_id=person.member_id, date_of_birth=person.date_of_birth,
                                 service_date=dataset.as_of)
        truth = eligibility(state, "ridgeline", query)
        assert truth.coverage.status is CoverageStatus.INACTIVE and truth.coverage.termination_date == end
        page = await logged_in.search(person.member_id, person.date_of_birth)
        assert parse_benefits_page(page.text) == truth
    assert eligibility(dataset, "ridgeline", query).coverage.status is CoverageStatus.ACTIVE

    def partly_met(m):
        return 0 < m.accumulators.deductible_met[IN] < data.plan_for(m).deductible[IN].individual

    member = next(m for m in data.members.values() if m.coverage_kind(dataset.as_of) == "active"
                  and m.termination_date is None and not m.family_coverage and partly_met(m))
    query = EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth, service_date=dataset.as_of)

    def remaining(record: EligibilityRecord):
        return next(b.amount for b in record.benefits if b.kind.value == "C" and b.network.value == "Y"
                    and b.time_period.value == "29")

    assert remaining(eligibility(state, "ridgeline", query)) > 0
    assert (await _post(logged_in, {"action": "meet_deductible", "member_id": member.member_id})).status_code == 200
    truth = eligibility(state, "ridgeline", query)
    assert remaining(truth) == 0
    assert parse_benefits_page((await logged_in.search(member.member_id, member.date_of_birth)).text) == truth
    await logged_in.http.post("/_sandbox/reset")
    assert remaining(eligibility(state, "ridgeline", query)) > 0


async def test_authorization_changes(logged_in, dataset, state):
    grouped = authorizations_by_status(dataset, "ridgeline")
    pended = next(a for a in grouped[AuthStatus.PENDED] if not dataset.carrier("ridgeline").members[a.member_id]
                  .termination_date)
    assert (await _post(logged_in, {"action": "approve_authorization", "auth_number": pended.auth_number})).status_code == 200
    now = authorization(state, "ridgeline", pended.auth_number)
    assert now.status is AuthStatus.CERTIFIED and now.effective_date == dataset.as_of and now.expiration_date
    assert all(s.approved > 0 and s.used == 0 for s in now.services)
    assert parse_auth_detail((await logged_in.http.get(f"/authorizations/{pended.auth_number}")).text) == now
    approved = grouped[AuthStatus.CERTIFIED][0]
    assert (await _post(logged_in, {"action": "cancel_authorization", "auth_number": approved.auth_number})).status_code == 200
    page = (await logged_in.http.get(f"/authorizations/{approved.auth_number}")).text
    assert parse_auth_detail(page).status is AuthStatus.CANCELLED and ">Cancelled<" in page


@pytest.mark.parametrize("change,status", [
    ({"action": "fly"}, 422),
    ({"action": "pay_claim"}, 422),
    ({"action": "pay_claim", "claim_number": "1", "tip": 5}, 422),
    ({"action": "pay_claim", "claim_number": "99999999999"}, 404),
    ({"action": "deny_claim", "claim_number": "X", "reason": "ZZZ"}, 422),
    ({"action": "term_coverage", "member_id": "RM000000000", "termination_date": "2026-12-31"}, 404),
    ({"action": "term_coverage", "member_id": "RM000000000", "termination_date": "12/31/2026"}, 422),
    ({"action": "approve_authorization", "auth_number": "RA00000000"}, 404),
    ([1, 2], 400),
])
async def test_refused_changes_change_nothing(portal, state, change, status):
    answer = await _post(portal, change)
    assert answer.status_code == status, answer.text
    assert "error" in answer.json() and state.data_changes() == []


async def test_changes_that_do_not_apply_are_conflicts(portal, dataset, state):
    paid = claims_by_category(dataset, "ridgeline")[ClaimStatusCategory.FINALIZED_PAYMENT][0]
    assert (await _post(portal, {"action": "pay_claim", "claim_number": paid.claim_number})).status_code == 409
    denied = authorizations_by_status(dataset, "ridgeline")[AuthStatus.NOT_CERTIFIED][0]
    assert (await _post(portal, {"action": "approve_authorization", "auth_number": denied.auth_number})).status_code == 409
    pending = open_claims(dataset, "ridgeline")[0]
    early = (pending.received_date - timedelta(days=1)).isoformat()
    assert (await _post(portal, {"action": "pay_claim", "claim_number": pending.claim_number, "date": early})).status_code == 422
    with pytest.raises(DataChangeError):
        state.apply_data_change({"action": "pay_claim", "claim_number": paid.claim_number})
    assert state.current_dataset() is dataset
