"""Fixed-width text reports (a mainframe report in a `<pre>`, a text PDF): columns located by header text.

A report names its columns on one line and underlines each with a run of dashes on the next line:

    CLAIM NO.       FROM      THRU          BILLED  STATUS
    --------------- --------- --------- ----------- ----------
    C263180000123   10/05/26  10/05/26       250.00 PAID

The dashes give each column its exact extent, so right-aligned amounts and left-aligned words are both
read whole, and columns may move or be added freely. A required header that is missing or twice, a row
with text outside every column, or a ruler that does not match its header line is a `ParseError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aggregator.errors import ParseError
from aggregator.scrapers.framework.html import clean, header_key

_RULE = re.compile(r"-+")
_FOOTNOTE = re.compile(r"^\s*[*\u2020\u2021\u00a7]")


@dataclass(frozen=True)
class ReportRow:
    """One body line of a report: `row["billed"]` is the text under that header, stripped."""

    cells: dict[str, str]
    report: str
    line: str

    def __getitem__(self, header: str) -> str:
        try:
            return self.cells[header_key(header)]
        except KeyError:
            raise ParseError(f"{self.report} has no column '{header}'") from None


@dataclass(frozen=True)
class ReportTable:
    headers: list[str]  # normalized, in page order
    rows: list[ReportRow]
    header_line: int  # index of the header line in the lines given
    end_line: int  # index of the first line after the body


def _is_rule(line: str) -> bool:
    return bool(line.strip()) and set(line.strip()) <= {"-", " "}


def read_report(lines: list[str], *, name: str, required: tuple[str, ...]) -> ReportTable:
    """Find the one header line holding every `required` header over a dash ruler, and read its rows.

    Rows are the lines after the ruler up to the first blank line, footnote line (`* ...`, `† ...`) or
    the end: a footnote printed under the rows is not a row, and whatever follows it is the caller's.
    """
    wanted = [header_key(h) for h in required]
    found: list[ReportTable] = []
    for index in range(len(lines) - 1):
        if not _is_rule(lines[index + 1]):
            continue
        spans = [(m.start(), m.end()) for m in _RULE.finditer(lines[index + 1])]
        header_line = lines[index]
        headers = [header_key(header_line[start:end]) for start, end in spans]
        if not set(wanted) <= set(headers):
            continue
        # The header text must sit inside the ruled columns: nothing written between or beyond them.
        if _outside(header_line, spans):
            raise ParseError(f"{name} report: a header is not over its ruler")
        if len(set(headers)) != len(headers):
            raise ParseError(f"{name} report has duplicated column headers")
        rows: list[ReportRow] = []
        end = index + 2
        while end < len(lines) and lines[end].strip() and not _FOOTNOTE.match(lines[end]):
            line = lines[end]
            if _outside(line, spans):
                raise ParseError(f"{name} report has a row with text outside its columns")
            rows.append(ReportRow({h: clean(line[s:e]) for h, (s, e) in zip(headers, spans, strict=True)}, name, line))
            end += 1
        found.append(ReportTable(headers, rows, index, end))
    if len(found) != 1:
        raise ParseError(f"expected one {name} report with the columns {', '.join(required)}, found {len(found)}")
    return found[0]


def _outside(line: str, spans: list[tuple[int, int]]) -> bool:
    inside = [False] * len(line)
    for start, end in spans:
        for i in range(start, min(end, len(line))):
            inside[i] = True
    return any(ch.strip() and not inside[i] for i, ch in enumerate(line))
