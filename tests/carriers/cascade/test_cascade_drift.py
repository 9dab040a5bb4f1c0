"""Harmless drift on every recorded Cascade page gives exactly the recorded answer.

Each mutation keeps what the page says and changes how it is drawn: ids renamed the way ASP.NET prefixes
its naming containers or to opaque generated ones, other classes, a banner with no answer in it, other case and spacing in headers,
labels and the title, wrappers, comments, a fixed-width report whose columns moved with their headers.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from aggregator.errors import AggregatorError
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery
from aggregator.scrapers.cascade import CascadeAdapter

ROOT = Path(__file__).parents[2] / "recorded_pages" / "cascade"
CASES = sorted(ROOT.glob("*/*.html"))
QUERIES = {"eligibility": EligibilityQuery, "authorization": AuthorizationQuery, "claim_status": ClaimQuery}
BANNER = ('<div class="alert alert-info" role="alert"><b>Notice:</b> Provider Connect will be unavailable '
          'Sunday 2:00-4:00 AM.</div>')


def _report(html: str, edit: Callable[[list[str], int], list[str]]) -> str:
    """Apply `edit(lines, ruler_index)` to the `<pre>` report's lines."""
    match = re.search(r"(<pre[^>]*>)(.*?)(</pre>)", html, re.S)
    if not match:
        return html
    lines = match.group(2).split("\n")
    ruler = next((i for i, line in enumerate(lines) if line.startswith("---")), None)
    if ruler is None:
        return html
    return html[:match.start(2)] + "\n".join(edit(lines, ruler)) + html[match.end(2):]


def _widen_second_column(lines: list[str], ruler: int) -> list[str]:
    """Three more spaces before the second column, on its header, ruler and every row alike."""
    column = lines[ruler].index(" ") + 1
    out = []
    for index, line in enumerate(lines):
        in_table = ruler - 1 <= index and (index <= ruler or all(lines[j].strip() for j in range(ruler + 1, index + 1)))
        if in_table and len(re.sub(r"<[^>]+>", "", line)) > column:
            raw = visible = 0
            while visible < column:  # the raw offset of the visible column (links sit in the rows)
                if line[raw] == "<":
                    raw = line.index(">", raw) + 1
                    continue
                raw, visible = raw + 1, visible + 1
            line = line[:raw] + "   " + line[raw:]
        out.append(line)
    return out


def _headers(html: str, change: Callable[[str], str]) -> str:
    return re.sub(r"<th>([^<]*)</th>", lambda m: f"<th>{change(m.group(1))}</th>", html)


def _labels(html: str, change: Callable[[str], str]) -> str:
    return re.sub(r'(<td class="lbl">)([^<]*)(</td>)', lambda m: m.group(1) + change(m.group(2)) + m.group(3), html)


MUTATIONS: dict[str, Callable[[str], str]] = {
    "asp.net-prefixed ids": lambda h: re.sub(r'\bid="([^"]+)"', r'id="ctl00_Main_\1"', h),
    "opaque ids": lambda h: re.sub(r'\bid="([^"]+)"', lambda m: f'id="r{zlib.crc32(m.group(1).encode()):08x}"', h),
    "other classes": lambda h: re.sub(r'\bclass="([^"]+)"', r'class="x-\1"', h),
    "banner above the content": lambda h: h.replace('<div class="hdr">', BANNER + '<div class="hdr">', 1),
    "banner below the content": lambda h: h.replace("</form>", BANNER + "</form>", 1),
    "upper-case headers": lambda h: _headers(h, str.upper),
    "spaced headers": lambda h: _headers(h, lambda t: "  " + t.replace(" ", "  ") + " "),
    "upper-case labels": lambda h: _labels(h, str.upper),
    "spaced labels": lambda h: _labels(h, lambda t: " " + t.replace(" ", "  ")),
    "title case and spacing": lambda h: re.sub(r"<title>(.*?)</title>", lambda m: f"<title> {m.group(1).upper()}  </title>", h),
    "comments inside cells": lambda h: re.sub(r"(<td[^>]*>)", r"\1<!-- v -->", h),
    "non-breaking spaces around values": lambda h: re.sub(r"(<td[^>]*>)([^<]+)(</td>)", r"\1&nbsp;\2&nbsp;\3", h),
    "values in spans": lambda h: re.sub(r"(<td>)([^<]+)(</td>)", r"\1<span>\2</span>\3", h),
    "tables in wrappers": lambda h: re.sub(r"(<table.*?</table>)", r'<div class="panel">\1</div>', h, flags=re.S),
    "a line break between tags": lambda h: h.replace("><", ">\n<"),
    "no doctype": lambda h: re.sub(r"<!DOCTYPE[^>]*>", "", h),
    "report columns moved with their headers": lambda h: _report(h, _widen_second_column),
    "report indented": lambda h: _report(h, lambda lines, _: [("  " + x if x.strip() else x) for x in lines]),
    "comment closing the report": lambda h: h.replace("</pre>", "<!-- end of report --></pre>"),
}


