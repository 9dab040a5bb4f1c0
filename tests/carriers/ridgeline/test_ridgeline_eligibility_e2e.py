"""Ridgeline eligibility end to end: real sandbox portal, real Chromium, stored records vs ground truth,
evidence hashes, and the v2 layout's changes of meaning (Ridgeline's own: sandbox/ridgeline/benefits_view.py)."""

from __future__ import annotations

from collections import Counter

from aggregator.errors import Outcome
from aggregator.evidence import SnapshotFiles, sha256_hex, verify_chain
from aggregator.models import EligibilityRecord, MemberNotFound
from sandbox.ground_truth import sample_members
from sandbox.ridgeline.benefits_view import meaning_change_for

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
