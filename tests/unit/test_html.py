from decimal import Decimal

import pytest

from aggregator.errors import ParseError, UnmappedValue
from aggregator.scrapers.framework import (
    Document,
    VocabularyMap,
    parse_date,
    parse_money,
    parse_percent,
    read_table,
)


@pytest.mark.parametrize("text,expected", [
    ("$1,500.00", Decimal("1500.00")), ("$0.00", Decimal("0.00")), ("$25", Decimal("25.00")),
    (" $\xa012,345.67 ", Decimal("12345.67")), ("(25.00)", Decimal("-25.00")), ("-$5.00", Decimal("-5.00")),
])
def test_money(text, expected):
    assert parse_money(text, field="x") == expected


@pytest.mark.parametrize("text", ["", "N/A", "$1,50.00", "1500 dollars", "$1.5", "20%", "Plan pays $20.00"])
def test_money_refuses_anything_else(text):
    with pytest.raises(ParseError):
        parse_money(text, field="copay")


def test_percent():
    assert parse_percent("20%", field="x") == Decimal("0.2")
    assert parse_percent("0%", field="x") == Decimal("0")
    assert parse_percent("100 %", field="x") == Decimal("1")
    for bad in ("Plan pays 80%", "120%", "20", "twenty percent"):
        with pytest.raises(ParseError):
            parse_percent(bad, field="x")


def test_date():
    assert str(parse_date("01/31/2026", field="x")) == "2026-01-31"
    with pytest.raises(ParseError):
        parse_date("2026-01-31", field="x")


NESTED = """<html><body><table id=outer>
<tr><th>Benefit</th><th> In-Network </th><th>Out-of-Network:</th></tr>
<tr><td>Copay</td><td>$30.00</td><td><table><tr><th>inner</th></tr><tr><td>x</td></tr></table></td></tr>
<tr><td>&nbsp;</td><td></td><td></td></tr>
<tr><td>Coinsurance</td><td>20%</td><td>40%</td></tr>
</table></body></html>"""


def test_read_table_by_header_ignores_nested_rows_and_spacers():
    doc = Document.parse(NESTED)
    headers, rows = read_table(doc.one("#outer", field="benefits"), name="benefits", required=("Benefit", "in-network"))
    assert headers == ["benefit", "in network", "out of network"]  # hyphens compare as spaces
    assert [r.text("Benefit") for r in rows] == ["Copay", "Coinsurance"]
    assert rows[1].text("out-of-network") == "40%"


def test_read_table_survives_column_moves_and_fails_on_missing_header():
    moved = NESTED.replace("<th>Benefit</th><th> In-Network </th>", "<th> In-Network </th><th>Benefit</th>").replace(
        "<td>Coinsurance</td><td>20%</td>", "<td>20%</td><td>Coinsurance</td>")
    doc = Document.parse(moved)
    _, rows = read_table(doc.one("#outer", field="benefits"), name="benefits", required=("benefit",))
    assert rows[1].text("in-network") == "20%"
    with pytest.raises(ParseError, match="lacks the column"):
        read_table(doc.one("#outer", field="benefits"), name="benefits", required=("Tier 1",))


def test_vocabulary_map_raises_on_unknown():
    networks = VocabularyMap("network column", {"In-Network": "Y", "Out-of-Network": "N"})
    assert networks(" in-network ") == "Y"
    with pytest.raises(UnmappedValue) as info:
        networks("Tier 1 (Preferred)")
    assert info.value.outcome.value == "needs_attention"
