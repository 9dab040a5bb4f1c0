"""What changed since the last check, against the real portal after its data changes."""

from __future__ import annotations

from datetime import timedelta

from aggregator.errors import Outcome
from aggregator.models import ClaimQuery, EligibilityQuery
from sandbox import ground_truth
from sandbox.ground_truth import sample_members


async def test_a_paid_claim_is_reported_as_exactly_that_change(make_runner, sandbox, portal):
    claim = ground_truth.open_claims(portal, "ridgeline")[0]
    query = ClaimQuery(claim_number=claim.claim_number)
    async with make_runner() as runner:
        first = await runner.claims("ridgeline", query)
        portal.apply_data_change({"action": "pay_claim", "claim_number": claim.claim_number})
        second = await runner.claims("ridgeline", query)
        third = await runner.claims("ridgeline", query)
    assert first.outcome is Outcome.FOUND and first.changes == ()
    assert second.outcome is Outcome.FOUND
    assert second.answer.without_provenance() == ground_truth.claims(portal, "ridgeline", query)
    kinds = {(c.kind, c.subject) for c in second.changes}
    assert ("claim_status_changed", claim.claim_number) in kinds
    assert ("claim_paid_amount_changed", claim.claim_number) in kinds
    assert {subject for _, subject in kinds} == {claim.claim_number}
    assert not any(c.kind in ("claim_new", "claim_removed", "claim_denied") for c in second.changes)
    assert third.changes == ()  # nothing changed since the second check


async def test_termed_coverage_is_reported(make_runner, sandbox, portal):
    sample = sample_members(portal, "ridgeline", 1, kinds=("active_subscriber",))[0]
    query = sample.query
    async with make_runner() as runner:
        before = await runner.eligibility("ridgeline", query)
        portal.apply_data_change({"action": "term_coverage", "member_id": query.member_id,
                                  "termination_date": (query.service_date - timedelta(days=1)).isoformat()})
        after = await runner.eligibility("ridgeline", query)
    assert before.outcome is Outcome.FOUND and before.changes == ()
    assert after.answer.without_provenance() == ground_truth.eligibility(portal, "ridgeline", query)
    assert "coverage_termed" in {c.kind for c in after.changes}


async def test_deductible_met_is_reported(make_runner, sandbox, portal):
    sample = sample_members(portal, "ridgeline", 1, kinds=("active_subscriber",))[0]
    query = EligibilityQuery(member_id=sample.query.member_id, date_of_birth=sample.query.date_of_birth,
                             service_date=sample.query.service_date)
    async with make_runner() as runner:
        await runner.eligibility("ridgeline", query)
        portal.apply_data_change({"action": "meet_deductible", "member_id": query.member_id, "network": "in"})
        after = await runner.eligibility("ridgeline", query)
    assert after.answer.without_provenance() == ground_truth.eligibility(portal, "ridgeline", query)
    assert "deductible_met" in {c.kind for c in after.changes}
