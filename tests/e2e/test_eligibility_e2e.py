"""Eligibility end to end: real sandbox portals, real Chromium, stored records vs ground truth.

Every registered carrier whose manifest declares eligibility answers one member of every kind exactly as
the sandbox's ground truth says (a new carrier is covered by being registered; one without the capability
is skipped, by its manifest); a hub answers so for every payer it serves (`manifest.served_payers()`), from
that payer's ground truth. The portal's states (maintenance, the manifest's window, server errors) are
the runner's business and use the example portal (`portal`); each carrier's own eligibility tests, with its
layouts and changes of meaning, live in tests/carriers/<slug>/.
"""

from __future__ import annotations

import asyncio

import pytest

from aggregator.errors import Outcome
from aggregator.evidence import SnapshotFiles, sha256_hex
from aggregator.models import EligibilityRecord, MemberNotFound
from aggregator.scrapers.framework import Capability, CarrierAdapter
from aggregator.scrapers.registry import adapter_for
from sandbox.carriers import payer_source
from sandbox.ground_truth import eligibility, sample_members
from tests.carrier_params import every_payer
from tests.e2e.fixtures import EXAMPLE_CARRIER, account_labels, account_stats, login_attempts

KINDS = ("active_subscriber", "dependent", "termed", "future", "not_found", "wrong_dob", "wrong_last_name")


@pytest.mark.parametrize(("adapter", "payer"), every_payer(Capability.ELIGIBILITY))
async def test_every_carrier_answers_one_member_of_every_kind_as_ground_truth(
        adapter: type[CarrierAdapter], payer: str, make_runner, sandbox, portals, settings) -> None:
    slug = adapter.manifest.slug
    assert slug in sandbox.urls, f"{slug} has an adapter but no sandbox portal (sandbox/{slug}/)"
    samples = sample_members(payer_source(sandbox.dataset, payer), payer, len(KINDS), kinds=KINDS)
    async with make_runner() as runner:
        results = [await runner.eligibility(payer, s.query, portal=slug) for s in samples]

    files = SnapshotFiles(settings.resolved_snapshots_dir)
    labels = account_labels(sandbox, slug)
    for sample, result in zip(samples, results, strict=True):
        stored = runner.repository.records_for_lookup(result.lookup_id)
        assert len(stored) == 1, (sample.kind, result.outcome, result.reason)
        assert stored[0].without_provenance() == sample.expected, sample.kind  # field by field
        expected_outcome = Outcome.FOUND if isinstance(sample.expected, EligibilityRecord) else Outcome.NOT_FOUND
        assert result.outcome is expected_outcome, sample.kind
        if isinstance(sample.expected, MemberNotFound):
            assert result.reason_code == sample.expected.reject_reason.value
        provenance = stored[0].provenance
        assert provenance and provenance.carrier == payer and provenance.portal_account in labels
        assert provenance.portal == (None if payer == slug else slug)  # read on a hub: it says which
        evidence = {e.id: e for e in result.evidence}
        assert provenance.evidence_ids and set(provenance.evidence_ids) <= set(evidence)
        for evidence_id in provenance.evidence_ids:
            row = evidence[evidence_id]
            assert sha256_hex(files.path(row.screenshot_path).read_bytes()) == row.screenshot_sha256
            assert sha256_hex(files.path(row.html_path).read_bytes()) == row.html_sha256
    assert login_attempts(sandbox, slug) == 1


async def test_maintenance_page_means_retry_later_not_needs_attention(make_runner, sandbox, portal):
    sample = sample_members(sandbox.dataset, EXAMPLE_CARRIER, 1)[0]
    async with make_runner() as runner:
        warm = await runner.eligibility(EXAMPLE_CARRIER, sample.query)  # logged in before the window starts
        portal.update_faults({"maintenance": True})
        during = await runner.eligibility(EXAMPLE_CARRIER, sample.query)
    assert warm.outcome is Outcome.FOUND
    assert during.outcome is Outcome.RETRY_LATER and "maintenance" in during.reason.lower()
    assert runner.repository.records_for_lookup(during.lookup_id) == []
    assert [e.label for e in during.evidence] == ["maintenance"]


async def test_maintenance_before_login_also_retry_later_and_no_freeze(make_runner, sandbox, portal, vault):
    portal.update_faults({"maintenance": True})
    sample = sample_members(sandbox.dataset, EXAMPLE_CARRIER, 1)[0]
    async with make_runner() as runner:
        result = await runner.eligibility(EXAMPLE_CARRIER, sample.query)
    assert result.outcome is Outcome.RETRY_LATER
    assert not any(a.is_frozen for a in runner.vault.accounts(EXAMPLE_CARRIER))


async def test_manifest_maintenance_window_defers_without_contacting_the_portal(make_runner, sandbox, portal):
    from datetime import UTC, datetime

    sunday_3am_new_york = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert any(w.contains(sunday_3am_new_york) for w in adapter_for(EXAMPLE_CARRIER).manifest.maintenance_windows)
    sample = sample_members(sandbox.dataset, EXAMPLE_CARRIER, 1)[0]
    async with make_runner() as runner:
        runner.clock = lambda: sunday_3am_new_york
        result = await runner.eligibility(EXAMPLE_CARRIER, sample.query)
    assert result.outcome is Outcome.RETRY_LATER
    assert portal.stats()["requests"] == []


async def test_server_errors_are_retried_then_answered(make_runner, sandbox, portal):
    samples = sample_members(sandbox.dataset, EXAMPLE_CARRIER, 6)
    async with make_runner() as runner:
        await runner.eligibility(EXAMPLE_CARRIER, samples[0].query)
        portal.update_faults({"error_rate": 0.15})
        results = await asyncio.gather(*(runner.eligibility(EXAMPLE_CARRIER, s.query) for s in samples))
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
    member = next(iter(sandbox.dataset.carrier(EXAMPLE_CARRIER).members.values()))
    assert eligibility.__module__ == "sandbox.ground_truth" and member.member_id
