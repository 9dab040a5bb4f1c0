"""One real lookup (sandbox portal, real Chromium) with the evidence store set to S3 (moto on loopback).

The runner is the product's own, built by the e2e `make_runner` fixture from settings that select the S3
store: the answer equals the sandbox's ground truth, every capture is in the bucket under the name and hash
the directory store would give it, the chain verifies, and nothing was written to the local disk.
"""

from __future__ import annotations

import pytest

from aggregator.errors import Outcome
from aggregator.evidence import verify_chain
from aggregator.evidence_files import DirectoryEvidenceFiles, evidence_files
from aggregator.settings import Settings
from sandbox.ground_truth import sample_members
from tests.e2e.fixtures import EXAMPLE_CARRIER
from tests.evidence_s3.conftest import objects, s3_settings

PREFIX = "practice-1/"


@pytest.fixture
def settings(tmp_path, s3_server, bucket) -> Settings:
    """Overrides the e2e fixture of the same name: this test's data directory, evidence in the bucket."""
    return s3_settings(tmp_path / "data", s3_server, bucket)


async def test_a_lookups_evidence_lands_in_s3_as_the_directory_store_would_name_it(
        make_runner, sandbox, settings, s3_server, bucket, tmp_path) -> None:
    sample = sample_members(sandbox.dataset, EXAMPLE_CARRIER, 1, kinds=("active_subscriber",))[0]
    async with make_runner() as runner:
        result = await runner.eligibility(EXAMPLE_CARRIER, sample.query)
    assert result.outcome is Outcome.FOUND, result.reason
    [stored] = runner.repository.records_for_lookup(result.lookup_id)
    assert stored.without_provenance() == sample.expected

    in_bucket = objects(s3_server, bucket, PREFIX)
    directory = DirectoryEvidenceFiles(tmp_path / "what-the-directory-store-writes")
    named: set[str] = set()
    assert result.evidence
    for row in result.evidence:
        for name, digest, suffix in ((row.screenshot_path, row.screenshot_sha256, ".png"),
                                     (row.html_path, row.html_sha256, ".html")):
            assert directory.put(in_bucket[name], suffix) == (digest, name)  # same bytes -> same name and hash
            named.add(name)
    assert set(in_bucket) == named
    assert verify_chain(runner.repository, evidence_files(settings)) == (len(result.evidence), [])
    assert not settings.resolved_snapshots_dir.exists()
