"""Where on a page a meaning-changing family can act: the values the expected record holds (money,
dates, percents, text), how to name a place without its value, and how to edit text in place."""

from __future__ import annotations

import random
import re
from decimal import Decimal

from lxml.html import HtmlElement

from tests.mutation import dom
from tests.mutation.corpus import Case
from tests.mutation.oracle import FLAG, Truth

Made = list[tuple[str, str, Truth]]


def norm(value: object) -> str:
    text = str(value)
    try:
        return str(Decimal(text).normalize())
    except ArithmeticError:
        return text


def flag_if_data(case: Case, truth: Truth) -> Truth:
    """On a page that also holds the data it loaded, a screen-only change is a disagreement."""
    return FLAG if case.has_data_appendix else truth


def place_of(slot: dom.Slot) -> str:
    """A value-free name of where a text node is: the label or column header it sits under."""
    cell = slot.container
    while cell is not None and cell.tag not in ("td", "dd", "th", "dt", "pre", "li", "body"):
        cell = cell.getparent()
    if cell is None:
        return "page text"
    if cell.tag == "pre":
        return "report line"
    if cell.tag == "td":
        row = cell.getparent()
        table = row.getparent()
        while table is not None and table.tag != "table":
            table = table.getparent()
        if table is not None:
            for data in dom.data_tables(table.getroottree().getroot()):
                if data.table is table and row in data.rows:
                    headers = dom.cells(data.header)
                    index = dom.cells(row).index(cell)
                    return f"column '{dom.text_of(headers[index])}' row {data.rows.index(row) + 1}"
    previous = cell.getprevious()
    while previous is not None and not dom.is_element(previous):
        previous = previous.getprevious()
    if previous is not None and dom.is_label(previous):
        return f"label '{dom.text_of(previous)}'"
    node = slot.container
    while node is not None and not (node.get("class") or node.get("id")) and node.tag != "body":
        node = node.getparent()
    if node is None or node.tag == "body":
        return f"text in <{slot.container.tag}>"
    name = f".{node.get('class').split()[0]}" if node.get("class") else f"#{node.get('id')}"
    return f"text in <{slot.container.tag}> within <{node.tag}{name}>"


def money_sites(root: HtmlElement, leaves: set[str]) -> list[tuple[dom.Slot, re.Match[str], Decimal]]:
    sites = []
    for slot in dom.slots(root):
        for match in dom.MONEY.finditer(slot.get()):
            value = dom.money_value(match.group(0))
            if value is not None and norm(value) in leaves and "." in match.group(0):
                sites.append((slot, match, value))
    return sites


def replace(slot: dom.Slot, start: int, end: int, new: str, *, right_aligned: bool = True) -> None:
    """Replace text[start:end]; inside <pre> keep a right-aligned column's width (eat or add the spaces
    before it)."""
    text = slot.get()
    if dom.in_pre(slot.container) and right_aligned:
        grow = len(new) - (end - start)
        while grow > 0 and start > 0 and text[start - 1] == " ":
            start -= 1
            grow -= 1
        new = " " * max(0, -grow) + new
    slot.set(text[:start] + new + text[end:])


def pick(rng: random.Random, items: list, count: int) -> list:
    return rng.sample(items, min(count, len(items)))


def in_table_row(el: HtmlElement) -> bool:
    while el is not None:
        if el.tag == "tr":
            return True
        el = el.getparent()
    return False


def relevant(text: str, leaves: set[str]) -> bool:
    text = dom.clean(text)
    if not text:
        return False
    if text in leaves:
        return True
    for match in dom.MONEY.finditer(text):
        value = dom.money_value(match.group(0))
        if value is not None and norm(value) in leaves:
            return True
    for match, fmt in dom.find_dates(text):
        if dom.parse_date(match.group(0), fmt).isoformat() in leaves:
            return True
    return any(norm(Decimal(m.group(0)[:-1]) / 100) in leaves for m in dom.PERCENT.finditer(text))


def list_items(root: HtmlElement) -> list[list[HtmlElement]]:
    """The repeated items of the page's answer: data-table rows, BluePeak accordion items."""
    lists = [table.rows for table in dom.data_tables(root)]
    accordions: dict[int, list[HtmlElement]] = {}
    for el in dom.elements(root):
        if "acc" in (el.get("class") or "").split():
            accordions.setdefault(id(el.getparent()), []).append(el)
    lists.extend(accordions.values())
    return [items for items in lists if items]


def money_sites_in(el: HtmlElement, leaves: set[str]) -> list[tuple[dom.Slot, re.Match[str], Decimal]]:
    sites = []
    for slot in dom.own_slots(el):
        for match in dom.MONEY.finditer(slot.get()):
            value = dom.money_value(match.group(0))
            if value is not None and norm(value) in leaves:
                sites.append((slot, match, value))
    return sites
