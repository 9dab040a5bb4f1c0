"""Ridgeline's recorded pages, changed: harmless drift reads exactly, a page that is cut short, contradicts
itself or shows an impossible value is refused (needs attention), and nothing but an `AggregatorError`
leaves the parser.

Each test changes one recorded page the way the portal (or a proxy) could and parses it through the
adapter's public `parse_answer`, exactly as the recorded-page tests do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from aggregator.errors import AggregatorError, ParseError, UnmappedValue
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
from aggregator.scrapers.registry import adapter_for

ROOT = Path(__file__).parents[2] / "recorded_pages" / "ridgeline"
QUERIES = {"eligibility": EligibilityQuery, "authorization": AuthorizationQuery, "claim_status": ClaimQuery}
ADAPTER = adapter_for("ridgeline")


def case(name: str) -> tuple[str, str, object, dict]:
    """(flow, html, query, expected) of a recorded case, e.g. 'authorization/list_several'."""
    path = ROOT / f"{name}.html"
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    flow = path.parent.name
    return flow, path.read_text(encoding="utf-8"), QUERIES[flow].model_validate(expected["query"]), expected


def parse(flow: str, html: str, query: object) -> dict:
    return ADAPTER.parse_answer(flow, html, query).model_dump(mode="json")


def refused(flow: str, html: str, query: object) -> AggregatorError:
    with pytest.raises(AggregatorError) as info:
        ADAPTER.parse_answer(flow, html, query)
    return info.value


def cut_inside_last_table(html: str, *, keep_rows: int) -> str:
    """The page cut after `keep_rows` body rows of its last data table, the open tags closed again (what
    a connection dropped mid-page looks like once a browser has re-serialised it)."""
    root = lxml_html.document_fromstring(html)
    tables = [t for t in root.iter("table") if t.xpath("./tr/th | ./tbody/tr/th | ./thead/tr/th")]
    rows = tables[-1].xpath("./tr | ./tbody/tr | ./thead/tr")
    marker = "<!--CUT-HERE-->"
    rows[1 + keep_rows].addprevious(lxml_html.HtmlComment("CUT-HERE"))
    whole = lxml_html.tostring(root, encoding="unicode")
    return whole[:whole.index(marker)] + "</table></td></tr></table></body></html>"


# --- completeness: a page cut short is never a shorter answer -----------------------------------------

@pytest.mark.parametrize("name,keep", [
    ("authorization/list_several", 2), ("authorization/list_several", 3),
    ("authorization/detail_contact_payer", 2), ("authorization/v2_detail_exhausted", 1),
    ("claim_status/detail_paid_multi_line", 1), ("claim_status/results_first_page", 9),
    ("claim_status/results_last_page", 2),
])
def test_a_page_cut_inside_its_table_is_refused(name, keep):
    flow, html, query, _ = case(name)
    error = refused(flow, cut_inside_last_table(html, keep_rows=keep), query)
    assert isinstance(error, ParseError)  # its end marker, pager or count is missing


def test_a_benefits_page_cut_inside_the_services_table_is_refused():
    flow, html, query, _ = case("eligibility/active_subscriber_family")
    cut = html[:html.index("Physical Therapy")] + "</table></td></tr></table></body></html>"
    assert isinstance(refused(flow, cut, query), ParseError)


def test_a_results_page_missing_a_row_is_refused_by_its_count():
    flow, html, query, _ = case("claim_status/results_last_page")
    rows = re.findall(r"<tr bgcolor=\"#F4F4F4\">.*?</tr>", html, flags=re.S)
    error = refused(flow, html.replace(rows[0], "", 1), query)
    assert "count" in error.reason


def test_an_authorization_without_any_service_is_refused():
    flow, html, query, _ = case("authorization/detail_approved")
    root = lxml_html.document_fromstring(html)
    table = next(t for t in root.iter("table") if t.xpath("./tr/th | ./tbody/tr/th") and "Approved" in t.text_content())
    for row in table.xpath("./tr | ./tbody/tr")[1:]:
        row.getparent().remove(row)
    assert isinstance(refused(flow, lxml_html.tostring(root, encoding="unicode"), query), ParseError)


# --- contradictions and impossible values --------------------------------------------------------------

DEDUCTIBLE_ROW = re.compile(r"<tr>\s*<td><font size=\"2\"><b>Deductible</b>.*?</tr>", re.S)


def test_a_duplicated_benefit_row_with_a_conflicting_value_is_a_parse_error_naming_the_rule():
    flow, html, query, _ = case("eligibility/active_subscriber_family")
    row = DEDUCTIBLE_ROW.search(html).group()
    conflicting = row.replace("$3,000.00", "$2,500.00")
    assert conflicting != row
    error = refused(flow, html.replace(row, row + conflicting, 1), query)
    assert isinstance(error, ParseError)
    assert "disagree" in error.reason


def test_a_benefit_row_printed_twice_alike_is_read_once():
    flow, html, query, expected = case("eligibility/active_subscriber_family")
    row = DEDUCTIBLE_ROW.search(html).group()
    assert parse(flow, html.replace(row, row + row, 1), query) == expected["record"]


def test_a_negative_deductible_is_a_parse_error_naming_the_rule():
    flow, html, query, _ = case("eligibility/active_subscriber_family")
    error = refused(flow, html.replace("$3,000.00", "($3,000.00)", 1), query)
    assert isinstance(error, ParseError)
    assert "negative" in error.reason


def test_a_negative_claim_amount_is_a_parse_error_naming_the_rule():
    flow, html, query, _ = case("claim_status/results_first_page")
    error = refused(flow, html.replace("$2,350.00", "($2,350.00)", 1), query)
    assert "negative" in error.reason


def test_an_accumulator_without_its_remaining_row_is_refused():
    flow, html, query, _ = case("eligibility/active_subscriber_family")
    remaining = re.search(r"<tr>\s*<td><font size=\"2\"><b>Out-of-Pocket Maximum</b></font></td><td><font size=\"2\">"
                          r"Family</font></td><td><font size=\"2\">Remaining.*?</tr>", html, re.S).group()
    assert "accumulator" in refused(flow, html.replace(remaining, "", 1), query).reason


def test_a_renamed_network_header_is_still_refused_as_unmapped():
    flow, html, query, _ = case("eligibility/active_subscriber_family")
    assert isinstance(refused(flow, html.replace("In-Network", "Tier 1"), query), UnmappedValue)


# --- harmless drift reads exactly ---------------------------------------------------------------------

def comments_between_cells(html: str) -> str:
    return re.sub(r"(</t[dh]>)(\s*)(<t[dh])", r"\1<!-- cell -->\2\3", html)


def footnote_markers(html: str) -> str:
    """A marker after every label and header, a superscript after every amount, a footnote row per table."""
    html = re.sub(r"([A-Za-z#)]):</font>", r"\1:*</font>", html)
    html = re.sub(r"(<th[^>]*><font size=\"1\">[^<]+)</font>", "\\1 \u2020</font>", html)
    html = re.sub(r"(\$[\d,]+\.\d\d)", r"\1<sup>1</sup>", html)
    return re.sub(r"(\s*</tbody></table>)", r'<tr><td colspan="9">* See your plan documents.</td></tr>\1', html)


def hyphenation(html: str) -> str:
    return html.replace("In-Network", "In Network").replace("Out-of-Network", "OUT\u2011OF\u2011NETWORK")


def banner(html: str) -> str:
    notice = '<table width="100%"><tr><td class="errorMsg"><b>Notice:</b> Claims older than 18 months are archived.</td></tr></table>'
    return html.replace('<td valign="top">', '<td valign="top">' + notice, 1)


def renamed_ids_and_classes(html: str) -> str:
    html = re.sub(r'\bid="([^"]+)"', r'id="new-\1"', html)
    return re.sub(r'\bclass="([^"]+)"', r'class="x-\1"', html)


DRIFT = {"comments between cells": comments_between_cells, "footnote markers and rows": footnote_markers,
         "hyphenation": hyphenation, "notice banner": banner, "renamed ids and classes": renamed_ids_and_classes}
CASES = [
    "eligibility/active_subscriber_family", "eligibility/v2_cosmetic_ppo_family", "eligibility/termed",
    "eligibility/not_found", "eligibility/wrong_dob", "authorization/list_several", "authorization/list_empty",
    "authorization/detail_partially_approved", "authorization/v2_detail_exhausted",
    "claim_status/results_first_page", "claim_status/results_empty", "claim_status/detail_paid_multi_line",
    "claim_status/v2_detail_paid", "claim_status/not_found",
]


@pytest.mark.parametrize("drift", DRIFT)
@pytest.mark.parametrize("name", CASES)
def test_harmless_drift_reads_exactly(name, drift):
    flow, html, query, expected = case(name)
    changed = DRIFT[drift](html)
    assert changed != html or drift in ("hyphenation",)
    assert parse(flow, changed, query) == expected["record"]


# --- a page about another member or claim than the one asked is no answer -----------------------------

@pytest.mark.parametrize("name,printed", [
    ("eligibility/active_subscriber_family", "RM328012404"), ("authorization/list_several", "RM534337717"),
    ("claim_status/results_first_page", "RM723663323"),
])
def test_a_page_for_another_member_is_refused(name, printed):
    flow, html, query, _ = case(name)
    assert printed in html
    other = printed[:-1] + ("0" if printed[-1] != "0" else "1")
    assert isinstance(refused(flow, html.replace(printed, other), query), ParseError)


def test_a_claim_detail_for_another_claim_number_is_refused():
    flow, html, query, expected = case("claim_status/detail_denied")
    number = expected["record"]["payer_claim_number"]
    changed = html.replace(f"&nbsp;{number}<", f"&nbsp;{number[:-1]}{(int(number[-1]) + 1) % 10}<")
    assert changed != html
    asked = query.model_copy(update={"claim_number": number}) if not query.claim_number else query
    assert isinstance(refused(flow, changed, asked), ParseError)
