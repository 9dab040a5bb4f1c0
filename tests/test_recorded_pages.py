"""Every recorded page parses offline to exactly its expected output.

Cases live in tests/recorded_pages/<carrier>/<flow>/<case>.html with <case>.expected.json holding the
query that produced the page (its model depends on the flow folder) and either the expected record or
the expected error. Run
`pytest tests/test_recorded_pages.py --update-expected` to rewrite expected files from what the parser
now extracts, then review the diff before committing.
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


def test_there_are_recorded_pages_for_every_carrier() -> None:
    from aggregator.scrapers.registry import all_adapters

    for adapter in all_adapters():
        cases = list((ROOT / adapter.manifest.slug).glob("*/*.html"))
        assert cases, f"{adapter.manifest.slug} has no recorded pages"
