"""The framework helpers Cascade brought: two-digit years, parenthesised amounts, fixed-width reports,
postback links."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import html

from aggregator.errors import ParseError
from aggregator.scrapers.framework import CenturyWindow, parse_money, parse_short_date, read_report
from aggregator.scrapers.framework.postback import postback_of

REF = date(2026, 11, 27)


def test_century_rule_is_explicit() -> None:
    births, others = CenturyWindow(REF, 0), CenturyWindow(REF, 20)
    assert parse_short_date("06/06/63", field="dob", window=births) == date(1963, 6, 6)
    assert parse_short_date("01/02/26", field="dob", window=births) == date(2026, 1, 2)
    assert parse_short_date("01/02/27", field="dob", window=births) == date(1927, 1, 2)  # never born in the future
    assert parse_short_date("12/31/46", field="svc", window=others) == date(2046, 12, 31)
    assert parse_short_date("01/01/47", field="svc", window=others) == date(1947, 1, 1)
    for bad in ("6/6/63", "06/06/1963", "13/01/26", "02/30/26", ""):
        with pytest.raises(ParseError):
            parse_short_date(bad, field="d", window=others)


def test_negative_amounts_in_parentheses() -> None:
    assert parse_money("(25.00)", field="x") == Decimal("-25.00")
    assert parse_money("(1,120.79)", field="x") == Decimal("-1120.79")
    assert parse_money("1,120.79", field="x") == Decimal("1120.79")
    for bad in ("(25.00", "25.00)", "(-25.00)x"):
        with pytest.raises(ParseError):
            parse_money(bad, field="x")


REPORT = """HEADER LINE
CLAIM NO.       FROM            BILLED STATUS
--------------- --------- ------------ ------------
C1              10/05/26        250.00 PAID
C2              10/06/26      1,020.00 PEND - INFO

*** 2 CLAIM(S) LISTED ***""".split("\n")


def test_report_columns_are_located_by_header_text() -> None:
    table = read_report(REPORT, name="claims", required=("Status", "Claim No.", "Billed"))
    assert [(r["claim no."], r["billed"], r["STATUS"]) for r in table.rows] == [
        ("C1", "250.00", "PAID"), ("C2", "1,020.00", "PEND - INFO")]
    assert table.headers == ["claim no.", "from", "billed", "status"] and REPORT[table.end_line] == ""


def test_report_drift_and_missing_columns_raise() -> None:
    shifted = REPORT[:3] + [" C1              10/05/26        250.00 PAID"]
    with pytest.raises(ParseError, match="outside"):
        read_report(shifted, name="claims", required=("Claim No.",))
    with pytest.raises(ParseError, match="expected one"):
        read_report(REPORT, name="claims", required=("Paid",))
    with pytest.raises(ParseError, match="expected one"):
        read_report(REPORT + REPORT, name="claims", required=("Claim No.",))


def test_postback_links() -> None:
    anchor = html.fragment_fromstring("<a href=\"javascript:__doPostBack('gvAuths','Select$CCA1')\">CCA1</a>")
    link = postback_of(anchor, field="ref")
    assert (link.target, link.argument, link.text) == ("gvAuths", "Select$CCA1", "CCA1")
    assert link.selector == "a[href=\"javascript:__doPostBack('gvAuths','Select$CCA1')\"]"
    with pytest.raises(ParseError):
        postback_of(html.fragment_fromstring('<a href="/Home.aspx">x</a>'), field="ref")
