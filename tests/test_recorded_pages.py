"""Every recorded page parses offline to exactly its expected output.

Cases live in tests/recorded_pages/<carrier>/<flow>/<case>.html with <case>.expected.json holding the
query that produced the page (its model depends on the flow folder) and either the expected record or
the expected error. Expected files are the sandbox's ground truth (tests/test_recorded_ground_truth.py
checks that; `aggregator sandbox record-pages` writes them).

`pytest tests/test_recorded_pages.py --update-expected` rewrites an expected file from what the parser
now extracts only where that equals the ground truth (e.g. a new formatting, a refusal's reworded
reason); a record that differs from the ground truth is refused, naming the case and the fields.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.errors import AggregatorError
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
from aggregator.scrapers.registry import adapter_for

ROOT = Path(__file__).parent / "recorded_pages"
CASES = sorted(ROOT.glob("*/*/*.html"))
QUERY_MODELS: dict[str, type[EligibilityQuery | AuthorizationQuery | ClaimQuery]] = {
    "eligibility": EligibilityQuery, "authorization": AuthorizationQuery, "claim_status": ClaimQuery,
}


def parse_case(html_path: Path, query: EligibilityQuery | AuthorizationQuery | ClaimQuery) -> dict:
    carrier, flow = html_path.parent.parent.name, html_path.parent.name
    adapter = adapter_for(carrier)
    try:
        answer = adapter.parse_answer(flow, html_path.read_text(encoding="utf-8"), query)
    except AggregatorError as error:
        return {"error": {"type": type(error).__name__, "outcome": error.outcome.value, "reason": error.reason}}
    return {"record": answer.model_dump(mode="json")}


@pytest.mark.parametrize("html_path", CASES, ids=[str(p.relative_to(ROOT)) for p in CASES])
def test_recorded_page(html_path: Path, request: pytest.FixtureRequest) -> None:
    expected_path = html_path.with_suffix(".expected.json")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    flow = html_path.parent.name
    assert flow in QUERY_MODELS, f"unknown flow folder '{flow}'"
    query = QUERY_MODELS[flow].model_validate(expected["query"])
    actual = parse_case(html_path, query)
    if request.config.getoption("--update-expected"):
        refused = update_refusal(html_path, actual)
        if refused:
            pytest.fail(f"--update-expected refused to write {html_path.relative_to(ROOT)}: {refused}")
        expected_path.write_text(json.dumps({"query": expected["query"], **actual}, indent=2, sort_keys=True) + "\n")
        return
    if "error" in expected:
        # An expected error pins its type and outcome; the reason's wording may improve freely.
        wanted = {k: expected["error"][k] for k in ("type", "outcome")}
        got = {k: actual.get("error", {}).get(k) for k in ("type", "outcome")}
        assert got == wanted, f"extracted from {html_path.name}:\n{json.dumps(actual, indent=2, sort_keys=True)}"
    else:
        assert actual == {"record": expected["record"]}, (
            f"extracted from {html_path.name}:\n{json.dumps(actual, indent=2, sort_keys=True)}")


def update_refusal(html_path: Path, actual: dict) -> str | None:
    """Why the parser's output may not be written as the expected file (None: it may): a record must
    equal the sandbox's ground truth of the declared case; a refusal must be the one the case declares
    (a hand-made page: needs attention); a page no case declares has no ground truth to write."""
    from sandbox.recorded_cases import (
        HAND_MADE_PREFIX,
        declared_case_for,
        differing_fields,
        page_truth,
        recording_dataset,
    )

    carrier, flow, name = html_path.parent.parent.name, html_path.parent.name, html_path.stem
    case = declared_case_for(carrier, flow, name)
    error = actual.get("error")
    if case is None:
        if name.startswith(HAND_MADE_PREFIX):
            return None if error and error["outcome"] == "needs_attention" else (
                "a hand-made page must still be refused with needs_attention")
        return "no declared case, so no ground truth to compare with"
    if case.refusal is not None:
        if error is None:
            return f"the parser gives a record where a correct adapter must refuse ({case.refusal.why})"
        if error["outcome"] != case.refusal.offline.value or case.refusal.type not in (None, error["type"]):
            return (f"the parser refuses with {error['type']} ({error['outcome']}), the case declares "
                    f"{case.refusal.type or 'any type'} ({case.refusal.offline.value})")
        return None
    truth = page_truth(recording_dataset(carrier), carrier, case).model_dump(mode="json")
    if error is not None:
        return f"the parser refuses ({error['type']}) where the ground truth has a record"
    if actual["record"] != truth:
        return ("the parser's record differs from ground truth (fields differ: "
                + ", ".join(differing_fields(actual["record"], truth)) + ")")
    return None


def test_there_are_recorded_pages_for_every_carrier() -> None:
    from aggregator.scrapers.registry import all_adapters

    for adapter in all_adapters():
        cases = list((ROOT / adapter.manifest.slug).glob("*/*.html"))
        assert cases, f"{adapter.manifest.slug} has no recorded pages"
