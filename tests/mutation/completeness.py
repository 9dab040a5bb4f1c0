"""Completeness families: a page cut short, rows gone, a row repeated with a conflicting value. A list
is trusted only when the page shows where it ends; two rows for one thing is a contradiction."""

from __future__ import annotations

import random
import re
from copy import deepcopy
from decimal import Decimal

from lxml.html import HtmlElement

from tests.mutation import dom
from tests.mutation.corpus import Case
from tests.mutation.oracle import FLAG, Truth, leaf_values
from tests.mutation.sites import Made, list_items, money_sites_in, pick, relevant, replace
from tests.mutation.variants import MEANING, family

COUNT_PHRASE = re.compile(r"(\d+)\s*(?:claim|authorization|result|record|item|row|service|line)s?\b|\bof\s+(\d+)\b",
                          re.IGNORECASE)

CUT_MARK = "data-mutation-cut"


@family("document_cut", MEANING)
def document_cut(case: Case, rng: random.Random) -> Made:
    """The page cut short inside its answer (a table, a list of accordion items, a report, the data the
    page loaded): at an item boundary, in the middle of an item, and with the missing closing tags added
    back (by lxml, or by hand). A page cut short is needs attention, never a shorter answer."""
    root = dom.parse(case.html)
    marks = []
    for items in list_items(root):
        for item in items[1:] if len(items) > 1 else items:
            item.set(CUT_MARK, str(len(marks)))
            marks.append(item)
    html = dom.serialise(root)
    starts = []
    for number in range(len(marks)):
        at = html.index(f' {CUT_MARK}="{number}"')
        starts.append(html.rindex("<", 0, at))
    pre_cuts = []
    for pre in re.finditer(r"<pre[^>]*>(.*?)</pre>", re.sub(rf' {CUT_MARK}="\d+"', "", html), re.DOTALL):
        lines = [m.end() for m in re.finditer("\n", pre.group(1))]
        pre_cuts += [pre.start(1) + offset for offset in lines[len(lines) // 3:-1]]
    marked, html = html, re.sub(rf' {CUT_MARK}="\d+"', "", html)
    candidates = [("item boundary", start) for start in starts]
    made: Made = []
    for where, start in pick(rng, candidates, 1):
        kept = re.sub(rf' {CUT_MARK}="\d+"', "", marked[:start])
        mid = re.sub(rf' {CUT_MARK}="\d+"', "", marked[:start + rng.randrange(8, 60)])
        made.append((f"document cut at an {where}", kept, FLAG))
        made.append((f"document cut inside an item (after an {where})", mid, FLAG))
        made.append((f"document cut at an {where}, closing tags added by lxml", dom.serialise(dom.parse(kept)), FLAG))
        made.append((f"document cut at an {where}, closing tags added by hand", kept + "</table></div></body></html>", FLAG))
    for offset in pick(rng, pre_cuts, 1):
        kept = html[:offset]
        made.append(("report cut between lines", kept, FLAG))
        made.append(("report cut between lines, closing tags added back", kept + "</pre></form></body></html>", FLAG))
    if case.has_data_appendix:
        at = html.find("data-aggregator-api")
        body_start = html.find(">", at) + 1
        end = html.find("</script>", body_start)
        if end > body_start + 10:
            made.append(("the data the page loaded cut in the middle",
                         html[:rng.randrange(body_start + 5, end - 2)], FLAG))
    return made


def _stated_counts(root: HtmlElement) -> set[int]:
    text = dom.clean(dom.body(root).text_content())
    return {int(a or b) for a, b in COUNT_PHRASE.findall(text)}


@family("rows_removed", MEANING)
def rows_removed(case: Case, rng: random.Random) -> Made:
    """The last one or two items of a list or table removed cleanly (the page still ends properly). Where the
    page states a count, totals, or the data it loaded, the answer must be needs attention; where nothing
    on the page could tell, a shorter record is listed as unverified (it is indistinguishable from a page
    that truly has fewer rows)."""
    if case.expected_record is None:
        return []
    made = []
    lists = list_items(dom.parse(case.html))
    for index in pick(rng, list(range(len(lists))), 2):
        root = dom.parse(case.html)
        items = list_items(root)[index]
        stated = _stated_counts(root)
        drop = 1 if len(items) < 3 or rng.random() < 0.6 else 2
        if drop >= len(items) and len(items) > 1:
            drop = len(items) - 1
        for item in items[-drop:]:
            if item.tail and item.tail.strip():  # text after the item would move; keep the page honest
                item.tail = None
            item.getparent().remove(item)
        checked = case.has_data_appendix or len(items) in stated
        made.append((f"last {drop} of {len(items)} items removed", dom.serialise(root),
                     Truth("rows_removed", cross_checked=checked)))
    root = dom.parse(case.html)
    for pre in root.iter("pre"):
        links = [a for a in pre.iter("a")]
        if len(links) >= 2:
            last = links[-1]
            tail = last.tail or ""
            rest = tail[tail.find("\n"):] if "\n" in tail else ""
            previous = last.getprevious()
            if previous is not None:
                text = previous.tail or ""
                previous.tail = text[:text.rfind("\n") + 1] + rest.lstrip("\n") if "\n" in text else text + rest
            else:
                text = pre.text or ""
                pre.text = text[:text.rfind("\n") + 1] + rest.lstrip("\n")
            pre.remove(last)
            made.append(("last report line removed", dom.serialise(root),
                         Truth("rows_removed", cross_checked=len(links) in _stated_counts(root))))
    return made


@family("row_duplicated", MEANING)
def row_duplicated(case: Case, rng: random.Random) -> Made:
    """A row (or report line) repeated right after itself with one value changed: two rows for one thing
    with conflicting values is needs attention."""
    leaves = leaf_values(case.expected_record)
    made = []

    def candidates(root: HtmlElement) -> list[HtmlElement]:
        rows = [row for table in dom.data_tables(root) for row in table.rows
                if any(money_sites_in(row, leaves) or relevant(dom.text_of(c), leaves) for c in dom.cells(row))]
        accordion_items = [item for items in list_items(root) for item in items if item.tag != "tr"
                           and money_sites_in(item, leaves)]
        return rows + accordion_items

    for index in pick(rng, list(range(len(candidates(dom.parse(case.html))))), 2):
        root = dom.parse(case.html)
        row = candidates(root)[index]
        copy = deepcopy(row)
        money = money_sites_in(copy, leaves)
        if money:
            slot, match, value = money[0]
            replace(slot, match.start(), match.end(), dom.format_money(value + Decimal("5.00"), match.group(0)))
        else:
            slots = [s for s in dom.own_slots(copy) if s.container.tag != "a"]
            if not slots:
                continue
            slots[-1].set(slots[-1].get() + " (revised)")
        row.addnext(copy)
        made.append((f"a {'row' if row.tag == 'tr' else 'list item'} repeated with one value changed",
                     dom.serialise(root), FLAG))
    root = dom.parse(case.html)
    for pre in root.iter("pre"):
        links = list(pre.iter("a"))
        if not links or not leaves:
            continue
        link = rng.choice(links)
        line, sep, rest = (link.tail or "").partition("\n")
        money = list(dom.MONEY.finditer(line))
        if not money:
            continue
        match = money[-1]
        value = dom.money_value(match.group(0)) or Decimal(0)
        amount = dom.format_money(value + Decimal("5.00"), match.group(0)).rjust(len(match.group(0)))
        copy = deepcopy(link)
        copy.tail = line[:match.start() - max(0, len(amount) - len(match.group(0)))] + amount + line[match.end():] + sep + rest
        link.tail = line + "\n"
        link.addnext(copy)
        made.append(("a report line repeated with its amount changed", dom.serialise(root), FLAG))
    return made
