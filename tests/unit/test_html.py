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


# --- the text helpers' fast paths say exactly what their definitions say ------------------------------

def _clean_by_definition(text: str | None) -> str:
    """`clean` as documented: invisible characters dropped, every run of Unicode whitespace one space."""
    import re

    invisible = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
    return re.sub(r"\s+", " ", (text or "").translate(invisible)).strip()


def test_clean_collapses_every_unicode_space_and_drops_invisible_characters_as_defined():
    from aggregator.scrapers.framework.html import clean

    # Every character of the Basic Multilingual Plane between two letters, and in runs at both ends:
    # the split-based fast path must treat exactly the regex's whitespace as space.
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue  # lone surrogates are not text
        char = chr(code)
        for text in (f"a{char}b", f"{char}{char}x{char}", f"\u200b{char}\u00a0y"):
            assert clean(text) == _clean_by_definition(text), hex(code)
    for text in (None, "", "   ", "\u200b\u200d", "In\u00adNetwork  Deductible\n\t*", "$1,500.00\u2028"):
        assert clean(text) == _clean_by_definition(text), repr(text)


def test_text_of_a_childless_element_equals_the_full_reading():
    """A cell with no child element is read without looking for hidden text: the same words as the reading
    that skips comments, scripts and footnote superscripts, which a cell with children gets."""
    from aggregator.scrapers.framework.html import text_of

    doc = Document.parse(
        "<table><tr><td> Copay*\u00a0</td><td>$30.00 [1]</td><td></td><td>\u200bIn-Network</td>"
        "<td>Deductible<sup>1</sup></td><td>A<!-- hidden -->B</td><td><span>Co</span>insurance</td>"
        "<td>Plan<script>var x = 1;</script> pays</td></tr></table>")
    said = [text_of(cell) for cell in doc.select("td")]
    assert said == ["Copay", "$30.00", "", "In-Network", "Deductible", "AB", "Coinsurance", "Plan pays"]


def test_has_text_reads_the_page_once_and_answers_each_phrase():
    doc = Document.parse("<p>Member <b>Eligibility</b> \u2014 In\u2011Network</p><script>Out of network</script>")
    assert doc.has_text("member eligibility") and doc.has_text("IN NETWORK") and doc.has_text("in-network")
    assert not doc.has_text("out of network")  # a script says nothing
    assert doc.has_text("Eligibility")  # asked again: the same answer from the page's text read once


def _elements_with_word_by_definition(doc: Document, word: str) -> list:
    """`Document.elements_with_word` as documented: every element whose own text, folded, holds the folded
    word, and its ancestors, in document order (no first look at the raw text)."""
    from aggregator.scrapers.framework.html import _UNREAD, _fold

    wanted, found = _fold(word), set()
    for element in doc.root.iter():
        if not isinstance(element.tag, str) or element.tag in _UNREAD:
            continue
        if wanted in _fold((element.text or "") + "".join(child.tail or "" for child in element)):
            while element is not None and element not in found:
                found.add(element)
                element = element.getparent()
    return [el for el in doc.root.iter() if el in found]


def test_elements_with_word_finds_what_its_definition_finds():
    """The first look at the raw, lowered text (ASCII texts and words without a space) never drops an element
    the folded comparison keeps: dashes between words, runs of whitespace, case, the characters `str.split`
    takes for whitespace, and non-ASCII texts."""
    doc = Document.parse(
        "<div><p>Deductible</p><p>DEDUCTIBLE:</p><p>In-Network</p><p>In - Network</p><p>in\tnetwork</p>"
        "<p>Out-of-pocket</p><p>co\x1cpay</p><p>Copay\u00a0due</p><p>x-ray</p><p>Prior\u200bAuth</p>"
        "<p>AUTH#</p><table><tr><td>Net<!-- c -->work</td><td>-network-</td><td>Stra\u00dfe</td></tr></table>"
        "<script>network</script></div>")
    words = ("deductible", "Deductible:", "network", "In-Network", "in network", "copay", "co pay", "x-ray",
             "xray", "auth#", "pocket", "out-of", "-", "prior", "priorauth", "strasse", "stra\u00dfe", "work",
             "tab", "")
    for word in words:
        assert doc.elements_with_word(word) == _elements_with_word_by_definition(doc, word), repr(word)


def test_tables_with_headers_reads_each_header_row_once_and_finds_the_same_tables():
    """A document keeps each row's header keys between looks for tables: the tables found are those
    `header_row_index` finds reading the rows afresh, look after look."""
    from pathlib import Path

    from aggregator.scrapers.framework.html import header_row_index

    wanted = (("Benefit", "Level", "Period"), ("Service Type", "Prior Authorization", "Benefit Details"),
              ("Level",), ("Claim Number",), ())
    pages = sorted((Path(__file__).parents[1] / "recorded_pages").glob("*/*/*.html"))
    assert pages
    for path in pages:
        doc = Document.parse(path.read_text(encoding="utf-8"))
        for _ in range(2):
            for headers in wanted:
                afresh = [t for t in doc.root.iter("table") if header_row_index(t, headers) is not None]
                assert doc.tables_with_headers(*headers) == afresh, (path.name, headers)
