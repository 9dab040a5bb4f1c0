"""lxml helpers the mutation families share: parse and serialise a page, find its visible text, its
labels, its data tables, and read carrier-printed values (money, dates, percents) in a normal form.

Only visible page content is ever touched: <head>, <script>, <style> and form inputs are the page's
machinery (BluePeak's JSON appendix lives in a <script>; Cascade's postback fields are inputs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

INVISIBLE = frozenset({"head", "title", "script", "style", "noscript", "template", "textarea", "option", "select"})
BLOCKS = frozenset({"html", "body", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "div", "section", "main",
                    "header", "footer", "nav", "form", "dl", "dt", "dd", "ul", "ol", "li", "p", "h1", "h2", "h3",
                    "h4", "h5", "h6", "pre", "br", "hr", "center", "article", "aside"})
_SPACE = re.compile(r"\s+")

MONEY = re.compile(r"(?<![\w.,/-])\(?\$?\d{1,3}(?:,\d{3})*\.\d{2}\)?(?![\w%/-]|\.\d)")
PERCENT = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d+)?%")
DATE_FORMATS = (
    (re.compile(r"(?<!\d)\d{2}/\d{2}/\d{4}(?!\d)"), "%m/%d/%Y"),
    (re.compile(r"(?<!\d)\d{2}/\d{2}/\d{2}(?![\d/])"), "%m/%d/%y"),
    (re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}\b"), "%b %d, %Y"),
)


def clean(text: str | None) -> str:
    return _SPACE.sub(" ", (text or "").replace("\xa0", " ")).strip()


def parse(html: str) -> HtmlElement:
    return lxml_html.document_fromstring(html)


def serialise(root: HtmlElement) -> str:
    return lxml_html.tostring(root, encoding="unicode", doctype=root.getroottree().docinfo.doctype or None)


def is_element(node: object) -> bool:
    return isinstance(node, HtmlElement) and isinstance(node.tag, str)


def invisible(el: HtmlElement) -> bool:
    """Inside the page's machinery (head, scripts, styles, form controls)?"""
    node: HtmlElement | None = el
    while node is not None:
        if isinstance(node.tag, str) and node.tag in INVISIBLE:
            return True
        node = node.getparent()
    return False


def in_pre(el: HtmlElement) -> bool:
    node: HtmlElement | None = el
    while node is not None:
        if node.tag == "pre":
            return True
        node = node.getparent()
    return False


def body(root: HtmlElement) -> HtmlElement:
    found = root.find(".//body")
    return found if found is not None else root


def _walk(root: HtmlElement) -> Iterator[tuple[HtmlElement, bool, bool, bool, bool]]:
    """Every node of the body in document order, with (in a <pre>, hidden) for the node itself and for its
    parent (a tail belongs to the parent). One pass instead of a walk up the ancestors per node."""
    start = body(root)
    stack = [(start, start.tag == "pre", start.tag in INVISIBLE, False, False)]
    while stack:
        node, pre, hidden, parent_pre, parent_hidden = stack.pop()
        yield node, pre, hidden, parent_pre, parent_hidden
        if isinstance(node.tag, str):
            for child in reversed(node):
                tag = child.tag if isinstance(child.tag, str) else ""
                stack.append((child, pre or tag == "pre", hidden or tag in INVISIBLE, pre, hidden))


def elements(root: HtmlElement) -> list[HtmlElement]:
    """Visible elements of the body, document order."""
    return [node for node, _, hidden, _, _ in _walk(root) if isinstance(node.tag, str) and not hidden]


@dataclass
class Slot:
    """One text node: `owner.text` (where == "text") or `owner.tail` (where == "tail"). `container` is the
    element the text sits in (owner itself for text, owner's parent for a tail)."""

    owner: HtmlElement
    where: str

    @property
    def container(self) -> HtmlElement:
        return self.owner if self.where == "text" else self.owner.getparent()

    def get(self) -> str:
        return getattr(self.owner, self.where) or ""

    def set(self, value: str) -> None:
        setattr(self.owner, self.where, value)

    def insert(self, pos: int, node: HtmlElement) -> None:
        """Split this text node at `pos` and put `node` (an element or comment) in between."""
        text = self.get()
        self.set(text[:pos])
        node.tail = text[pos:] + (node.tail or "")
        if self.where == "text":
            self.owner.insert(0, node)
        else:
            self.owner.addnext(node)
            # addnext moves owner's tail onto node when tails are involved; restore explicitly
            self.owner.tail = text[:pos]


def slots(root: HtmlElement, *, pre: bool = True) -> Iterator[Slot]:
    """Every non-empty visible text node of the body (in document order)."""
    for node, node_pre, hidden, parent_pre, parent_hidden in _walk(root):
        if not isinstance(node.tag, str):  # a comment: only its tail is content (of the comment's parent)
            if node.tail and node.tail.strip() and not hidden and (pre or not node_pre):
                yield Slot(node, "tail")
            continue
        if node.text and node.text.strip() and not hidden and (pre or not node_pre):
            yield Slot(node, "text")
        if node.tail and node.tail.strip() and node.getparent() is not None and not parent_hidden \
                and (pre or not parent_pre):
            yield Slot(node, "tail")


