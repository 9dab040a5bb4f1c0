"""Summit Health Plan end to end: the sandbox portal (sandbox/summit/), a real Chromium, answers vs ground truth.

Uses the session's sandbox and browser (tests/e2e/fixtures.py). Every answer is compared field by field
(provenance aside) with `sandbox.ground_truth`; the faults (v2 change of meaning, maintenance) end in the
outcome they mean, and a question the portal does not answer is "not available at this carrier".
"""

from __future__ import annotations

import pytest

from aggregator.errors import NotAvailableAtCarrier, Outcome
from aggregator.models import AuthorizationQuery, EligibilityRecord
from sandbox import ground_truth

CARRIER = "summit"
KINDS = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob", "wrong_last_name")


async def test_eligibility_equals_ground_truth_for_members_of_every_kind(make_runner, sandbox, portals):
    samples = ground_truth.sample_members(sandbox.dataset, CARRIER, 14, kinds=KINDS)
    async with make_runner() as runner:
        results = [await runner.eligibility(CARRIER, s.query) for s in samples]
    for sample, result in zip(samples, results, strict=True):
        assert result.answer is not None, (sample.kind, result.outcome, result.reason)
        assert result.answer.without_provenance() == sample.expected, sample.kind  # field by field
        wanted = Outcome.FOUND if isinstance(sample.expected, EligibilityRecord) else Outcome.NOT_FOUND
        assert result.outcome is wanted, sample.kind
        # The answer names the page it was read from, captured as evidence of this lookup.
        assert result.answer.provenance and result.answer.provenance.evidence_ids
        assert set(result.answer.provenance.evidence_ids) <= {e.id for e in result.evidence}
    logins = sum(a["login_attempts"] for a in portals[CARRIER].stats()["accounts"].values())
    assert logins == 1  # one sign-in served every lookup


async def test_faults_end_in_the_outcome_they_mean(make_runner, sandbox, portals):
    from sandbox.summit.views import meaning_change_for

    state, data = portals[CARRIER], sandbox.dataset.carrier(CARRIER)
    active = ground_truth.sample_members(sandbox.dataset, CARRIER, 30, kinds=("active_subscriber", "dependent"))
    changed = next(s for s in active if meaning_change_for(data, s.query.member_id, "v2"))
    plain = next(s for s in active if not meaning_change_for(data, s.query.member_id, "v2"))
    async with make_runner() as runner:
        state.update_faults({"layout_version": "v2"})
        cosmetic = await runner.eligibility(CARRIER, plain.query)
        meaning = await runner.eligibility(CARRIER, changed.query)
        state.update_faults({"layout_version": "v1", "maintenance": True})
        maintenance = await runner.eligibility(CARRIER, plain.query)
    assert cosmetic.answer is not None and cosmetic.answer.without_provenance() == plain.expected
    assert meaning.outcome is Outcome.NEEDS_ATTENTION and meaning.answer is None
    assert maintenance.outcome is Outcome.RETRY_LATER and maintenance.answer is None


async def test_authorizations_are_not_available_at_this_carrier(make_runner, sandbox, portals):
    member = ground_truth.sample_members(sandbox.dataset, CARRIER, 1, kinds=("active_subscriber",))[0].query
    query = AuthorizationQuery(member_id=member.member_id, date_of_birth=member.date_of_birth)
    async with make_runner() as runner:
        with pytest.raises(NotAvailableAtCarrier) as refused:
            await runner.authorizations(CARRIER, query)
    assert refused.value.outcome is Outcome.NOT_AVAILABLE and refused.value.call_the_payer
    assert sum(a["login_attempts"] for a in portals[CARRIER].stats()["accounts"].values()) == 0  # never asked
