"""Crossway offline: every recorded hub page reads to its expected file, and every expected file is the hub's
ground truth (recomputed from the seeded dataset by `sandbox/crossway/recording.py`, never from the parser);
the refusals (a change of meaning, the daily limit, the pace gate, maintenance, screens with no answer,
hand-made contradictions) are refused with the declared outcome. Regenerate the pages with
`.venv/bin/python -m sandbox.crossway.recording_pages`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from aggregator.errors import ActionRequired, AggregatorError, ParseError
from aggregator.models import ClaimQuery, EligibilityQuery
from aggregator.scrapers.crossway import CrosswayAdapter
from aggregator.scrapers.crossway.eligibility import current_candidate
from aggregator.scrapers.crossway.pages import Candidate, CandidateListing
from aggregator.scrapers.framework import Credentials
from aggregator.scrapers.framework.pacing import pace_searches, search_answered, searched_at
from sandbox.crossway import recording
from sandbox.dataset import generate_dataset

ROOT = Path(__file__).parents[2] / "recorded_pages" / "crossway"
PAGES = sorted(ROOT.glob("*/*.html"))
DATASET = generate_dataset(seed=recording.RECORDED_WITH["seed"], as_of=recording.RECORDED_WITH["as_of"])
CASES = {f"{c.flow}/{c.name}": c for c in recording.hub_cases(DATASET)}
DECLARED = {c.stem: c for c in recording.cases(DATASET)}
MODELS = {"eligibility": EligibilityQuery, "claim_status": ClaimQuery}


def parse(path: Path) -> tuple[dict, dict]:
    expected = json.loads(path.with_name(path.name.replace(".html", ".expected.json")).read_text(encoding="utf-8"))
    query = MODELS[path.parent.name].model_validate(expected["query"])
    try:
        answer = CrosswayAdapter.parse_answer(path.parent.name, path.read_text(encoding="utf-8"), query)
    except AggregatorError as error:
        return expected, {"error": {"type": type(error).__name__, "outcome": error.outcome.value}}
    return expected, {"record": answer.model_dump(mode="json")}


@pytest.mark.parametrize("path", PAGES, ids=[f"{p.parent.name}/{p.stem}" for p in PAGES])
def test_recorded_page_reads_to_its_expected_file(path: Path) -> None:
    expected, got = parse(path)
    if "error" in expected:
        assert got.get("error") == {k: expected["error"][k] for k in ("type", "outcome")}
    else:
        assert got == {"record": expected["record"]}


@pytest.mark.parametrize("stem", sorted(CASES), ids=sorted(CASES))
def test_expected_file_is_ground_truth_or_the_declared_refusal(stem: str) -> None:
    case = CASES[stem]
    expected = json.loads((ROOT / f"{stem}.expected.json").read_text(encoding="utf-8"))
    assert expected["query"] == case.query.model_dump(mode="json")
    if case.page.startswith("screen:"):
        assert expected["error"]["outcome"] == "needs_attention"  # a screen on the way holds no answer
    elif case.refusal is not None:
        assert expected["error"]["outcome"] == case.refusal.offline.value
        assert case.refusal.type in (None, expected["error"]["type"])
    else:
        truth = recording.page_truth(DATASET, case.payer, DECLARED[stem])
        assert expected["record"] == truth.model_dump(mode="json")
        assert expected["record"].get("carrier") == case.payer  # read with the layout of its own payer


def test_every_payer_and_every_kind_of_page_is_recorded() -> None:
    kinds = {(c.payer, c.flow) for c in CASES.values() if c.refusal is None and not c.page.startswith("screen")}
    assert kinds == {(p, f) for p in recording.LAYOUT for f in ("eligibility", "claim_status")}
    names = set(CASES)
    assert {"eligibility/prairie_v2_plan_share", "eligibility/prairie_v2_cosmetic", "eligibility/daily_limit",
            "eligibility/too_many_requests", "eligibility/harborview_candidates", "eligibility/harborview_by_name",
            "claim_status/prairie_claims_not_found"} <= names
    assert {f"eligibility/{s}" for s in recording.SCREENS} <= names
    for made in recording.HAND_MADE:
        expected = json.loads((ROOT / f"{made.stem}.expected.json").read_text(encoding="utf-8"))
        assert expected["error"]["outcome"] == "needs_attention"
        base = (ROOT / made.flow / f"{made.base}.html").read_text(encoding="utf-8")
        assert made.edit(base) == (ROOT / f"{made.stem}.html").read_text(encoding="utf-8")


def test_v2_change_of_meaning_is_refused_and_cosmetic_v2_is_read() -> None:
    _, refused = parse(ROOT / "eligibility" / "prairie_v2_plan_share.html")
    assert refused["error"]["type"] == "ParseError"
    expected, cosmetic = parse(ROOT / "eligibility" / "prairie_v2_cosmetic.html")
    assert cosmetic == {"record": expected["record"]} and expected["record"]["benefits"]


def test_a_page_of_another_payer_is_not_read_as_this_payers() -> None:
    html = (ROOT / "eligibility" / "prairie_active_subscriber.html").read_text(encoding="utf-8")
    query = EligibilityQuery.model_validate(json.loads(
        (ROOT / "eligibility" / "prairie_active_subscriber.expected.json").read_text())["query"])
    swapped = html.replace('data-payer="prairie"', 'data-payer="harborview"')
    with pytest.raises(ParseError):
        CrosswayAdapter.parse_answer("eligibility", swapped, query)


def _candidate(member_id: str, coverage: str, start: date | None, end: date | None) -> Candidate:
    return Candidate(member_id=member_id, last_name="Cruz", first_name="Henry", date_of_birth=date(2003, 4, 13),
                     relationship="18", coverage=coverage, coverage_from=start, coverage_to=end)


def test_a_candidate_is_chosen_only_when_exactly_one_may_be_current_on_the_date_of_service() -> None:
    older = _candidate("HVH1", "Termed (10/01/2018 - 10/31/2022)", date(2018, 10, 1), date(2022, 10, 31))
    current = _candidate("HVH2", "Active", None, None)
    listing = CandidateListing(carrier="harborview", rows=(older, current))
    assert current_candidate(listing, date(2026, 11, 27)) == current
    # A date of service inside the older enrollment: both may be current, so a person decides.
    assert current_candidate(listing, date(2020, 1, 1)) is None
    assert current_candidate(CandidateListing(carrier="harborview", rows=(current, current.model_copy(
        update={"member_id": "HVH3"}))), date(2026, 11, 27)) is None


def test_a_name_search_for_a_payer_without_one_is_refused_before_any_search() -> None:
    touched: list[str] = []

    class NoSession(SimpleNamespace):
        def __getattr__(self, name: str) -> object:
            touched.append(name)
            raise AssertionError("the portal must not be asked")

    adapter = CrosswayAdapter(NoSession(account_label="billing"), Credentials(username="u", password="p"),  # type: ignore[arg-type]
                              payer="prairie")
    query = EligibilityQuery(first_name="Ann", last_name="Lee", date_of_birth=date(1990, 1, 1),
                             service_date=date(2026, 11, 27))
    with pytest.raises(ActionRequired):
        asyncio.run(adapter.check_eligibility(query))
    assert touched == []


def test_searches_are_paced_from_the_previous_answer() -> None:
    async def run() -> float:
        session = SimpleNamespace()
        loop = asyncio.get_running_loop()
        await pace_searches(session, 0.05)  # the first search waits for nothing
        search_answered(session)
        answered = searched_at(session)
        assert answered is not None
        await pace_searches(session, 0.05)
        return loop.time() - answered

    assert asyncio.run(run()) >= 0.05
