"""`aggregator record` as a person runs it: the review is shown, nothing is written without a "yes"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sandbox import ground_truth

AGGREGATOR = [sys.executable, "-m", "aggregator"]
SLUG = "ridgeline"  # any sandbox portal: the command is the same for every carrier


def test_record_shows_the_review_and_writes_only_after_a_yes(settings: Any, vault: Any, sandbox: Any, portals: Any,
                                                             tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env.update(AGGREGATOR_DATA_DIR=str(settings.resolved_data_dir), AGGREGATOR_CARRIER_URLS=json.dumps(sandbox.urls),
               AGGREGATOR_RESPECT_MAINTENANCE_WINDOWS="false")
    sample = ground_truth.sample_members(sandbox.dataset, SLUG, 1, kinds=("active_subscriber",))[0]
    out = tmp_path / "cases"
    args = [*AGGREGATOR, "record", "--portal", SLUG, "--member-id", sample.query.member_id,
            "--dob", sample.query.date_of_birth.isoformat(), "--service-date", sample.query.service_date.isoformat(),
            "--name", "live_example", "--out", str(out)]

    declined = subprocess.run(args, env=env, input="n\n", capture_output=True, text=True, timeout=180)
    assert declined.returncode == 1, declined.stderr
    assert "Are these the right answers" in declined.stdout and "Nothing written" in declined.stdout
    assert not out.exists()

    accepted = subprocess.run(args, env=env, input="y\n", capture_output=True, text=True, timeout=180)
    assert accepted.returncode == 0, accepted.stderr
    page = out / SLUG / "eligibility" / "live_example.html"
    assert page.exists() and page.with_name("live_example.expected.json").exists()
    assert "delete that folder" in accepted.stdout
    shown = accepted.stdout + accepted.stderr
    member = sample.member
    for value in (member.member_id, member.last_name, member.first_name, sample.query.date_of_birth.isoformat()):
        assert value not in shown, "the review shows only scrubbed values"
    recordings = sorted((settings.resolved_data_dir / "recordings").iterdir())
    assert len(recordings) == 2 and all((r.stat().st_mode & 0o077) == 0 for r in recordings)
    review = json.loads((recordings[-1] / "review.json").read_text())
    assert review["cases"][0]["expected"] == json.loads(page.with_name("live_example.expected.json").read_text())
