"""Crossway end to end: the hub and Crossway ID on loopback (two origins), real Chromium, the real runner.

Through the identity-provider sign-in (password, TOTP, consent once), the organization / provider / payer
pickers and the payers' own result layouts, every stored record equals the hub's ground truth
(`sandbox.crossway.truth`) field by field; one sign-in serves every lookup; an expired hub session
re-enters through a live Crossway ID session without a password.
"""

from __future__ import annotations

from collections import Counter

import pytest

from aggregator.errors import ConfigurationError, Outcome
from aggregator.models import ClaimList, EligibilityQuery, EligibilityRecord, MemberNotFound, RejectReason
from sandbox import ground_truth
from sandbox.crossway import truth
from sandbox.crossway.payers import prior_enrollments

PAYERS = ("harborview", "prairie", "ridgeline")
KINDS = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob")
LABEL = "billing"  # the account of organization 1 only: no password warning, the default vault account


def username(hub, role: str) -> str:
    return next(a.username for a in hub.directory.accounts if a.role == role)


async def test_eligibility_and_claims_of_30_members_across_three_payers_equal_ground_truth(hub_runner, hub):
    samples = [(payer, s) for payer in PAYERS for s in ground_truth.sample_members(hub.hub, payer, 10, kinds=KINDS)]
    claim_members = [(payer, m) for payer in PAYERS for m in ground_truth.members_with_many_claims(hub.hub, payer, 3)[:1]]
    async with hub_runner() as runner:
        looked_up = [(payer, s, await runner.eligibility(payer, s.query, portal="crossway", account_label=LABEL))
                     for payer, s in samples]
        claimed = []
        for payer, member in claim_members:
            query = ground_truth.member_claims_query(hub.hub, payer, member.member_id)
            claimed.append((payer, query, await runner.claims(payer, query, portal="crossway", account_label=LABEL)))

    kinds = Counter()
    for payer, sample, result in looked_up:
        expected = truth.eligibility(hub.hub, payer, sample.query)
        stored = runner.repository.records_for_lookup(result.lookup_id)
        assert [r.without_provenance() for r in stored] == [expected], (payer, sample.kind, result.reason)
        if isinstance(expected, MemberNotFound):
            assert result.outcome is Outcome.NOT_FOUND and result.reason_code == expected.reject_reason.value
        else:
            assert result.outcome is Outcome.FOUND and stored[0].provenance.portal == "crossway"
            assert stored[0].provenance.carrier == payer
        kinds[(payer, sample.kind)] += 1
    assert {payer for payer, _ in kinds} == set(PAYERS) and len(looked_up) == 30
    assert {kind for _, kind in kinds} >= {"not_found", "wrong_dob", "termed", "active_subscriber"}
    for payer, query, result in claimed:
        expected = truth.claims(hub.hub, payer, query)
        assert isinstance(expected, ClaimList) and expected.claims
        assert result.outcome is Outcome.FOUND, (payer, result.reason)
        assert result.answer.without_provenance() == expected  # every claim, field by field

    # One sign-in for all 33 lookups: one password login at Crossway ID, one hub sign-in.
    user = username(hub, LABEL)
    assert hub.hub.stats()["users"][user]["sign_ins"] == 1
    assert hub.idp.stats()["accounts"][user]["successful_logins"] == 1
    assert hub.hub.stats()["users"][user]["throttled"] == 0  # the searches were paced, never refused


async def test_name_search_where_allowed_refused_where_not(hub_runner, hub):
    data = hub.hub.current_dataset()
    older, current = prior_enrollments(data.carrier("harborview"))[0]
    single = next(s for s in ground_truth.sample_members(hub.hub, "harborview", 12, kinds=("active_subscriber",))
                  if len(truth.name_candidates(hub.hub, "harborview", s.expected.member.first_name,
                                               s.expected.member.last_name, s.query.date_of_birth)) == 1)
    member = single.expected.member

    def by_name(first: str, last: str, dob) -> EligibilityQuery:
        return EligibilityQuery(first_name=first, last_name=last, date_of_birth=dob, service_date=data.as_of)

    prairie = ground_truth.sample_members(hub.hub, "prairie", 1, kinds=("active_subscriber",))[0].expected.member
    async with hub_runner() as runner:
        one = await runner.eligibility("harborview", by_name(member.first_name, member.last_name,
                                                             member.date_of_birth), portal="crossway")
        two = await runner.eligibility("harborview", by_name(current.first_name, current.last_name,
                                                             current.date_of_birth), portal="crossway")
        nobody = await runner.eligibility("harborview", by_name("Nobody", "Atall", member.date_of_birth),
                                          portal="crossway")
        searches_before = hub.hub.stats()["users"][username(hub, LABEL)]["searches_total"]
        with pytest.raises(ConfigurationError, match="cannot be searched by name"):
            await runner.eligibility("prairie", by_name(prairie.first_name, prairie.last_name,
                                                        prairie.date_of_birth), portal="crossway")
    expected_one = truth.eligibility(hub.hub, "harborview", single.query)
    assert one.outcome is Outcome.FOUND and one.answer.without_provenance() == expected_one
    # Two candidates (an older enrollment and the current one): the one covering the date of service.
    expected_two = truth.eligibility(hub.hub, "harborview", EligibilityQuery(
        member_id=current.member_id, date_of_birth=current.date_of_birth, service_date=data.as_of))
    assert two.outcome is Outcome.FOUND and two.answer.without_provenance() == expected_two
    assert older.member_id != current.member_id
    assert nobody.outcome is Outcome.NOT_FOUND and nobody.reason_code == RejectReason.NOT_FOUND.value
    # Prairie allows no name search: refused before any search is spent (the adapter refuses it too:
    # tests/carriers/crossway/test_crossway_pages.py).
    assert hub.hub.stats()["users"][username(hub, LABEL)]["searches_total"] == searches_before


async def test_expired_hub_session_reenters_through_a_live_identity_session_without_a_password(hub_runner, hub):
    samples = ground_truth.sample_members(hub.hub, "ridgeline", 4, kinds=("active_subscriber", "dependent"))
    user = username(hub, LABEL)
    async with hub_runner() as runner:
        first = [await runner.eligibility("ridgeline", s.query, portal="crossway") for s in samples[:2]]
        silent_before = hub.idp.stats()["totals"]["silent_authorizations"]
        hub.hub.expire_sessions()  # the hub's sessions only: Crossway ID's stays alive
        second = [await runner.eligibility("ridgeline", s.query, portal="crossway") for s in samples[2:]]
    for sample, result in zip(samples, first + second, strict=True):
        assert result.outcome is Outcome.FOUND
        assert result.answer.without_provenance() == truth.eligibility(hub.hub, "ridgeline", sample.query)
    idp = hub.idp.stats()
    assert idp["accounts"][user]["login_attempts"] == 1  # no second password
    assert idp["totals"]["silent_authorizations"] == silent_before + 1
    assert hub.hub.stats()["users"][user]["sign_ins"] == 2
    # Ridgeline through the hub is Ridgeline's own record (the same ground truth as its own portal).
    assert isinstance(second[0].answer, EligibilityRecord)
    assert second[0].answer.without_provenance() == ground_truth.eligibility(hub.dataset, "ridgeline",
                                                                              samples[2].query)
