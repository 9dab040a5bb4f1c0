"""What a Cascade page or EOB states twice must agree, and a page or EOB cut short gives no record.

Each test edits one recorded page (or one generated EOB) so that it contradicts itself, loses its end or
shows a value the domain forbids, and asserts the parser refuses it with an `AggregatorError`.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fpdf import FPDF

from aggregator.errors import AggregatorError, ParseError
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
from aggregator.scrapers.cascade import CascadeAdapter
from sandbox import ground_truth
from sandbox.cascade.eob import eob_text
from sandbox.dataset import generate_dataset

CASES = Path(__file__).parents[2] / "recorded_pages" / "cascade"
QUERIES = {"eligibility": EligibilityQuery, "authorization": AuthorizationQuery, "claim_status": ClaimQuery}


def page(case: str) -> tuple[str, str, object]:
    path = CASES / f"{case}.html"
    flow = path.parent.name
    query = QUERIES[flow].model_validate(json.loads(path.with_suffix(".expected.json").read_text())["query"])
    return flow, path.read_text(encoding="utf-8"), query


def refused(case: str, edit, match: str | None = None) -> None:  # type: ignore[no-untyped-def]
    flow, html, query = page(case)
    edited = edit(html)
    assert edited != html, "the edit changed nothing"
    with pytest.raises(AggregatorError, match=match):
        CascadeAdapter.parse_answer(flow, edited, query)


# --- EOB -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def eob_claims() -> dict:
    dataset = generate_dataset()
    data = dataset.carrier("cascade")
    claims = [ground_truth.claim(dataset, "cascade", number) for number in data.claims]
    paid = next(c for c in claims if c.status_category.value == "F1" and len(c.lines) >= 2 and c.paid_date)
    pending = next(c for c in claims if not c.status_category.value.startswith("F"))
    return {"paid": paid, "pending": pending, "member": data.member, "today": dataset.as_of}


def render(lines: list[str]) -> bytes:
    """The EOB as the sandbox renders it (sandbox.cascade.eob.eob_pdf), from lines the test may edit."""
    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Courier", size=8)
    for text in lines:
        pdf.cell(0, 3.6, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def eob_lines(eob_claims: dict, which: str = "paid") -> list[str]:
    claim = eob_claims[which]
    return eob_text(claim, eob_claims["member"](claim.member_id), eob_claims["today"])


def replace_line(lines: list[str], prefix: str, new: str) -> list[str]:
    found = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    assert len(found) == 1
    return lines[:found[0]] + [new] + lines[found[0] + 1:]


def test_an_unedited_eob_still_parses(eob_claims) -> None:  # type: ignore[no-untyped-def]
    for which in ("paid", "pending"):
        assert CascadeAdapter.parse_document("eob", render(eob_lines(eob_claims, which))) == eob_claims[which]


@pytest.mark.parametrize("code", ["585", "19", "104", "999"])
def test_a_status_code_that_contradicts_the_status_word_gives_no_record(eob_claims, code) -> None:  # type: ignore[no-untyped-def]
    lines = replace_line(eob_lines(eob_claims), "Status Code:", f"Status Code: {code}")
    with pytest.raises(ParseError, match="status code disagrees with its status word"):
        CascadeAdapter.parse_document("eob", render(lines))


def test_a_status_word_that_contradicts_the_code_gives_no_record(eob_claims) -> None:  # type: ignore[no-untyped-def]
    lines = replace_line(eob_lines(eob_claims, "pending"), "Claim Status:", "Claim Status: RECEIVED")
    code = next(line for line in lines if line.startswith("Status Code:"))
    assert code != "Status Code: 19"
    with pytest.raises(ParseError):
        CascadeAdapter.parse_document("eob", render(lines))


def test_dates_out_of_the_claims_order_give_no_record(eob_claims) -> None:  # type: ignore[no-untyped-def]
    claim = eob_claims["paid"]
    assert claim.service_from < claim.adjudicated_date
    lines = replace_line(eob_lines(eob_claims), "Paid Date:", f"Paid Date: {claim.service_from.strftime('%m/%d/%y')}")
    with pytest.raises(ParseError, match="out of order"):
        CascadeAdapter.parse_document("eob", render(lines))


def test_an_eob_cut_short_gives_no_record(eob_claims) -> None:  # type: ignore[no-untyped-def]
    lines = eob_lines(eob_claims)
    assert lines[-1].startswith("Questions?")
    with pytest.raises(ParseError, match="cut short"):
        CascadeAdapter.parse_document("eob", render(lines[:-2]))


def test_a_negative_line_amount_gives_no_record(eob_claims) -> None:  # type: ignore[no-untyped-def]
    lines = eob_lines(eob_claims)
    ruler = next(i for i, line in enumerate(lines) if line.startswith("--- "))
    row = lines[ruler + 1]
    last = row.rsplit(" ", 1)[1]
    edited = row[:len(row) - len(last) - 2] + f"({last})"  # the same column, now in parentheses
    with pytest.raises(ParseError, match="negative"):
        CascadeAdapter.parse_document("eob", render(lines[:ruler + 1] + [edited] + lines[ruler + 2:]))


def test_an_impossible_statement_date_is_a_parse_error(eob_claims) -> None:  # type: ignore[no-untyped-def]
    lines = replace_line(eob_lines(eob_claims), "STATEMENT DATE:", "STATEMENT DATE: February 30, 2026")
    with pytest.raises(ParseError, match="statement date"):
        CascadeAdapter.parse_document("eob", render(lines))


# --- pages cut short -------------------------------------------------------------------------------

CUT_CASES = ["eligibility/active_subscriber", "authorization/list_several", "authorization/detail_a3",
             "claim_status/report_by_member", "eligibility/not_found", "claim_status/eob_page"]


@pytest.mark.parametrize("case", CUT_CASES)
@pytest.mark.parametrize("fraction", [0.55, 0.8, 0.95])
def test_a_page_cut_short_and_closed_again_gives_no_record(case: str, fraction: float) -> None:
    # What lxml would make of a cut page is also what a cut page with its end tags re-added says.
    refused(case, lambda html: html[:int(len(html) * fraction)] + "</td></tr></table></pre></form></body></html>")


@pytest.mark.parametrize("case", CUT_CASES)
def test_a_page_without_its_footer_gives_no_record(case: str) -> None:
    refused(case, lambda html: re.sub(r'<div id="ftr">.*?</div>', "", html, flags=re.S))


def test_a_footer_drawn_before_the_content_does_not_prove_it_complete() -> None:
    def move_footer(html: str) -> str:
        footer = re.search(r'<div id="ftr">.*?</div>', html, re.S).group(0)
        return html.replace(footer, "").replace("<form", footer + "<form", 1)
    refused("authorization/list_several", move_footer, "cut short")


# --- things stated twice on a page -----------------------------------------------------------------

def test_a_report_run_date_that_disagrees_with_the_page_date_gives_no_record() -> None:
    refused("claim_status/report_by_member", lambda html: html.replace("RUN DATE: 11/27/26", "RUN DATE: 11/26/26"),
            "run date")


def test_a_negative_amount_in_the_claims_report_gives_no_record() -> None:
    refused("claim_status/report_by_member",
            lambda html: html.replace("        238.00         0.00", "      (238.00)         0.00"), "negative")


def test_an_authorized_procedure_listed_twice_gives_no_record() -> None:
    row = "<tr><td>99223</td><td>2</td><td>0</td><td>2</td><td>DAYS</td></tr>"
    refused("authorization/detail_a1", lambda html: html.replace(row, row + row), "twice")
    refused("authorization/detail_a1",
            lambda html: html.replace(row, row + row.replace("<td>2</td><td>0</td><td>2</td>", "<td>3</td><td>0</td><td>3</td>")),
            "twice")


def test_approved_that_is_not_used_plus_balance_gives_no_record() -> None:
    refused("authorization/detail_a1", lambda html: html.replace(
        "<td>99223</td><td>2</td><td>0</td><td>2</td>", "<td>99223</td><td>2</td><td>0</td><td>1</td>"), "add up")


def test_an_accumulator_row_listed_twice_gives_no_record() -> None:
    row = ('<tr><td>Deductible</td><td>Single</td><td>Plan Year Total</td><td align="right">750.00</td>'
           '<td align="right">1,500.00</td></tr>')
    refused("eligibility/active_subscriber", lambda html: html.replace(row, row + row), "twice")
    refused("eligibility/active_subscriber", lambda html: html.replace(row, row + row.replace("750.00", "500.00")),
            "twice")


def test_a_balance_above_its_plan_year_total_gives_no_record() -> None:
    refused("eligibility/active_subscriber", lambda html: html.replace(
        '<td align="right">410.57</td><td align="right">0.00</td>',
        '<td align="right">810.57</td><td align="right">0.00</td>'), "above")


def test_a_negative_copay_gives_no_record() -> None:
    refused("eligibility/active_subscriber", lambda html: html.replace(
        '<td>Copayment</td><td align="right">20.00</td>', '<td>Copayment</td><td align="right">(20.00)</td>', 1),
        "negative")


def test_eligible_outside_the_coverage_dates_gives_no_record() -> None:
    refused("eligibility/active_subscriber", lambda html: html.replace(
        "<td>Coverage End:</td><td>12/31/26</td>".replace("<td>C", '<td class="lbl">C'),
        '<td class="lbl">Coverage End:</td><td>10/31/26</td>'), "eligibility word")
    refused("eligibility/termed", lambda html: html.replace(">NOT ELIGIBLE<", ">ELIGIBLE<"))


def test_a_subscriber_with_another_subscriber_number_gives_no_record() -> None:
    refused("eligibility/active_subscriber", lambda html: html.replace(
        '<td class="lbl">Subscriber #:</td><td>CC2657776321</td>',
        '<td class="lbl">Subscriber #:</td><td>CC2657776322</td>'), "member and subscriber ids")
    refused("eligibility/active_subscriber", lambda html: html.replace(">SUBSCRIBER<", ">SPOUSE<"), "member and subscriber ids")
    refused("eligibility/dependent", lambda html: re.sub(r">(SPOUSE|DEPENDENT CHILD)<", ">SUBSCRIBER<", html),
            "member and subscriber ids")


def test_a_total_without_its_balance_remaining_gives_no_record() -> None:
    """Accumulators and visit limits come as a plan-year total and its balance: a lost row is refused."""
    refused("eligibility/active_subscriber", lambda html: re.sub(
        r"<tr><td>Out of Pocket Max</td><td>Family</td><td>Balance Remaining</td>.*?</tr>", "", html), "balance")
    refused("eligibility/active_subscriber", lambda html: re.sub(
        r"<tr><td>Chiropractic</td><td>Visits Left</td>.*?</tr>", "", html), "balance")


def test_an_eligibility_page_for_another_member_or_date_gives_no_record() -> None:
    refused("eligibility/active_subscriber", lambda html: html.replace(
        '<td class="lbl">Inquiry Date:</td><td>11/27/26</td>', '<td class="lbl">Inquiry Date:</td><td>11/26/26</td>'),
        "another member or inquiry date")
    refused("eligibility/active_subscriber", lambda html: html.replace(
        '<td class="lbl">Birth Date:</td><td>06/06/63</td>', '<td class="lbl">Birth Date:</td><td>06/07/63</td>'),
        "birth date")


def test_a_birth_year_printed_with_two_digits_is_the_one_asked_when_only_the_century_differs() -> None:
    flow, html, query = page("eligibility/active_subscriber")
    older = query.model_copy(update={"date_of_birth": query.date_of_birth.replace(year=query.date_of_birth.year - 100)})
    record = CascadeAdapter.parse_answer(flow, html, older)
    assert record.member.date_of_birth == older.date_of_birth


def test_the_report_received_dates_are_read_for_the_eob_check() -> None:
    from aggregator.scrapers.cascade.pages_activity import report_received_dates
    from aggregator.scrapers.framework import Document

    _, v2, _ = page("claim_status/v2_report_by_member")
    received = report_received_dates(Document.parse(v2))
    dataset = generate_dataset()
    assert received
    assert received == {number: ground_truth.claim(dataset, "cascade", number).received_date for number in received}
    _, v1, _ = page("claim_status/report_by_member")
    assert report_received_dates(Document.parse(v1)) == {}
    _, none, _ = page("claim_status/report_no_claims")
    assert report_received_dates(Document.parse(none)) == {}


def test_an_authorization_summary_birth_year_takes_the_century_asked() -> None:
    flow, html, query = page("authorization/list_several")
    older = query.model_copy(update={"date_of_birth": query.date_of_birth.replace(year=query.date_of_birth.year - 100)})
    assert CascadeAdapter.parse_answer(flow, html, older).date_of_birth == older.date_of_birth
    other = query.model_copy(update={"date_of_birth": query.date_of_birth.replace(day=query.date_of_birth.day % 28 + 1)})
    assert CascadeAdapter.parse_answer(flow, html, other).date_of_birth == query.date_of_birth  # as printed


def test_a_report_for_one_claim_number_that_lists_another_gives_no_record() -> None:
    refused("claim_status/report_by_number",
            lambda html: html.replace("CRITERIA: CLAIM C261046750263", "CRITERIA: CLAIM C261046750264"), "another claim")


def test_service_dates_that_are_not_the_span_of_the_lines_give_no_record(eob_claims) -> None:  # type: ignore[no-untyped-def]
    claim = eob_claims["paid"]
    wider = f"Service Dates: {(claim.service_from - timedelta(days=1)).strftime('%m/%d/%y')} - " \
            f"{claim.service_to.strftime('%m/%d/%y')}"
    lines = replace_line(eob_lines(eob_claims), "Service Dates:", wider)
    with pytest.raises(ParseError, match="span"):
        CascadeAdapter.parse_document("eob", render(lines))


def _one_digit_off(identifier: str) -> str:
    return identifier[:-1] + str((int(identifier[-1]) + 1) % 10)


@pytest.mark.parametrize("case", ["authorization/list_several", "authorization/detail_a1", "authorization/list_empty",
                                  "claim_status/report_by_member", "claim_status/report_by_number",
                                  "claim_status/report_no_claims", "claim_status/eob_page",
                                  "eligibility/active_subscriber"])
def test_a_page_naming_another_member_or_claim_than_asked_gives_no_record(case: str) -> None:
    _, html, query = page(case)
    asked = [str(v) for k, v in query.model_dump().items() if k in ("member_id", "claim_number") and v]
    assert asked
    # One occurrence of the asked-for identifier, outside links (which the page repeats in their targets).
    found = [m for m in re.finditer(re.escape(asked[0]), html) if html[m.end()] in "<  \n"]
    assert found
    at = found[0]
    refused(case, lambda text: text[:at.start()] + _one_digit_off(asked[0]) + text[at.end():])
