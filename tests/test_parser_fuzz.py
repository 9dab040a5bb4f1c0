"""Nothing but an `AggregatorError` (or a record) ever leaves a parser, whatever the page.

Hypothesis feeds every registered adapter's `parse_answer`, for every flow it has recorded pages of,
with the recorded pages mutated: characters deleted, the page cut at any offset (with and without a
closing tag glued back on), elements and attributes removed, cell text and tokens replaced by hostile
values (negative and bracketed amounts, impossible dates, NUL, unicode digits, very long strings),
rows duplicated, markup nested absurdly deep; and every recorded document (EOB PDFs) with bytes cut or changed.
Examples are derandomized and not stored, so CI runs the same cases every time.

This checks the crash guard and the invariants end to end; whether a mutated page gives the right
answer is the mutation suite's question, not this one's.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html
from pydantic import BaseModel

from aggregator.errors import AggregatorError
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
from aggregator.scrapers.framework.completeness import require_whole_page
from aggregator.scrapers.registry import adapter_for, all_adapters

ROOT = Path(__file__).parent / "recorded_pages"
QUERY_MODELS: dict[str, Any] = {
    "eligibility": EligibilityQuery, "authorization": AuthorizationQuery, "claim_status": ClaimQuery,
}


def _load_cases() -> list[tuple[str, str, str, Any]]:
    cases = []
    for adapter in all_adapters():
        for path in sorted((ROOT / adapter.manifest.slug).glob("*/*.html")):
            flow = path.parent.name
            query = QUERY_MODELS[flow].model_validate(
                json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))["query"])
            cases.append((adapter.manifest.slug, flow, path.read_text(encoding="utf-8"), query))
    return cases


CASES = _load_cases()
# Documents a lookup downloaded (e.g. EOB PDFs), kept as tests/recorded_pages/<carrier>/<document kind>/*.pdf.
DOCUMENTS = [(path.parent.parent.name, path.parent.name, path.read_bytes())
             for adapter in all_adapters() for path in sorted((ROOT / adapter.manifest.slug).glob("*/*.pdf"))]

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Values a portal or a corrupted capture might put where a number, a date or a word belongs.
HOSTILE = [
    "", " ", "-", "N/A", "0", "-1", "1e309", "NaN", "Infinity", "($3,000.00)", "-$3,000.00", "$1,00.0.0",
    "$99999999999999999999999.99", "12/31/1899", "02/30/2026", "13/45/2026", "99/99/99", "2026-02-30",
    "\x00", "\ufeff", "١٢٣٫٤٥", "①②", "Ｐａｉｄ", "<b>", "&amp;", "x" * 5000, "Paid Denied", "In Network",
    "Active", "Inactive", "Family", "Individual", "A1", "F2", "65", "99213", "?",
]
TOKEN = re.compile(r"\(?\$?-?[\d,]+\.\d\d\)?|\d{1,4}[/-]\d{1,2}[/-]\d{2,4}|\d+|[A-Za-z][A-Za-z-]{2,}")


def parse_safely(slug: str, flow: str, html: str, query: Any) -> str:
    """Parse; only an AggregatorError or a record may come out (anything else fails the test)."""
    try:
        answer = adapter_for(slug).parse_answer(flow, html, query)
    except AggregatorError:
        return "error"
    assert isinstance(answer, BaseModel), f"{slug}/{flow} returned {type(answer).__name__}"
    return "record"


def _tree(html: str) -> etree._Element:
    return lxml_html.document_fromstring(html)


def _serialize(root: etree._Element) -> str:
    return "<!DOCTYPE html>" + lxml_html.tostring(root, encoding="unicode")


def _elements(root: etree._Element, *tags: str) -> list[etree._Element]:
    found = [e for e in root.iter(*tags) if isinstance(e.tag, str)]
    return [e for e in found if e.tag not in ("html", "head", "body")] if not tags else found


def _pick(data: st.DataObject, items: list[Any], label: str) -> Any:
    return items[data.draw(st.integers(0, len(items) - 1), label=label)] if items else None


CLOSINGS = ["", "</html>", "</table></body></html>", "</td></tr></tbody></table></div></body></html>"]


def cut_short(data: st.DataObject, html: str) -> str:
    offset = data.draw(st.integers(0, len(html)), label="offset")
    return html[:offset] + data.draw(st.sampled_from(CLOSINGS), label="closing")


def delete_chars(data: st.DataObject, html: str) -> str:
    for _ in range(data.draw(st.integers(1, 8), label="deletions")):
        start = data.draw(st.integers(0, max(0, len(html) - 1)), label="at")
        html = html[:start] + html[start + data.draw(st.integers(1, 40), label="length"):]
    return html


def remove_element(data: st.DataObject, html: str) -> str:
    root = _tree(html)
    for _ in range(data.draw(st.integers(1, 3), label="removals")):
        element = _pick(data, _elements(root), "element")
        if element is None or element.getparent() is None:
            break
        if data.draw(st.booleans(), label="keep children"):
            element.drop_tag()
        else:
            element.drop_tree()
    return _serialize(root)


def change_attribute(data: st.DataObject, html: str) -> str:
    root = _tree(html)
    element = _pick(data, [e for e in _elements(root) if e.attrib], "element")
    if element is not None:
        name = _pick(data, sorted(element.attrib), "attribute")
        if data.draw(st.booleans(), label="remove"):
            del element.attrib[name]
        else:
            element.attrib[name] = _hostile_text(data, in_tree=True)
    return _serialize(root)


def _hostile_text(data: st.DataObject, *, in_tree: bool = False) -> str:
    """A hostile value; one going into an lxml tree (not the raw page) lacks what lxml cannot hold."""
    if in_tree:
        text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
        return data.draw(st.one_of(st.sampled_from([h for h in HOSTILE if h != "\x00"]), text), label="text")
    return data.draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20)), label="text")


def replace_cell_text(data: st.DataObject, html: str) -> str:
    root = _tree(html)
    cells = [e for e in _elements(root, "td", "th", "dd", "dt", "span", "li", "p", "h1", "h2", "h3", "pre", "a",
                                  "strong", "b", "label", "div", "option", "script")
             if (e.text or "").strip()]
    for _ in range(data.draw(st.integers(1, 3), label="replacements")):
        cell = _pick(data, cells, "cell")
        if cell is not None:
            cell.text = _hostile_text(data, in_tree=True)
    return _serialize(root)


def replace_token(data: st.DataObject, html: str) -> str:
    """A number, date, amount or word anywhere in the page (report text, embedded JSON) replaced."""
    for _ in range(data.draw(st.integers(1, 3), label="replacements")):
        tokens = list(TOKEN.finditer(html))
        token = _pick(data, tokens, "token")
        if token is None:
            break
        html = html[:token.start()] + _hostile_text(data) + html[token.end():]
    return html


def duplicate_rows(data: st.DataObject, html: str) -> str:
    root = _tree(html)
    rows = _elements(root, "tr", "li", "dd", "dt", "section", "article", "details")
    for _ in range(data.draw(st.integers(1, 2), label="duplicates")):
        row = _pick(data, rows, "row")
        if row is not None and row.getparent() is not None:
            row.addnext(copy.deepcopy(row))
    return _serialize(root)


def nest_deeply(data: st.DataObject, html: str) -> str:
    root = _tree(html)
    element = _pick(data, _elements(root), "element")
    if element is None or element.getparent() is None:
        return html
    depth = data.draw(st.sampled_from([50, 300, 2000]), label="depth")
    marker = "<<NESTED>>"
    placeholder = etree.Element("span")
    placeholder.text = marker
    element.addprevious(placeholder)
    inner = lxml_html.tostring(element, encoding="unicode", with_tail=False)
    element.getparent().remove(element)
    page = _serialize(root)
    nested = "<div>" * depth + inner + "</div>" * depth
    return page.replace(f"<span>{marker}</span>", nested, 1)


MUTATIONS: dict[str, Callable[[st.DataObject, str], str]] = {
    "cut_short": cut_short, "delete_chars": delete_chars, "remove_element": remove_element,
    "change_attribute": change_attribute, "replace_cell_text": replace_cell_text, "replace_token": replace_token,
    "duplicate_rows": duplicate_rows, "nest_deeply": nest_deeply,
}


def test_every_recorded_page_is_whole() -> None:
    """Chromium's captures end with </html>: the framework refuses anything else as cut short."""
    for _, _, html, _ in CASES:
        require_whole_page(html)


