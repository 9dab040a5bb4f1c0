"""BluePeak parser guards on edited recorded screens: what a drifted or half-drawn screen must never yield."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.errors import ParseError, UnmappedValue
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery, MemberNotFound, RejectReason
from aggregator.scrapers.bluepeak import BluepeakAdapter
from aggregator.scrapers.bluepeak.pages import pick_candidate
from aggregator.scrapers.framework import Document

RECORDED = Path(__file__).parents[1] / "recorded_pages" / "bluepeak"


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
    with pytest.raises(ParseError, match="exactly the authorizations"):
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


def test_the_candidate_is_the_exact_member_id_and_a_list_without_it_is_not_found():
    html, query = case("eligibility", "not_found", EligibilityQuery)
    _, family_query = case("eligibility", "active_family", EligibilityQuery)
    rows = "".join(f'<tr><td>{i}</td><td>A</td><td>B</td><td>Jan 1, 1990</td><td>Child</td>'
                   f'<td><button data-member-id="{i}">Select</button></td></tr>'
                   for i in ("XBP11111111101", "XBP11111111102"))
    page = ('<html><head><title>t</title></head><body><h1>Eligibility &amp; benefits</h1><input id="member-id">'
            '<section id="candidates"><table><tr><th>Member ID</th><th>First name</th><th>Last name</th>'
            f'<th>Date of birth</th><th>Relationship</th><th>Action</th></tr>{rows}</table></section></body></html>')
    assert pick_candidate(Document.parse(page), "XBP11111111102") == "XBP11111111102"
    assert pick_candidate(Document.parse(page), "XBP111111111") is None  # a prefix is not the member
    answer = BluepeakAdapter.parse_answer("eligibility", page, family_query.model_copy(update={"member_id": "XBP111111111"}))
    assert isinstance(answer, MemberNotFound) and answer.reject_reason is RejectReason.NOT_FOUND
    twice = page.replace("XBP11111111101", "XBP11111111102")
    with pytest.raises(ParseError, match="same member id"):
        pick_candidate(Document.parse(twice), "XBP11111111102")
    assert isinstance(BluepeakAdapter.parse_answer("eligibility", html, query), MemberNotFound)