def _outcome(path: Path, html: str, query: object) -> dict:
    try:
        return {"record": CascadeAdapter.parse_answer(path.parent.name, html, query).model_dump(mode="json")}
    except AggregatorError as error:
        return {"error": type(error).__name__}


def _applicable() -> list[tuple[Path, str]]:
    """(page, mutation) pairs where the mutation changes the page (a page without a report has no columns
    to move)."""
    pages = {path: path.read_text(encoding="utf-8") for path in CASES}
    return [(path, name) for path in CASES for name, mutate in MUTATIONS.items() if mutate(pages[path]) != pages[path]]


APPLICABLE = _applicable()


@pytest.mark.parametrize(("path", "mutation"), APPLICABLE,
                         ids=[f"{p.relative_to(ROOT)}-{m}" for p, m in APPLICABLE])
def test_harmless_drift_gives_the_recorded_answer(path: Path, mutation: str) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    query = QUERIES[path.parent.name].model_validate(expected["query"])
    mutated = MUTATIONS[mutation](path.read_text(encoding="utf-8"))
    wanted = {"record": expected["record"]} if "record" in expected else {"error": expected["error"]["type"]}
    assert _outcome(path, mutated, query) == wanted


def test_every_mutation_applies_to_some_page() -> None:
    assert {name for _, name in APPLICABLE} == set(MUTATIONS)


def _report_case() -> tuple[Path, dict, object, str]:
    path = ROOT / "claim_status" / "report_by_member.html"
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    return path, expected, QUERIES["claim_status"].model_validate(expected["query"]), path.read_text(encoding="utf-8")


def test_a_footnote_under_the_report_rows_is_not_a_row() -> None:
    path, expected, query, html = _report_case()
    noted = html.replace("\n\n*** ", "\n* Amounts are in US dollars.\n\n*** ", 1)
    assert noted != html
    assert _outcome(path, noted, query) == {"record": expected["record"]}


def test_a_footnote_between_report_rows_hides_no_row() -> None:
    path, _, query, html = _report_case()
    lines = html.split("\n")
    first_row = next(i for i, line in enumerate(lines) if "EOB$" in line)
    noted = "\n".join(lines[:first_row + 1] + ["* Amounts are in US dollars."] + lines[first_row + 1:])
    assert _outcome(path, noted, query) == {"error": "ParseError"}


def test_dates_written_with_four_digit_years_read_the_same() -> None:
    """Should the portal print whole years, nothing is left to the century rule: the same record."""
    for case in ("eligibility/active_subscriber", "authorization/detail_a1", "authorization/list_several"):
        path = ROOT / f"{case}.html"
        expected = json.loads(path.with_suffix(".expected.json").read_text())
        query = QUERIES[path.parent.name].model_validate(expected["query"])
        html = path.read_text(encoding="utf-8")
        whole = re.sub(r"(<td>\d\d/\d\d/)(\d\d)(</td>)",
                       lambda m: f"{m.group(1)}{'19' if int(m.group(2)) > 46 else '20'}{m.group(2)}{m.group(3)}", html)
        assert whole != html
        assert _outcome(path, whole, query) == {"record": expected["record"]}
