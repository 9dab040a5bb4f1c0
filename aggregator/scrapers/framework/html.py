"""Pure HTML reading helpers for page parsers: text, tables located by header text, carrier formats.

Mandatory lookups raise `ParseError` naming the field; nothing here guesses. Values are never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import html as lxml_html
from lxml.etree import ParserError
from lxml.html import HtmlElement

from aggregator.errors import ParseError

_SPACE = re.compile(r"\s+")


def clean(text: str | None) -> str:
    """Collapse whitespace (including non-breaking spaces) and strip."""
    return _SPACE.sub(" ", (text or "").replace("\xa0", " ")).strip()


def header_key(text: str) -> str:
    """How headers and labels are compared: case-, space- and trailing-colon-insensitive."""
    return clean(text).casefold().rstrip(":").strip()


def text_of(element: HtmlElement) -> str:
    return clean(element.text_content())


@dataclass(frozen=True)
class Document:
    root: HtmlElement

    @classmethod
    def parse(cls, html: str) -> Document:
        try:
            return cls(lxml_html.document_fromstring(html))
        except (ParserError, ValueError) as exc:
            raise ParseError(f"page is not readable HTML ({type(exc).__name__})") from None

    @property
    def title(self) -> str:
        found = self.root.find(".//title")
        return text_of(found) if found is not None else ""

    def select(self, css: str) -> list[HtmlElement]:
        return self.root.cssselect(css)

    def one(self, css: str, *, field: str) -> HtmlElement:
        found = self.root.cssselect(css)
        if len(found) != 1:
            raise ParseError(f"expected exactly one {field} on the page, found {len(found)}")
        return found[0]

    def has_text(self, needle: str) -> bool:
        return needle.casefold() in clean(self.root.text_content()).casefold()

    def tables_with_headers(self, *required: str) -> list[HtmlElement]:
        """Tables whose header row holds every `required` header (compared by `header_key`)."""
        wanted = {header_key(h) for h in required}
        found = []
        for table in self.root.iter("table"):
            rows = direct_rows(table)
            header_row = next((r for r in rows if r.xpath("./th")), None)
            if header_row is not None and wanted <= {header_key(text_of(c)) for c in cells(header_row)}:
                found.append(table)
        return found

    def table_with_headers(self, *required: str, field: str) -> HtmlElement:
        found = self.tables_with_headers(*required)
        if len(found) != 1:
            raise ParseError(f"expected one {field} table, found {len(found)}")
        return found[0]

    def labelled_values(self) -> dict[str, HtmlElement]:
        """Label cells ending in ':' mapped to the cell right after them (legacy key/value boxes)."""
        values: dict[str, HtmlElement] = {}
        for cell in self.root.iter("td", "th"):
            label = text_of(cell)
            if not label.endswith(":") or len(label) > 60:
                continue
            value = cell.getnext()
            if value is None or value.tag not in ("td", "th"):
                continue
            key = header_key(label)
            if key in values:
                raise ParseError(f"the label '{label}' appears twice on the page")
            values[key] = value
        return values

    def text_block(self, prefix: str) -> str | None:
        """Text of the innermost element whose text starts with `prefix`; None if absent, error if twice."""
        wanted = header_key(prefix)
        matches = [el for el in self.root.iter() if isinstance(el.tag, str)
                   and header_key(text_of(el)).startswith(wanted)]
        innermost = [el for el in matches if not any(m is not el and m in el.iterdescendants() for m in matches)]
        if len(innermost) > 1:
            raise ParseError(f"'{prefix}' appears {len(innermost)} times on the page")
        return text_of(innermost[0]) if innermost else None


def direct_rows(table: HtmlElement) -> list[HtmlElement]:
    """Rows of this table only, not of tables nested inside its cells."""
    return table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")


def cells(row: HtmlElement) -> list[HtmlElement]:
    return row.xpath("./th | ./td")


@dataclass(frozen=True)
class TableRow:
    """One body row of a table read by header: `row["in-network"]` is the cell under that header."""

    cells: dict[str, HtmlElement]
    table_name: str

    def __getitem__(self, header: str) -> HtmlElement:
        try:
            return self.cells[header_key(header)]
        except KeyError:
            raise ParseError(f"{self.table_name} has no column '{header}'") from None

    def text(self, header: str) -> str:
        return text_of(self[header])


def read_table(table: HtmlElement, *, name: str, required: tuple[str, ...]) -> tuple[list[str], list[TableRow]]:
    """Read a table by its header row (the first row made of <th>, or the first row).

    Returns the normalized headers in page order and the body rows keyed by header. Columns may move
    or be added; a required header that is missing, or a duplicated header, is a `ParseError`.
    """
    rows = direct_rows(table)
    if not rows:
        raise ParseError(f"{name} table is empty")
    header_index = next((i for i, r in enumerate(rows) if r.xpath("./th")), 0)
    headers = [header_key(text_of(c)) for c in cells(rows[header_index])]
    if len(set(headers)) != len(headers):
        raise ParseError(f"{name} table has duplicated column headers")
    missing = [h for h in required if header_key(h) not in headers]
    if missing:
        raise ParseError(f"{name} table lacks the column(s) {', '.join(missing)}")
    body: list[TableRow] = []
    for row in rows[header_index + 1:]:
        row_cells = cells(row)
        if not row_cells or all(not text_of(c) for c in row_cells):
            continue  # spacer rows of layout-era markup
        if len(row_cells) != len(headers):
            raise ParseError(f"{name} table has a row with {len(row_cells)} cells under {len(headers)} headers")
        body.append(TableRow(dict(zip(headers, row_cells, strict=True)), name))
    return headers, body


# --- carrier value formats --------------------------------------------------------------------------

_MONEY = re.compile(r"^(?P<neg>\()?-?\$?\s*(?P<num>\d{1,3}(,\d{3})*(\.\d{2})?|\d+(\.\d{2})?)(?(neg)\))$")
_PERCENT = re.compile(r"^(?P<num>\d{1,3}(\.\d+)?)\s*%$")


def parse_money(text: str, *, field: str) -> Decimal:
    """`$1,500.00` -> Decimal('1500.00'); `(25.00)` -> Decimal('-25.00'). Anything else raises."""
    value = clean(text)
    match = _MONEY.match(value)
    if not match:
        raise ParseError(f"{field}: not an amount of money")
    try:
        amount = Decimal(match.group("num").replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ParseError(f"{field}: not an amount of money") from None
    return -amount if (match.group("neg") or value.startswith("-")) else amount


def parse_percent(text: str, *, field: str) -> Decimal:
    """`20%` -> Decimal('0.20'). Anything else (including prose around it) raises."""
    match = _PERCENT.match(clean(text))
    if not match:
        raise ParseError(f"{field}: not a percentage")
    share = Decimal(match.group("num")) / Decimal(100)
    if share > 1:
        raise ParseError(f"{field}: percentage above 100")
    return share.normalize() if share != 0 else Decimal("0")


def parse_date(text: str, *, field: str, formats: tuple[str, ...] = ("%m/%d/%Y",)) -> date:
    value = clean(text)
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ParseError(f"{field}: not a date in the portal's format")
