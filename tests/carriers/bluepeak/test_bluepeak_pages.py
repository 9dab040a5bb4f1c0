"""BluePeak parser guards on edited recorded screens: what a drifted or half-drawn screen must never yield."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aggregator.browser import ApiResponse
from aggregator.errors import ParseError, UnmappedValue
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery, MemberNotFound, RejectReason
from aggregator.scrapers.bluepeak import BluepeakAdapter
from aggregator.scrapers.bluepeak.pages import pick_candidate
from aggregator.scrapers.framework import Document
from aggregator.scrapers.framework.spa import api_appendix

RECORDED = Path(__file__).parents[2] / "recorded_pages" / "bluepeak"


def case(flow: str, name: str, model):  # type: ignore[no-untyped-def]
    expected = json.loads((RECORDED / flow / f"{name}.expected.json").read_text(encoding="utf-8"))
    return (RECORDED / flow / f"{name}.html").read_text(encoding="utf-8"), model.model_validate(expected["query"])


def test_a_closed_accordion_is_never_read_as_no_benefits():
    html, query = case("eligibility", "active_family", EligibilityQuery)
    closed = html.replace('aria-expanded="true"', 'aria-expanded="false"', 1)
    with pytest.raises(ParseError, match="captured closed"):
        BluepeakAdapter.parse_answer("eligibility", closed, query)


def test_an_authorization_the_api_sent_but_the_screen_lacks_is_refused():
    html, query = case("authorization", "several", AuthorizationQuery)
    answer = BluepeakAdapter.parse_answer("authorization", html, query)
    dropped = answer.authorizations[0].auth_number
    edited = html.replace(f'"authNumber": "{dropped}"', '"authNumber": "BPA-2099-000000"')
    with pytest.raises(ParseError, match="missing from the screen"):
        BluepeakAdapter.parse_answer("authorization", edited, query)


def test_claims_for_another_search_are_refused():
    html, query = case("claim_status", "member_many_claims", ClaimQuery)
    other = query.model_copy(update={"service_from": query.service_from.replace(year=query.service_from.year - 1)})
    with pytest.raises(ParseError, match="different search"):
        BluepeakAdapter.parse_answer("claim_status", html, other)


def test_an_unknown_claim_status_word_is_unmapped():
    html, query = case("claim_status", "claim_number_paid", ClaimQuery)
    with pytest.raises(UnmappedValue):
        BluepeakAdapter.parse_answer("claim_status", html.replace("<dd>Paid</dd>", "<dd>Settled</dd>", 1), query)


def candidate_page(*ids: str, sent: tuple[str, ...] | None = None) -> str:
    """A drawn "Choose a member" list of `ids`, with the search response that listed `sent` (default: the same)."""
    rows = "".join(f'<tr><td>{i}</td><td>A</td><td>B</td><td>Jan 1, 1990</td><td>Child</td>'
                   f'<td><button data-member-id="{i}">Select</button></td></tr>' for i in ids)
    response = ApiResponse(url="http://portal/api/members/search?memberId=x", status=200, body={"candidates": [
        {"memberId": i, "firstName": "A", "lastName": "B", "dateOfBirth": "1990-01-01", "relationship": "CHILD"}
        for i in (ids if sent is None else sent)]})
    return ('<html><head><title>t</title></head><body><h1>Eligibility &amp; benefits</h1><label>Member ID<input id="member-id">'
            '</label><section id="candidates"><table><tr><th>Member ID</th><th>First name</th><th>Last name</th>'
            f'<th>Date of birth</th><th>Relationship</th><th>Action</th></tr>{rows}</table></section>'
            f'{api_appendix(response)}</body></html>')


def test_the_candidate_is_the_exact_member_id_and_a_list_without_it_is_not_found():
    html, query = case("eligibility", "not_found", EligibilityQuery)
    _, family_query = case("eligibility", "active_family", EligibilityQuery)
    page = candidate_page("XBP11111111101", "XBP11111111102")
    assert pick_candidate(Document.parse(page), "XBP11111111102") == "XBP11111111102"
    assert pick_candidate(Document.parse(page), "XBP111111111") is None  # a prefix is not the member
    answer = BluepeakAdapter.parse_answer("eligibility", page, family_query.model_copy(update={"member_id": "XBP111111111"}))
    assert isinstance(answer, MemberNotFound) and answer.reject_reason is RejectReason.NOT_FOUND
    with pytest.raises(ParseError, match="share one key"):
        pick_candidate(Document.parse(candidate_page("XBP11111111102", "XBP11111111102")), "XBP11111111102")
    assert isinstance(BluepeakAdapter.parse_answer("eligibility", html, query), MemberNotFound)


def test_a_member_the_search_sent_but_the_list_lacks_is_never_not_found():
    page = candidate_page("XBP11111111101", sent=("XBP11111111101", "XBP11111111102"))
    with pytest.raises(ParseError, match="member candidates: a row the data holds is missing from the screen"):
        pick_candidate(Document.parse(page), "XBP11111111102")


# --- the screen agrees with the JSON the page was drawn from (issue 11) ------------------------------

DATA_MARK = '<script type="application/json" data-aggregator-api'


def edited(html: str, *, screen: tuple = (), data: tuple = ()) -> str:
    """`html` with (old, new) replacements made in the drawn screen and, separately, in the kept JSON."""
    at = html.index(DATA_MARK)
    shown, kept = html[:at], html[at:]
    for old, new in screen:
        assert old in shown, old
        shown = shown.replace(old, new, 1)
    for old, new in data:
        assert old in kept, old
        kept = kept.replace(old, new, 1)
    return shown + kept


def refused(flow: str, html: str, query) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError) as info:
        BluepeakAdapter.parse_answer(flow, html, query)
    return info.value.reason


PT_VISITS_LEFT = "<tr><td>Visits left</td><td>24 visits</td><td>12 visits</td></tr>"
FAMILY_DEDUCTIBLE_LEFT = "<tr><td>Deductible</td><td>Family</td><td>Remaining</td><td>$0.00</td><td>$2,000.00</td></tr>"


def test_a_benefit_row_the_json_has_but_the_screen_lacks_is_refused():
    html, query = case("eligibility", "active_family", EligibilityQuery)
    reason = refused("eligibility", edited(html, screen=((PT_VISITS_LEFT, ""),)), query)
    assert reason == "benefits: a row the data holds is missing from the screen"


def test_an_accumulator_row_the_json_has_but_the_screen_lacks_is_refused():
    html, query = case("eligibility", "active_family", EligibilityQuery)
    reason = refused("eligibility", edited(html, screen=((FAMILY_DEDUCTIBLE_LEFT, ""),)), query)
    assert reason == "benefits: a row the data holds is missing from the screen"


def test_a_benefit_value_on_the_screen_the_json_lacks_is_refused():
    html, query = case("eligibility", "active_family", EligibilityQuery)
    shown = edited(html, screen=(("<tr><td>Copay</td><td>$35.00</td><td>—</td></tr>",
                                  "<tr><td>Copay</td><td>$35.00</td><td>$70.00</td></tr>"),))
    assert refused("eligibility", shown, query) == "benefits: a row on the screen is not in the data"


def test_a_benefit_value_only_the_screen_changed_is_refused():
    html, query = case("eligibility", "active_family", EligibilityQuery)
    shown = edited(html, screen=(("<tr><td>Copay</td><td>$35.00</td>", "<tr><td>Copay</td><td>$45.00</td>"),))
    assert refused("eligibility", shown, query) == "benefits: the screen's 'amount' disagrees with the data"


def test_a_procedure_row_the_json_has_but_the_screen_lacks_is_refused():
    html, query = case("authorization", "several", AuthorizationQuery)
    shown = edited(html, screen=(("<tr><td>98941</td><td>visits</td><td>4</td><td>4</td><td>0</td></tr>", ""),))
    assert refused("authorization", shown, query) == "authorized procedures: a row the data holds is missing from the screen"


def test_an_authorization_status_only_the_screen_changed_is_refused():
    html, query = case("authorization", "several", AuthorizationQuery)
    shown = edited(html, screen=(("<dt>Status</dt><dd>Modified</dd>", "<dt>Status</dt><dd>Approved</dd>"),
                                 ("Chiropractic · Modified", "Chiropractic · Approved")))
    assert refused("authorization", shown, query) == "authorizations: the screen's 'status' disagrees with the data"


def test_a_stated_count_that_disagrees_with_the_items_shown_is_refused():
    html, query = case("authorization", "several", AuthorizationQuery)
    assert "count" in refused("authorization", edited(html, screen=(("2 authorization(s)", "3 authorization(s)"),)), query)


PAID = "claim_number_paid"


def test_a_line_allowed_amount_doubled_is_refused_even_when_the_json_says_it_too():
    html, query = case("claim_status", PAID, ClaimQuery)
    screen_only = edited(html, screen=(("<td>$44.88</td>", "<td>$89.76</td>"),))
    assert refused("claim_status", screen_only, query) == "claim service lines: the screen's 'allowed' disagrees with the data"
    both = edited(html, screen=(("<td>$44.88</td>", "<td>$89.76</td>"),), data=(('"allowed": "44.88"', '"allowed": "89.76"'),))
    assert "allowed" in refused("claim_status", both, query)  # the framework's totals invariant


def test_totals_that_do_not_add_up_are_refused():
    html, query = case("claim_status", PAID, ClaimQuery)
    owes = edited(html, screen=(("<dt>Member owes</dt><dd>$25.00</dd>", "<dt>Member owes</dt><dd>$35.00</dd>"),),
                  data=(('"memberOwes": "25.00"', '"memberOwes": "35.00"'),))
    assert "patient responsibility" in refused("claim_status", owes, query)
    allowed = edited(html, screen=(("<dt>Allowed</dt><dd>$64.48</dd>", "<dt>Allowed</dt><dd>$74.48</dd>"),),
                     data=(('"allowed": "64.48"', '"allowed": "74.48"'),))
    assert "allowed" in refused("claim_status", allowed, query)
    adjustment = edited(html, screen=(("<li>CO-45 $23.12</li>", "<li>CO-45 $33.12</li>"),),
                        data=(('"amount": "23.12"', '"amount": "33.12"'),))
    assert "adjustments" in refused("claim_status", adjustment, query)


def test_paid_with_no_processed_date_is_refused():
    html, query = case("claim_status", PAID, ClaimQuery)
    both = edited(html, screen=(("<dt>Processed</dt><dd>Aug 3, 2025</dd>", "<dt>Processed</dt><dd>—</dd>"),),
                  data=(('"processedDate": "2025-08-03"', '"processedDate": null'),))
    assert "processed date" in refused("claim_status", both, query)


def test_a_status_word_that_contradicts_its_status_code_is_refused():
    html, query = case("claim_status", PAID, ClaimQuery)
    code = edited(html, screen=(("<dt>Status code</dt><dd>65</dd>", "<dt>Status code</dt><dd>585</dd>"),),
                  data=(('"statusCode": "65"', '"statusCode": "585"'),))
    assert refused("claim_status", code, query) == "a claim's status word contradicts its status code"
    word = edited(html, screen=(("<dt>Status</dt><dd>Paid</dd>", "<dt>Status</dt><dd>Denied</dd>"), ("· Paid", "· Denied")),
                  data=(('"status": "PAID"', '"status": "DENIED"'),))
    assert refused("claim_status", word, query) == "a claim's status word contradicts its status code"


def test_a_claim_title_line_that_disagrees_with_its_panel_is_refused():
    html, query = case("claim_status", PAID, ClaimQuery)
    shown = edited(html, screen=(("Jul 4, 2025 – Jul 4, 2025 · Paid", "Jul 5, 2025 – Jul 4, 2025 · Paid"),))
    assert refused("claim_status", shown, query) == "a claim's title line disagrees with its panel"


# --- harmless drift is read exactly ---------------------------------------------------------------

def _same_record(flow: str, name: str, model, change) -> None:  # type: ignore[no-untyped-def]
    html, query = case(flow, name, model)
    expected = BluepeakAdapter.parse_answer(flow, html, query)
    at = html.index(DATA_MARK) if DATA_MARK in html else len(html)
    assert BluepeakAdapter.parse_answer(flow, change(html[:at]) + html[at:], query) == expected


@pytest.mark.parametrize(("flow", "name", "model"), [
    ("eligibility", "active_family", EligibilityQuery), ("authorization", "several", AuthorizationQuery),
    ("claim_status", "member_many_claims", ClaimQuery), ("claim_status", "claim_number_paid", ClaimQuery)])
def test_renamed_ids_banners_comments_and_lower_headings_read_the_same(flow, name, model):  # type: ignore[no-untyped-def]
    _same_record(flow, name, model, lambda s: re.sub(r'\bid="', 'id="v3-', s))
    _same_record(flow, name, model, lambda s: s.replace("</h1>", '</h1><div class="banner" role="alert">'
                                                                  "Scheduled maintenance this Sunday.</div>", 1))
    _same_record(flow, name, model, lambda s: s.replace("</dt><dd>", "</dt><!-- v --><dd>"))
    _same_record(flow, name, model, lambda s: re.sub(r"<(/?)h([1-3])\b", lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", s))
