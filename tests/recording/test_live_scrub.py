"""The live recorder's scrub-and-check step, offline: committed sandbox pages stand in for a live lookup's
captures (their expected files are the sandbox's ground truth, used here only to check)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from aggregator.errors import Outcome
from aggregator.recording.capture import CapturedPage
from aggregator.recording.cases import QUERY_MODELS, canonical
from aggregator.recording.live import Recording, scrub_recording, write_cases
from aggregator.scrapers.registry import adapter_for
from sandbox.recorded_cases import CARRIERS, declared_cases

ROOT = Path(__file__).parents[1] / "recorded_pages"
SALT = b"tests/recording"


def _record_case(carrier: str) -> Any:
    """A declared eligibility case whose page holds a record (not a refusal, not a member list)."""
    for case in declared_cases(carrier):
        expected = json.loads((ROOT / carrier / case.flow / f"{case.name}.expected.json").read_text())
        if case.flow == "eligibility" and expected.get("record", {}).get("kind") == "eligibility":
            return case, expected
    raise AssertionError(f"{carrier}: no eligibility record case")


def _recording(carrier: str, username: str | None = None) -> tuple[Recording, dict[str, Any]]:
    case, expected = _record_case(carrier)
    page = (ROOT / carrier / case.flow / f"{case.name}.html").read_bytes()
    query = QUERY_MODELS[case.flow].model_validate(expected["query"])
    answer = adapter_for(carrier).parse_answer(case.flow, page.decode("utf-8"), query)
    result = SimpleNamespace(outcome=Outcome.FOUND, answer=answer, reason=None, reason_code=None)
    captured = CapturedPage(1, "e1", case.keep, "https://portal.example/", page, None, in_answer=True)
    return Recording(Path("/nonexistent"), carrier, case.flow, query, result, [captured], username), expected


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_scrubbed_page_reads_as_the_scrubbed_ground_truth(carrier: str) -> None:
    recording, expected = _recording(carrier)
    scrubbed = scrub_recording(recording, name="live", salt=SALT)
    assert scrubbed.problems == [] and len(scrubbed.cases) == 1
    assert scrubbed.scrubber is not None
    case = scrubbed.cases[0]
    assert canonical(case.expected["record"]) == canonical(scrubbed.scrubber.scrub_json(expected["record"]))
    assert case.expected["query"] == scrubbed.scrubber.scrub_json(expected["query"])
    member = expected["record"]["member"]
    for value in (member["member_id"], member["last_name"], member["date_of_birth"]):
        assert value.encode() not in case.content and value not in json.dumps(case.expected)


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_scrub_that_changes_what_the_page_says_is_refused(carrier: str) -> None:
    """A 'user name' that is a word of the page's labels makes the scrubber replace that word: the scrubbed
    page no longer reads as the original with the replacements, and nothing may be written."""
    recording, _ = _recording(carrier)
    scrubbed = scrub_recording(Recording(**{**vars(recording), "username": "Deductible"}), name="live", salt=SALT)
    assert scrubbed.problems and not scrubbed.cases, "the damage is caught"
    with pytest.raises(ValueError):
        write_cases(scrubbed, Path("/nonexistent"), confirmed=True)


def test_nothing_is_written_without_the_persons_confirmation(tmp_path: Path) -> None:
    recording, _ = _recording(CARRIERS[0])
    scrubbed = scrub_recording(recording, name="live", salt=SALT)
    with pytest.raises(ValueError, match="reviewed"):
        write_cases(scrubbed, tmp_path, confirmed=False)
    assert not any(tmp_path.iterdir())
    written = write_cases(scrubbed, tmp_path, confirmed=True)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [f"{CARRIERS[0]}/eligibility/live.html"]


def test_a_lookup_without_an_answer_page_records_nothing() -> None:
    recording, _ = _recording(CARRIERS[0])
    for outcome in (Outcome.NEEDS_HUMAN, Outcome.RETRY_LATER, Outcome.FAILED):
        result = SimpleNamespace(outcome=outcome, answer=None, reason="x", reason_code="x")
        scrubbed = scrub_recording(Recording(**{**vars(recording), "result": result}), name="live", salt=SALT)
        assert scrubbed.problems and not scrubbed.cases
