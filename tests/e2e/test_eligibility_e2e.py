"""Eligibility end to end: real sandbox portal, real Chromium, stored records vs ground truth."""

from __future__ import annotations

import asyncio
from collections import Counter

from aggregator.errors import Outcome
from aggregator.evidence import SnapshotFiles, sha256_hex, verify_chain
from aggregator.models import EligibilityRecord, MemberNotFound
from sandbox.ground_truth import eligibility, sample_members
from sandbox.ridgeline.benefits_view import meaning_change_for
from tests.e2e.conftest import account_stats

KINDS = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob", "wrong_last_name")


async def test_stored_records_equal_ground_truth_for_36_members_of_every_kind(make_runner, sandbox, portal, settings):
    samples = sample_members(sandbox.dataset, "ridgeline", 36, kinds=KINDS)
    assert Counter(s.kind for s in samples) == {k: 36 // 7 + (1 if i < 36 % 7 else 0) for i, k in enumerate(KINDS)}
    async with make_runner() as runner:
        results = [await runner.eligibility("ridgeline", s.query) for s in samples]

    files = SnapshotFiles(settings.resolved_snapshots_dir)
    for sample, result in zip(samples, results, strict=True):
        stored = runner.repository.records_for_lookup(result.lookup_id)
        assert len(stored) == 1, (sample.kind, result.outcome, result.reason)
        record = stored[0]
        assert record.without_provenance() == sample.expected, sample.kind  # field by field
        expected_outcome = Outcome.FOUND if isinstance(sample.expected, EligibilityRecord) else Outcome.NOT_FOUND
        assert result.outcome is expected_outcome
        if isinstance(sample.expected, MemberNotFound):
            assert result.reason_code == sample.expected.reject_reason.value
        # Provenance: the evidence it names exists, belongs to this lookup, and its files hash right.
        assert record.provenance and record.provenance.carrier == "ridgeline"
        assert record.provenance.portal_account in {"frontdesk", "billing"}
        evidence = {e.id: e for e in result.evidence}
        assert record.provenance.evidence_ids and set(record.provenance.evidence_ids) <= set(evidence)
        for evidence_id in record.provenance.evidence_ids:
            row = evidence[evidence_id]
            png = files.path(row.screenshot_path).read_bytes()
            assert png.startswith(b"\x89PNG") and sha256_hex(png) == row.screenshot_sha256
            assert sha256_hex(files.path(row.html_path).read_bytes()) == row.html_sha256
    assert verify_chain(runner.repository, files) == (len(samples), [])
    assert sum(s["login_attempts"] for s in portal.stats()["accounts"].values()) == 1


async def test_v2_layout_yields_ground_truth_or_needs_attention_never_a_wrong_value(make_runner, sandbox, portal):
    data = sandbox.dataset.carrier("ridgeline")
    active = [s for s in sample_members(sandbox.dataset, "ridgeline", 120, kinds=("active_subscriber", "dependent"))]
    by_change: dict[str | None, list] = {}
    for sample in active:
        by_change.setdefault(meaning_change_for(data, sample.query.member_id, "v2"), []).append(sample)
    chosen = by_change[None][:6] + by_change["tier_swap"][:5] + by_change["plan_share"][:5]
    chosen += sample_members(sandbox.dataset, "ridgeline", 3, kinds=("termed", "not_found", "wrong_dob"))
    portal.update_faults({"layout_version": "v2"})
    async with make_runner() as runner:
        results = [(s, await runner.eligibility("ridgeline", s.query)) for s in chosen]

    outcomes = Counter()
    for sample, result in results:
        stored = runner.repository.records_for_lookup(result.lookup_id)
        if result.outcome is Outcome.NEEDS_ATTENTION:
            assert stored == [], "a page that could not be read safely must leave no record"
            assert result.evidence and result.reason
            outcomes["needs_attention"] += 1
        else:
            assert [r.without_provenance() for r in stored] == [sample.expected]
            outcomes["exact"] += 1
        change = meaning_change_for(data, sample.query.member_id, "v2")
        if change is not None and isinstance(sample.expected, EligibilityRecord) and sample.expected.benefits:
            assert result.outcome is Outcome.NEEDS_ATTENTION, f"{change} must not be read silently"
    # The cosmetic changes alone are survived: every member whose plan has no change of meaning is read.
    assert outcomes == {"exact": 6 + 3, "needs_attention": 10}


async def test_maintenance_page_means_retry_later_not_needs_attention(make_runner, sandbox, portal):
    sample = sample_members(sandbox.dataset, "ridgeline", 1)[0]
    async with make_runner() as runner:
        warm = await runner.eligibility("ridgeline", sample.query)  # logged in before the window starts
        portal.update_faults({"maintenance": True})
        during = await runner.eligibility("ridgeline", sample.query)
    assert warm.outcome is Outcome.FOUND
    assert during.outcome is Outcome.RETRY_LATER and "maintenance" in during.reason.lower()
    assert runner.repository.records_for_lookup(during.lookup_id) == []
    assert [e.label for e in during.evidence] == ["maintenance"]


async def test_maintenance_before_login_also_retry_later_and_no_freeze(make_runner, sandbox, portal, vault):
    portal.update_faults({"maintenance": True})
    sample = sample_members(sandbox.dataset, "ridgeline", 1)[0]
    async with make_runner() as runner:
        result = await runner.eligibility("ridgeline", sample.query)
    assert result.outcome is Outcome.RETRY_LATER
    assert not any(a.is_frozen for a in runner.vault.accounts("ridgeline"))


async def test_manifest_maintenance_window_defers_without_contacting_the_portal(make_runner, sandbox, portal):
    from datetime import UTC, datetime

    sunday_3am_new_york = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    sample = sample_members(sandbox.dataset, "ridgeline", 1)[0]
    async with make_runner() as runner:
        runner.clock = lambda: sunday_3am_new_york
        result = await runner.eligibility("ridgeline", sample.query)
    assert result.outcome is Outcome.RETRY_LATER
    assert portal.stats()["requests"] == []


async def test_server_errors_are_retried_then_answered(make_runner, sandbox, portal):
    samples = sample_members(sandbox.dataset, "ridgeline", 6)
    async with make_runner() as runner:
        await runner.eligibility("ridgeline", samples[0].query)
        portal.update_faults({"error_rate": 0.15})
        results = await asyncio.gather(*(runner.eligibility("ridgeline", s.query) for s in samples))
    for sample, result in zip(samples, results, strict=True):
        # A server error is the portal's problem: retried, and at worst "retry later", never a guess.
        assert result.outcome in (Outcome.FOUND, Outcome.NOT_FOUND, Outcome.RETRY_LATER), result.reason
        stored = runner.repository.records_for_lookup(result.lookup_id)
        assert len(stored) == (0 if result.outcome is Outcome.RETRY_LATER else 1)
        assert all(r.without_provenance() == sample.expected for r in stored)
    assert sum(r.outcome is not Outcome.RETRY_LATER for r in results) >= 4  # retries recover most
    by_status = portal.stats()["totals"]["by_status"]
    assert sum(n for status, n in by_status.items() if status.startswith("5")) > 0, "errors were really injected"
    assert account_stats(portal, "frontdesk")["consecutive_failures"] == 0


def test_ground_truth_is_not_computed_from_html(sandbox):
    # Guard against a circular test: truth comes from the dataset, for any member the generator made.
    member = next(iter(sandbox.dataset.carrier("ridgeline").members.values()))
    assert eligibility.__module__ == "sandbox.ground_truth" and member.member_id