def text_of(el: HtmlElement) -> str:
    return clean(el.text_content())


def own_slots(el: HtmlElement) -> list[Slot]:
    """The non-empty text nodes inside `el` (its text, its descendants' text and tails)."""
    found = []
    for node in el.iter():
        if node is not el and node.tail and node.tail.strip():
            found.append(Slot(node, "tail"))
        if isinstance(node.tag, str) and node.text and node.text.strip():
            found.append(Slot(node, "text"))
    return found


# --- labels, tables --------------------------------------------------------------------------------

LABEL_TAGS = ("th", "dt", "td", "label", "span", "b")


def is_label(el: HtmlElement) -> bool:
    """A header or label cell: <th>, <dt>, a <td>/<label>/<span> whose text ends with a colon, or one the
    portal marks as a label by class."""
    return is_element(el) and el.tag in LABEL_TAGS and not invisible(el) and not in_pre(el) and _label_like(el)


def _label_like(el: HtmlElement) -> bool:
    if el.tag not in LABEL_TAGS:
        return False
    text = text_of(el)
    if not text or len(text) > 60:
        return False
    if el.tag in ("th", "dt"):
        return True
    classes = (el.get("class") or "").split()
    if el.tag in ("td", "label", "span", "b") and (text.endswith(":") or "lbl" in classes or "label" in classes):
        return el.find(".//table") is None
    return False


def labels(root: HtmlElement) -> list[HtmlElement]:
    return [node for node, pre, hidden, _, _ in _walk(root)
            if isinstance(node.tag, str) and not hidden and not pre and _label_like(node)]


def direct_rows(table: HtmlElement) -> list[HtmlElement]:
    rows = []
    for child in table:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(r for r in child if r.tag == "tr")
    return rows


def cells(row: HtmlElement) -> list[HtmlElement]:
    return [c for c in row if c.tag in ("td", "th")]


@dataclass
class DataTable:
    table: HtmlElement
    header: HtmlElement
    rows: list[HtmlElement]  # data rows after the header, each with as many cells as the header

    @property
    def width(self) -> int:
        return len(cells(self.header))


def data_tables(root: HtmlElement) -> list[DataTable]:
    """Tables with a header row of <th> cells and at least one data row of <td> cells under it."""
    found = []
    for table in body(root).iter("table"):
        if invisible(table):
            continue
        rows = direct_rows(table)
        header = next((r for r in rows if r.find("th") is not None and r.find("td") is None), None)
        if header is None:
            continue
        width = len(cells(header))
        data = [r for r in rows[rows.index(header) + 1:]
                if r.find("td") is not None and len(cells(r)) == width and r.find(".//table") is None]
        if data and width >= 2:
            found.append(DataTable(table, header, data))
    return found


def label_value(label: HtmlElement) -> HtmlElement | None:
    """The value element a label names: the next cell / <dd> (skipping comments), or, for a <th> header,
    None (columns are handled with their table)."""
    if label.tag == "th":
        return None
    node = label.getnext()
    while node is not None and not is_element(node):
        node = node.getnext()
    if node is not None and node.tag in ("td", "dd", "span", "div") and not is_label(node):
        return node
    return None


# --- values in normal form ---------------------------------------------------------------------------

def money_value(text: str) -> Decimal | None:
    text = text.strip()
    negative = text.startswith("(") and text.endswith(")")
    try:
        value = Decimal(text.strip("()").lstrip("$").replace(",", ""))
    except InvalidOperation:
        return None
    return -value if negative else value


def format_money(value: Decimal, like: str) -> str:
    """`value` written the way `like` is written ($, thousands separators, parentheses)."""
    body_ = f"{abs(value):,.2f}" if "," in like or abs(value) >= 1000 and "$" in like else f"{abs(value):.2f}"
    if "$" in like:
        body_ = "$" + body_
    return f"({body_})" if value < 0 else body_


def find_dates(text: str) -> list[tuple[re.Match[str], str]]:
    """(match, strptime format) for every date printed in `text`."""
    found = []
    for pattern, fmt in DATE_FORMATS:
        for match in pattern.finditer(text):
            try:
                datetime.strptime(match.group(0), fmt)
            except ValueError:
                continue
            found.append((match, fmt))
    return found


def parse_date(text: str, fmt: str) -> date:
    return datetime.strptime(text, fmt).date()


def format_date(value: date, fmt: str) -> str:
    if fmt == "%b %d, %Y":  # BluePeak prints "Jul 4, 2025" (no leading zero)
        return f"{value:%b} {value.day}, {value.year}"
    return value.strftime(fmt)


def comment(text: str) -> etree._Comment:
    return etree.Comment(text)
