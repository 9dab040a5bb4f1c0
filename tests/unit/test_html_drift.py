"""The shared HTML readers tolerate drift that cannot change what a page says, and nothing more.

Comments, footnote markers and rows, hyphenation, invisible characters and repeated informational
columns are read through; a value that is negative where none can be, or a table whose rows contradict
each other, is refused with a reason naming the rule.
"""

from decimal import Decimal

import pytest

from aggregator.errors import ParseError
from aggregator.scrapers.framework import Document, Labels, header_key, parse_money, read_table, text_of
from aggregator.scrapers.framework.reading import one_per_key, parse_amount


def page(body: str) -> Document:
    return Document.parse(f"<html><head><title>t</title></head><body>{body}</body></html>")


# --- text and keys -----------------------------------------------------------------------------------

def test_text_ignores_comments_scripts_and_footnote_superscripts():
    doc = page("<table><tr><td id=v>$3,<!-- x -->000.00<sup>1</sup><script>var a = 2;</script></td></tr></table>")
    assert text_of(doc.one("#v", field="value")) == "$3,000.00"


def test_a_footnote_superscript_never_joins_the_number_before_it():
    doc = page("<p id=v>12<sup><a href='#n1'>1</a></sup></p><p id=w>m<sup>2</sup> x</p>")
    assert text_of(doc.one("#v", field="value")) == "12"


@pytest.mark.parametrize("marked", ["Copay*", "Copay **", "Copay\u2020", "Copay \u2021", "Copay [1]", "Copay\u00b9",
                                    "* Copay", "Copay:", "COPAY*:"])
def test_footnote_markers_and_colons_are_not_part_of_a_key(marked):
    assert header_key(marked) == header_key("Copay")


@pytest.mark.parametrize("spelling", ["In Network", "in-network", "IN\u2011NETWORK", "In \u2013 Network",
                                      "In\xa0Network", "In-\u200bNetwork"])
def test_hyphenation_case_and_invisible_characters_do_not_change_a_header(spelling):
    assert header_key(spelling) == header_key("In-Network")


def test_a_different_word_is_still_a_different_key():
    assert header_key("In-Network") != header_key("Out-of-Network")
    assert header_key("Tier 1 (Preferred)") != header_key("In-Network")


def test_a_comment_between_a_label_and_its_value_is_read_through():
    doc = page("<table><tr><td>Member ID:</td><!-- v2 --><td>RM1</td></tr></table>")
    assert text_of(Labels(doc, "p", absent="N/A").values[header_key("Member ID")]) == "RM1"


def test_a_label_without_its_colon_is_found_but_a_column_header_is_not_a_label():
    doc = page("<table><tr><td>Member ID</td><td>RM1</td></tr></table>"
               "<table><tr><th>Status</th><th>Paid</th></tr><tr><td>Paid</td><td>$1.00</td></tr></table>")
    labels = Labels(doc, "p", absent="N/A")
    assert labels.text("Member ID:") == "RM1"
    assert not labels.has("Status:")


# --- tables ------------------------------------------------------------------------------------------

TABLE = """<table id=t>
<tr><th>Benefit</th><th>In-Network*</th><th>Out of Network</th></tr>
<tr><td>Copay</td><td>$30.00</td><td>$60.00</td></tr>
{extra}
</table>"""


@pytest.mark.parametrize("note", [
    '<tr><td colspan="3">* Amounts are per visit.</td></tr>',
    "<tr><td>\u2020 See plan documents</td><td></td><td></td></tr>",
    '<tfoot><tr><td colspan="3">Benefits are subject to plan terms.</td></tr></tfoot>',
])
def test_footnote_rows_are_not_rows(note):
    doc = page(TABLE.format(extra=note))
    headers, rows = read_table(doc.one("#t", field="t"), name="t", required=("Benefit", "In Network"))
    assert [r.text("Benefit") for r in rows] == ["Copay"]
    assert rows[0].text("IN-NETWORK") == "$30.00"


def test_a_spanning_row_with_a_number_is_not_a_note():
    doc = page(TABLE.format(extra='<tr><td colspan="3">Total: $90.00</td></tr>'))
    with pytest.raises(ParseError, match="cells under"):
        read_table(doc.one("#t", field="t"), name="t", required=("Benefit",))


def test_headers_drawn_as_cells_below_a_title_row_are_found():
    doc = page("<table id=t><tr><th colspan=2>Benefits</th></tr><tr><td><b>Benefit</b></td><td><b>IN\u00adNETWORK</b></td>"
               "</tr><tr><td>Copay</td><td>$5.00</td></tr></table>")
    assert doc.tables_with_headers("Benefit", "In-Network")
    _, rows = read_table(doc.one("#t", field="t"), name="t", required=("Benefit", "In-Network"))
    assert rows[0].text("In-Network") == "$5.00"


def test_a_repeated_informational_column_is_tolerated_until_it_is_read():
    doc = page("<table id=t><tr><th>Benefit</th><th>Notes</th><th>Notes</th></tr>"
               "<tr><td>Copay</td><td>a</td><td>b</td></tr></table>")
    _, rows = read_table(doc.one("#t", field="t"), name="t", required=("Benefit",))
    assert rows[0].text("Benefit") == "Copay"
    with pytest.raises(ParseError, match="two columns"):
        rows[0].text("Notes")
    with pytest.raises(ParseError, match="duplicated"):
        read_table(doc.one("#t", field="t"), name="t", required=("Benefit", "Notes"))


# --- values and rows that contradict -----------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("($3,000.00)", Decimal("-3000.00")), ("$-12.50", Decimal("-12.50")), ("\u2212$7.00", Decimal("-7.00")),
    ("( $25.00 )", Decimal("-25.00")),
])
def test_money_reads_accountants_negatives(text, expected):
    assert parse_money(text, field="x") == expected


@pytest.mark.parametrize("text", ["(-$5.00)", "-($5.00)", "--5.00", "()"])
def test_money_with_two_signs_is_refused(text):
    with pytest.raises(ParseError):
        parse_money(text, field="x")


def test_an_amount_that_cannot_be_negative_is_refused_naming_the_rule():
    assert parse_amount("$3,000.00", field="deductible") == Decimal("3000.00")
    with pytest.raises(ParseError, match="negative"):
        parse_amount("($3,000.00)", field="deductible")


def test_duplicate_rows_alike_count_once_and_conflicting_ones_are_refused():
    assert one_per_key([("copay", 30), ("copay", 30), ("coins", 20)], lambda r: r[0], what="t") == [
        ("copay", 30), ("coins", 20)]
    with pytest.raises(ParseError, match="disagree"):
        one_per_key([("copay", 30), ("copay", 40)], lambda r: r[0], what="t")
