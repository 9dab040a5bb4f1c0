"""Cascade Care end to end: real sandbox portal (frameset, postbacks, EOB PDFs), real Chromium, answers vs
ground truth field by field, and the login discipline around notices, expired sessions and passwords."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from aggregator.errors import Outcome
from aggregator.evidence import SnapshotFiles, sha256_hex, verify_chain
from aggregator.models import (
    AuthorizationList,
    AuthorizationQuery,
    ClaimList,
    ClaimQuery,
    EligibilityRecord,
    MemberNotFound,
    RejectReason,
)
from aggregator.scrapers.cascade import CascadeAdapter
from sandbox import ground_truth
from sandbox.cascade.views import meaning_change_for
from sandbox.ground_truth import sample_members
from tests.e2e.fixtures import account_stats

CARRIER = "cascade"
KINDS = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob", "wrong_last_name")


def _expected(truth, query):  # type: ignore[no-untyped-def]
    if isinstance(truth, RejectReason):
        return MemberNotFound(carrier=CARRIER, query=query, reject_reason=truth)
    return truth


async def test_eligibility_of_32_members_equals_ground_truth(make_runner, sandbox, portals, settings):
    portal = portals[CARRIER]
    samples = sample_members(sandbox.dataset, CARRIER, 32, kinds=KINDS)
    async with make_runner() as runner:
        results = [await runner.eligibility(CARRIER, s.query, account_label="frontdesk") for s in samples]
    files = SnapshotFiles(settings.resolved_snapshots_dir)
    for sample, result in zip(samples, results, strict=True):
        assert result.answer is not None, (sample.kind, result.outcome, result.reason)
        assert result.answer.without_provenance() == sample.expected, sample.kind
        assert result.outcome is (Outcome.FOUND if isinstance(sample.expected, EligibilityRecord) else Outcome.NOT_FOUND)
        evidence = {e.id: e for e in result.evidence}
        assert result.answer.provenance and set(result.answer.provenance.evidence_ids) <= set(evidence)
        row = evidence[result.answer.provenance.evidence_ids[0]]
        # The evidence HTML is the content frame's page the record was parsed from; the PNG the whole tab.
        html = files.path(row.html_path).read_text(encoding="utf-8")
        assert result.answer.without_provenance() == CascadeAdapter.parse_answer("eligibility", html, sample.query)
        assert files.path(row.screenshot_path).read_bytes().startswith(b"\x89PNG")
    assert verify_chain(runner.repository, files) == (len(samples), [])
    stats = account_stats(portal, "frontdesk")
    # One login for 32 lookups, through the security question, the announcement and the expiry notice.
    assert (stats["login_attempts"], stats["successful_logins"], stats["mfa_attempts"]) == (1, 1, 1)


async def test_authorizations_and_claims_of_31_members_equal_ground_truth(make_runner, sandbox, portals, settings):
    portal = portals[CARRIER]
    data = sandbox.dataset.carrier(CARRIER)
    holders = ground_truth.members_with_authorizations(portal, CARRIER)
    without = ground_truth.members_without_authorizations(portal, CARRIER)
    auth_queries = [AuthorizationQuery(member_id=m.member_id, date_of_birth=m.date_of_birth)
                    for m in holders[:12] + without[:3]]
    auth_queries.append(AuthorizationQuery(member_id=data.not_found_ids[0], date_of_birth=holders[0].date_of_birth))
    asked = {q.member_id for q in auth_queries}
    few = [m for m in data.members.values() if 1 <= len(data.claims_for(m.member_id)) <= 2 and m.member_id not in asked]
    claim_queries = [ground_truth.member_claims_query(portal, CARRIER, m.member_id) for m in few[:14]]
    by_category = ground_truth.claims_by_category(portal, CARRIER)
    claim_queries += [ClaimQuery(claim_number=by_category[c][0].claim_number) for c in sorted(by_category, key=str)][:6]
    claim_queries.append(claim_queries[0].model_copy(update={"date_of_birth": claim_queries[0].date_of_birth - timedelta(days=3)}))
    claim_queries.append(ClaimQuery(claim_number="C260019999999"))
    members = {q.member_id for q in auth_queries} | {q.member_id for q in claim_queries if q.member_id}
    assert len(members) >= 30
    async with make_runner() as runner:
        auth_results = [await runner.authorizations(CARRIER, q) for q in auth_queries]
        claim_results = [await runner.claims(CARRIER, q) for q in claim_queries]

    statuses, categories, documents = set(), set(), 0
    for query, result in zip(auth_queries, auth_results, strict=True):
        expected = _expected(ground_truth.authorizations(portal, CARRIER, query.member_id, query.date_of_birth), query)
        assert result.answer is not None, (result.outcome, result.reason)
        assert result.answer.without_provenance() == expected
        if isinstance(expected, AuthorizationList):
            statuses |= {a.status for a in expected.authorizations}
            assert [e.label for e in result.evidence] == (["authorization-search-result"]
                                                          + ["authorization-detail"] * len(expected.authorizations))
    by_id = {}
    for query, result in zip(claim_queries, claim_results, strict=True):
        expected = _expected(ground_truth.claims(portal, CARRIER, query), query)
        assert result.answer is not None, (result.outcome, result.reason)
        assert result.answer.without_provenance() == expected  # field by field, lines and adjustments included
        by_id.update({e.id: e for e in result.evidence})
        if isinstance(expected, ClaimList):
            categories |= {c.status_category for c in expected.claims}
            for claim in result.answer.claims:
                # Each claim names the report and the EOB entry that holds its PDF.
                report, eob = (by_id[i] for i in claim.provenance.evidence_ids)
                assert (report.label, eob.label) == ("claims-report", "claim-eob")
                assert eob.document_media_type == "application/pdf" and eob.document_sha256
                pdf = SnapshotFiles(settings.resolved_snapshots_dir).path(eob.document_path).read_bytes()
                assert sha256_hex(pdf) == eob.document_sha256
                assert CascadeAdapter.parse_document("eob", pdf) == claim.model_copy(update={"provenance": None})
                documents += 1
    assert len(statuses) >= 6 and len(categories) >= 6 and documents >= 15
    assert claim_results[-2].answer.reject_reason is RejectReason.DOB_MISMATCH
    assert claim_results[-1].answer.claims == ()
    files = SnapshotFiles(settings.resolved_snapshots_dir)
    total = sum(len(r.evidence) for r in auth_results + claim_results)
    assert verify_chain(runner.repository, files) == (total, [])
    assert sum(s["login_attempts"] for s in portal.stats()["accounts"].values()) == 1


async def test_v2_layout_gives_ground_truth_or_needs_attention_never_a_wrong_record(make_runner, sandbox, portals):
    portal = portals[CARRIER]
    data = sandbox.dataset.carrier(CARRIER)
    active = sample_members(sandbox.dataset, CARRIER, 60, kinds=("active_subscriber", "dependent"))
    by_change: dict[str | None, list] = {}
    for sample in active:
        by_change.setdefault(meaning_change_for(data, sample.query.member_id, "v2"), []).append(sample)
    chosen = by_change[None][:4] + by_change["tier_words"][:3]
    holder = ground_truth.members_with_authorizations(portal, CARRIER)[1]
    claimant = next(m for m in data.members.values() if len(data.claims_for(m.member_id)) == 3)
    portal.update_faults({"layout_version": "v2"})
    async with make_runner() as runner:
        results = [(s, await runner.eligibility(CARRIER, s.query)) for s in chosen]
        auth_query = AuthorizationQuery(member_id=holder.member_id, date_of_birth=holder.date_of_birth)
        auths = await runner.authorizations(CARRIER, auth_query)
        claim_query = ground_truth.member_claims_query(portal, CARRIER, claimant.member_id)
        claims = await runner.claims(CARRIER, claim_query)
    outcomes = Counter()
    for sample, result in results:
        change = meaning_change_for(data, sample.query.member_id, "v2")
        if change is None:
            assert result.answer is not None and result.answer.without_provenance() == sample.expected
        else:
            assert result.outcome is Outcome.NEEDS_ATTENTION and result.answer is None
            assert runner.repository.records_for_lookup(result.lookup_id) == []
            assert result.evidence  # the page that changed meaning is kept
        outcomes[result.outcome] += 1
    assert outcomes == {Outcome.FOUND: 4, Outcome.NEEDS_ATTENTION: 3}
    assert auths.answer.without_provenance() == ground_truth.authorizations(portal, CARRIER, holder.member_id,
                                                                           holder.date_of_birth)
    assert claims.answer.without_provenance() == ground_truth.claims(portal, CARRIER, claim_query)


async def test_maintenance_captcha_expired_session_and_expired_password(make_runner, sandbox, portals, vault):
    portal = portals[CARRIER]
    samples = sample_members(sandbox.dataset, CARRIER, 4)
    async with make_runner() as runner:
        portal.update_faults({"maintenance": True})
        down = await runner.eligibility(CARRIER, samples[0].query, account_label="frontdesk")
        portal.update_faults({"maintenance": False})
        first = await runner.eligibility(CARRIER, samples[0].query, account_label="frontdesk")
        # The portal forgets the session as its idle timeout would; no sleep, so a slow re-login on a busy
        # machine cannot idle out the new session too.
        assert portal.expire_sessions() >= 1
        after_idle = await runner.eligibility(CARRIER, samples[1].query, account_label="frontdesk")
    assert down.outcome is Outcome.RETRY_LATER and down.reason_code == "portal_maintenance" and down.evidence
    assert first.answer.without_provenance() == samples[0].expected
    assert after_idle.answer.without_provenance() == samples[1].expected
    stats = account_stats(portal, "frontdesk")
    assert (stats["login_attempts"], stats["successful_logins"]) == (2, 2)  # exactly one re-login

    portal.update_faults({"captcha": True, "idle_timeout_seconds": 300})
    async with make_runner() as runner:
        blocked = await runner.eligibility(CARRIER, samples[2].query, account_label="billing")
    assert blocked.outcome is Outcome.NEEDS_HUMAN and blocked.reason_code == "captcha"
    assert account_stats(portal, "billing")["captcha_challenges"] == 1

    portal.update_faults({"captcha": False})
    billing = next(a for a in sandbox.dataset.carrier(CARRIER).accounts if a.label == "billing")
    portal.set_password_days(billing.username, 0)
    before = account_stats(portal, "billing")["login_attempts"]
    async with make_runner() as runner:
        expired = [await runner.eligibility(CARRIER, s.query, account_label="billing") for s in samples[2:4]]
    assert [r.outcome for r in expired] == [Outcome.NEEDS_HUMAN] * 2
    assert expired[0].reason_code == "password_expired" and expired[1].reason_code == "account_frozen"
    assert account_stats(portal, "billing")["login_attempts"] - before == 1  # exactly one attempt, then frozen
    frozen = runner.vault.find(CARRIER, "billing")
    assert frozen.is_frozen and "expired" in frozen.frozen_reason
