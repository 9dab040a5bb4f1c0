"""The framework's screen-and-data agreement (framework/spa.py): rows pair by key both ways, every declared
value is compared, and every refusal is a value-free ParseError naming the section and the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from aggregator.errors import ParseError
from aggregator.scrapers.framework import Document, VocabularyMap
from aggregator.scrapers.framework.spa import (
    Agreement,
    Nested,
    Shown,
    accordions,
    coded,
    iso_day,
    money,
    next_element,
    number,
    optional,
    text,
)

COLOURS = VocabularyMap("colour code", {"R": "red", "G": "green"})
PARTS = Agreement("parts", values=(Shown("code", "code", text), Shown("amount", "amount", money)))
LINES = Agreement("order lines", key=("number",), values=(
    Shown("number", "n", lambda v: int(number(v))),
    Shown("colour", "colour", coded(COLOURS)),
    Shown("price", "price.amount", money),
    Shown("shipped", "shipped", optional(iso_day)),
), nested=(Nested("parts", "parts", PARTS),))


@dataclass(frozen=True)
class Part:
    code: str
    amount: Decimal


@dataclass(frozen=True)
class Line:
    number: int
    colour: str
    price: Decimal
    shipped: date | None
    parts: tuple[Part, ...] = ()


def screen() -> list[Line]:
    return [Line(1, "red", Decimal("10.00"), date(2026, 1, 2), (Part("A", Decimal("1.00")), Part("A", Decimal("1.00")))),
            Line(2, "green", Decimal("5.50"), None)]


def data() -> list[dict]:
    return [{"n": 2, "colour": "G", "price": {"amount": "5.5"}, "shipped": None, "parts": []},
            {"n": 1, "colour": "R", "price": {"amount": 10}, "shipped": "2026-01-02", "extra": "ignored",
             "parts": [{"code": "A", "amount": "1.00"}, {"code": "A", "amount": "1.00"}]}]


def refused(records, items) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError) as info:
        LINES.rows(records, items)
    return info.value.reason


def test_rows_that_agree_in_any_order_pass():
    LINES.rows(screen(), data())
    LINES.rows([], [])


def test_a_row_the_data_holds_but_the_screen_lacks_is_refused():
    assert refused(screen()[:1], data()) == "order lines: a row the data holds is missing from the screen"


def test_a_row_on_the_screen_the_data_lacks_is_refused():
    assert refused(screen(), data()[:1]) == "order lines: a row on the screen is not in the data"


def test_a_value_that_differs_names_the_section_and_field_never_the_value():
    items = data()
    items[1]["price"]["amount"] = "20.00"
    reason = refused(screen(), items)
    assert reason == "order lines: the screen's 'price' disagrees with the data"
    assert "20" not in reason and "10" not in reason


def test_an_absent_value_on_one_side_only_is_a_disagreement():
    items = data()
    items[0]["shipped"] = "2026-01-03"
    assert "'shipped' disagrees" in refused(screen(), items)


def test_nested_rows_pair_as_a_multiset_when_they_have_no_key():
    items = data()
    items[1]["parts"] = items[1]["parts"][:1]
    assert refused(screen(), items) == "parts: a row on the screen is not in the data"
    items[1]["parts"] = [{"code": "A", "amount": "1.00"}, {"code": "A", "amount": "2.00"}]
    assert "parts: a row" in refused(screen(), items)


def test_unknown_codes_missing_keys_and_wrong_types_in_the_data_are_refused():
    for broken in ({"colour": "X"}, {"price": {}}, {"price": "10"}, {"shipped": "yesterday"}, {"n": True}):
        items = data()
        items[1].update(broken)
        reason = refused(screen(), items)
        assert reason.startswith("order lines: the data's '") and reason.endswith("is missing or unreadable")
    items = data()
    del items[1]["parts"]
    assert refused(screen(), items) == "parts: the data kept with the page lacks its rows"
    assert refused(screen(), {"lines": []}) == "order lines: the data kept with the page has no list of rows"


def test_two_rows_with_one_key_are_refused_on_either_side():
    assert refused(screen() + screen()[:1], data()) == "order lines: two rows of the screen share one key"
    assert refused(screen(), data() + data()[:1]) == "order lines: two rows of the data share one key"


def test_one_record_against_one_item_with_dotted_fields():
    agreement = Agreement("member", values=(Shown("who.name", "member.name", text),))
    agreement.one({"who": {"name": "Ann Lee"}}, {"member": {"name": "Ann  Lee"}})  # whitespace as a screen draws it
    with pytest.raises(ParseError, match="member: the screen's 'name' disagrees with the data"):
        agreement.one({"who": {"name": "Ann Lee"}}, {"member": {"name": "ANN LEE"}})


ACCORDION = ('<div class="acc"><h3><button aria-expanded="true" aria-controls="{controls}" id="{toggle}">{title}</button>'
             '</h3><div class="summary">{summary}</div><!-- c --><div><div role="region" id="{panel}" '
             'aria-labelledby="{labelled}">content {title}</div></div></div>')


def page(*items: dict) -> Document:
    return Document.parse("<html><body>" + "".join(ACCORDION.format(**i) for i in items) + "</body></html>")


def test_an_accordion_panel_is_found_when_a_release_renamed_its_id():
    same = {"controls": "p1", "toggle": "t1", "panel": "p1", "labelled": "t1", "title": "One", "summary": "a · b"}
    renamed_panel = {**same, "panel": "x-p1"}
    all_renamed = {**same, "panel": "x-p1", "toggle": "x-t1"}
    for variant in (same, renamed_panel, all_renamed):
        doc = page(variant)
        [found] = accordions(doc.root, doc)
        assert found.panel is not None and "content One" in found.panel.text_content()
        assert (found.title, found.expanded, found.summary) == ("One", True, "a · b")


def test_two_accordions_with_broken_links_are_never_given_each_others_panel():
    one = {"controls": "p1", "toggle": "t1", "panel": "z1", "labelled": "z", "title": "One", "summary": ""}
    two = {**one, "controls": "p2", "toggle": "t2", "title": "Two"}
    doc = page(one, two)
    panels = [a.panel for a in accordions(doc.root, doc)]
    assert [p.text_content() for p in panels] == ["content One", "content Two"]  # each its own disclosure's


def test_next_element_skips_comments():
    doc = Document.parse("<html><body><dl><dt>A</dt><!-- note --><dd>1</dd></dl></body></html>")
    assert next_element(doc.select("dt")[0]).tag == "dd"
