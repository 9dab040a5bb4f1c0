"""Authorizations and claim status end to end, for every registered carrier that declares them: real sandbox
portals, real Chromium, answers vs the sandbox's ground truth field by field (provenance aside).

A new carrier is covered by being registered; a carrier whose manifest lacks the capability (or a claim
search mode) is skipped for it, by its manifest. A hub is asked for every payer it serves
(`manifest.served_payers()`), against that payer's data as the hub shows it. Each carrier's own, larger
activity tests (every status, every results page, its layouts) live in tests/carriers/<slug>/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregator.models import AuthorizationQuery, ClaimQuery, MemberNotFound, RejectReason
from aggregator.scrapers.framework import Capability, CarrierAdapter
from aggregator.scrapers.framework.manifest import SearchMode
from sandbox import ground_truth
from tests.carrier_params import every_carrier, every_payer
from tests.e2e.fixtures import login_attempts


def _expected(truth, carrier: str, query):  # type: ignore[no-untyped-def]
    """The ground truth as the adapter answers it: a reject reason becomes a MemberNotFound."""
    if isinstance(truth, RejectReason):
        return MemberNotFound(carrier=carrier, query=query, reject_reason=truth)
    return truth


def _logins(state) -> int:  # type: ignore[no-untyped-def]
    return sum(a["login_attempts"] for a in state.stats()["accounts"].values())


@pytest.mark.parametrize("adapter", every_carrier(Capability.AUTHORIZATION))
async def test_every_carrier_answers_authorizations_as_ground_truth(
        adapter: type[CarrierAdapter], make_runner, sandbox, portals) -> None:
    slug = adapter.manifest.slug
    state = portals[slug]
    holders = ground_truth.members_with_authorizations(state, slug)
    members = holders[:3] + ground_truth.members_without_authorizations(state, slug)[:1]
    queries = [AuthorizationQuery(member_id=m.member_id, date_of_birth=m.date_of_birth) for m in members]
    queries.append(AuthorizationQuery(member_id=sandbox.dataset.carrier(slug).not_found_ids[0],
                                      date_of_birth=members[0].date_of_birth))
    queries.append(AuthorizationQuery(member_id=holders[0].member_id,
                                      date_of_birth=holders[0].date_of_birth + timedelta(days=1)))
    async with make_runner() as runner:
        results = [await runner.authorizations(slug, q) for q in queries]
    for query, result in zip(queries, results, strict=True):
        expected = _expected(ground_truth.authorizations(state, slug, query.member_id, query.date_of_birth), slug, query)
        assert result.answer is not None, (result.outcome, result.reason)
        assert result.answer.without_provenance() == expected
    assert [r.answer.reject_reason for r in results[-2:]] == [RejectReason.NOT_FOUND, RejectReason.DOB_MISMATCH]
    assert _logins(state) == 1


@pytest.mark.parametrize(("adapter", "payer"), every_payer(Capability.CLAIM_STATUS))
async def test_every_carrier_answers_claims_as_ground_truth(
        adapter: type[CarrierAdapter], payer: str, make_runner, sandbox, portals) -> None:
    slug, modes = adapter.manifest.slug, adapter.manifest.search_modes
    # The data the portal renders now: a carrier portal's state, or the hub's (its copy of each payer's data).
    state = sandbox.hubs[slug].hub if slug in sandbox.hubs else portals[slug]
    data = state.current_dataset().carrier(payer)
    queries: list[ClaimQuery] = []
    if SearchMode.CLAIMS_BY_MEMBER_AND_DATES in modes:
        some = [m for m in data.members.values() if 1 <= len(data.claims_for(m.member_id)) <= 3][:2]
        none = [m for m in data.members.values() if not data.claims_for(m.member_id)][:1]
        queries += [ground_truth.member_claims_query(state, payer, m.member_id) for m in some + none]
    if SearchMode.CLAIMS_BY_NUMBER in modes:
        by_category = ground_truth.claims_by_category(state, payer)
        queries += [ClaimQuery(claim_number=claims[0].claim_number) for claims in list(by_category.values())[:3]]
    assert queries, f"{slug} declares claim status but no claim search mode its manifest lists"
    async with make_runner() as runner:
        results = [await runner.claims(payer, q, portal=slug) for q in queries]
    for query, result in zip(queries, results, strict=True):
        expected = _expected(ground_truth.claims(state, payer, query), payer, query)
        assert result.answer is not None, (result.outcome, result.reason)
        assert result.answer.without_provenance() == expected
    assert login_attempts(sandbox, slug) == 1