def test_every_adapter_and_flow_is_fuzzed() -> None:
    covered = {(slug, flow) for slug, flow, _, _ in CASES}
    for adapter in all_adapters():
        for capability in adapter.manifest.capabilities:
            assert (adapter.manifest.slug, capability.value) in covered
        if adapter.manifest.is_hub:
            # A hub shows each payer's results in a layout of that payer's: every served payer's page is fuzzed.
            payers = {json.loads(path.read_text(encoding="utf-8")).get("record", {}).get("carrier")
                      for path in (ROOT / adapter.manifest.slug).glob("eligibility/*.expected.json")}
            missing = {p.slug for p in adapter.manifest.served_payers()} - payers
            assert not missing, f"{adapter.manifest.slug}: no recorded eligibility page of {sorted(missing)}"


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@FUZZ
@given(data=st.data())
def test_a_mutated_page_gives_a_record_or_an_aggregator_error(mutation: str, data: st.DataObject) -> None:
    slug, flow, html, query = data.draw(st.sampled_from(CASES), label="case")
    mutated = MUTATIONS[mutation](data, html)
    parse_safely(slug, flow, mutated, query)


@FUZZ
@given(data=st.data())
def test_random_text_gives_an_aggregator_error(data: st.DataObject) -> None:
    slug, flow, _, query = data.draw(st.sampled_from(CASES), label="case")
    text = data.draw(st.one_of(st.text(max_size=200), st.binary(max_size=200).map(
        lambda b: b.decode("latin-1"))), label="text")
    page = text + data.draw(st.sampled_from(["", "</html>"]), label="closing")
    parse_safely(slug, flow, page, query)


@pytest.mark.skipif(not DOCUMENTS, reason="no carrier has recorded documents")
@FUZZ
@given(data=st.data())
def test_a_mutated_eob_gives_a_claim_or_an_aggregator_error(data: st.DataObject) -> None:
    """Every carrier's recorded documents (EOB PDFs), bytes cut or changed, through its parse_document."""
    slug, kind, original = data.draw(st.sampled_from(DOCUMENTS), label="document")
    pdf = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        at = data.draw(st.integers(0, len(pdf) - 1), label="at")
        if data.draw(st.booleans(), label="cut"):
            del pdf[at:at + data.draw(st.integers(1, 64), label="length")]
        else:
            pdf[at] = data.draw(st.integers(0, 255), label="byte")
    try:
        answer = adapter_for(slug).parse_document(kind, bytes(pdf))
    except AggregatorError:
        return
    assert isinstance(answer, BaseModel)
