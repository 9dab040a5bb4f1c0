"""Summit Health Plan's parser, offline: the recorded pages read to their expected answers, and the pages a correct
adapter must refuse are refused (what the completeness and consistency declarations in
aggregator/scrapers/summit/pages.py promise). No browser, no sandbox: `pytest tests/carriers/summit`.

The cross-carrier tests cover this carrier too, by the registry: tests/test_recorded_pages.py,
tests/test_recorded_ground_truth.py, the mutation suite (tests/mutation) and tests/test_parser_fuzz.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from aggregator.errors import AggregatorError, ParseError, UnmappedValue
from aggregator.models import EligibilityQuery
from aggregator.scrapers.registry import adapter_for

CARRIER = "summit"
PAGES = Path(__file__).resolve().parents[2] / "recorded_pages" / CARRIER / "eligibility"
ADAPTER = adapter_for(CARRIER)


def case(name: str) -> tuple[str, EligibilityQuery, dict[str, Any]]:
    expected = json.loads((PAGES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return ((PAGES / f"{name}.html").read_text(encoding="utf-8"), EligibilityQuery.model_validate(expected["query"]),
            expected)


def parse(html: str, query: EligibilityQuery) -> dict[str, Any]:
    try:
        return {"record": ADAPTER.parse_answer("eligibility", html, query).model_dump(mode="json")}
    except AggregatorError as error:
        return {"error": {"type": type(error).__name__, "outcome": error.outcome.value, "reason": error.reason}}


@pytest.mark.parametrize("name", sorted(p.name.removesuffix(".html") for p in PAGES.glob("*.html")))
def test_every_recorded_page_reads_to_its_expected_answer(name: str) -> None:
    html, query, expected = case(name)
    got = parse(html, query)
    if "record" in expected:
        assert got == {"record": expected["record"]}
    else:
        assert got.get("error", {}).get("outcome") == expected["error"]["outcome"], got


def test_an_active_page_has_benefits_and_prior_authorizations() -> None:
    html, query, _ = case("active_subscriber")
    record = ADAPTER.parse_answer("eligibility", html, query)
    assert record.kind == "eligibility" and record.benefits and record.prior_auth_service_types


def test_a_benefit_row_removed_is_refused_the_page_states_the_count() -> None:
    html, query, _ = case("active_subscriber")
    rows = re.findall(r"<tr><td>[^\n]*?</tr>\n?", html)
    assert rows
    with pytest.raises(ParseError, match="count"):
        ADAPTER.parse_answer("eligibility", html.replace(rows[-1], "", 1), query)


def test_a_page_cut_short_is_refused_even_with_its_closing_tags() -> None:
    html, query, _ = case("active_subscriber")
    cut = html[:html.index("</table>", html.index("Prior Authorization"))] + "</table></main></body></html>"
    with pytest.raises(ParseError):
        ADAPTER.parse_answer("eligibility", cut, query)


def test_rows_of_one_service_that_disagree_on_prior_authorization_are_refused() -> None:
    html, query, _ = case("active_subscriber")
    assert html.count("<td>Required</td>") >= 2
    with pytest.raises(ParseError, match="prior authorization"):
        ADAPTER.parse_answer("eligibility", html.replace("<td>Required</td>", "<td>Not Required</td>", 1), query)


def test_an_unknown_word_is_refused_never_guessed() -> None:
    html, query, _ = case("active_subscriber")
    with pytest.raises(UnmappedValue):
        ADAPTER.parse_answer("eligibility", html.replace("<td>In-Network</td>", "<td>Tier 1</td>", 1), query)


def test_a_page_about_another_member_is_no_answer() -> None:
    html, query, _ = case("active_subscriber")
    other = query.model_copy(update={"member_id": query.member_id[:-1] + ("0" if query.member_id[-1] != "0" else "1")})
    with pytest.raises(ParseError):
        ADAPTER.parse_answer("eligibility", html, other)


def test_the_v2_change_of_meaning_is_refused() -> None:
    html, query, expected = case("v2_plan_share")
    assert parse(html, query)["error"]["outcome"] == "needs_attention" == expected["error"]["outcome"]


def test_the_maintenance_page_is_retry_later_not_an_answer() -> None:
    html, query, _ = case("maintenance")
    assert parse(html, query)["error"]["outcome"] == "retry_later"


def test_the_portal_answers_eligibility_only() -> None:
    assert {c.value for c in ADAPTER.manifest.capabilities} == {"eligibility"}
    assert {c.value for c in ADAPTER.implemented_capabilities()} == {"eligibility"}
