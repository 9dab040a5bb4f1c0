"""Pure HTML reading helpers for page parsers: text, tables located by header text, carrier formats.

Mandatory lookups raise `ParseError` naming the field; nothing here guesses. Values are never logged.

What a page *says* is read the way a person reads it: comments, scripts and footnote markers (`*`, `†`,
`‡`, `[1]`, a superscript `1`) are not part of a value, and labels and headers compare without case,
spacing, hyphenation or invisible characters ("In-Network", "In Network", "IN\u2011NETWORK" are one
header). Nothing that could change a value is normalised away: digits, signs and words stay as printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache

from lxml import etree
from lxml import html as lxml_html
from lxml.etree import ParserError
from lxml.html import HtmlElement

from aggregator.errors import ParseError

# Characters that print as nothing (zero-width space/joiners, word joiner, byte-order mark, soft hyphen).
_INVISIBLE_CHARACTERS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARACTERS), None)
_HAS_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARACTERS}]")
# Footnote markers a portal prints after a label, header or value: asterisks, daggers, section and
# pilcrow signs, bracketed numbers and superscript digits. Only at the end of a text, and at most a few,
# so a value that merely contains such a character is left as printed.
_FOOTNOTE_MARK = r"(?:\*{1,3}|[\u2020\u2021\u00a7\u00b6]{1,2}|\[\d{1,2}\]|[\u00b9\u00b2\u00b3\u2070-\u2079]{1,2})"
_FOOTNOTE_TAIL = re.compile(rf"(?:\s*{_FOOTNOTE_MARK})+$")
_MARK_ENDS = frozenset("*\u2020\u2021\u00a7\u00b6]\u00b9\u00b2\u00b3\u2070\u2071\u2074\u2075\u2076\u2077\u2078\u2079")
_FOOTNOTE_HEAD = re.compile(rf"^{_FOOTNOTE_MARK}")
# A superscript holding only a footnote marker ("<sup>1</sup>", "<sup>*</sup>", "<sup>a</sup>").
_FOOTNOTE_SUP = re.compile(r"^\s*(?:\d{1,2}|[a-z]|\*{1,3}|[\u2020\u2021\u00a7\u00b6]{1,2}|\[\d{1,2}\])\s*$")
# Hyphens and dashes between two words ("In-Network", "Out\u2011of\u2011Network", "Pending - Review"):
# compared as the space they stand for.
_WORD_DASH = re.compile(r"(?<=\w)\s*[-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d]+\s*(?=\w)")
_UNREAD = ("script", "style", "template", "noscript")  # elements whose text is never page content
_HAS_HIDDEN_TEXT = etree.XPath("boolean(.//sup | .//script | .//style | .//template | .//noscript)")
# Compiled once: a compiled XPath runs 2-3x faster than `element.xpath(text)`, which compiles on every call,
# and these run for every row and cell of every table a parser looks at.
_DIRECT_ROWS = etree.XPath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
_CELLS = etree.XPath("./th | ./td")
_HAS_HEADER_CELL = etree.XPath("boolean(./th)")
_HOLDS_TABLE = etree.XPath("boolean(.//table)")
_SHOWN_TEXT = etree.XPath(".//text()[not(ancestor::script or ancestor::style or ancestor::template "
                          "or ancestor::noscript)]")


def clean(text: str | None) -> str:
    """Collapse whitespace (including non-breaking spaces), drop invisible characters, and strip."""
    # Called for nearly every cell of every page: `str.split()` splits on exactly the characters a `\s+`
    # regex matches (Unicode whitespace) at a fraction of its cost, and the (slow, per-character) translation
    # runs only on a text holding an invisible character: never an ASCII one, and a search finds the others.
    if not text:
        return ""
    if not text.isascii() and _HAS_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    return " ".join(text.split())


def without_footnote_marks(text: str) -> str:
    """`Copay*` / `$30.00 [1]` / `Deductible\u2020` -> the text without the trailing footnote markers."""
    if not text or text[-1] not in _MARK_ENDS:
        return text.strip()  # no marker can end here (and most texts end otherwise): skip the regex
    return _FOOTNOTE_TAIL.sub("", text).strip()


def is_footnote_marker(text: str) -> bool:
    """Whether `text` is nothing but a footnote marker (`*`, `†`, `[1]`, `1` in a superscript, ...)."""
    return bool(_FOOTNOTE_SUP.match(clean(text)) or _FOOTNOTE_TAIL.fullmatch(clean(text)))


def _fold(text: str) -> str:
    """Case-, space-, hyphen- and invisible-character-insensitive form of a text (no marker removal)."""
    return _WORD_DASH.sub(" ", clean(text)).casefold()


@lru_cache(maxsize=4096)  # pure, and called for every header cell of every table each wanted set is matched against
def header_key(text: str) -> str:
    """How headers and labels are compared: insensitive to case, spacing, invisible characters, the
    hyphens between words, footnote markers and a trailing colon (`Member ID*:` == `member id`)."""
    key = _FOOTNOTE_HEAD.sub("", without_footnote_marks(_fold(text))).strip()
    return without_footnote_marks(key.rstrip(":").strip())


def _footnote_sups(element: HtmlElement) -> set[HtmlElement]:
    """Every element inside a superscript that holds only a footnote marker (the <sup> included)."""
    inside: set[HtmlElement] = set()
    for sup in element.iter("sup"):
        if _FOOTNOTE_SUP.match(sup.text_content()):
            inside.update(sup.iter())
    return inside


def text_of(element: HtmlElement) -> str:
    """What the element says: its text without comments, scripts, footnote superscripts and trailing
    footnote markers, whitespace collapsed."""
    if not isinstance(element.tag, str):
        return ""  # a comment or processing instruction says nothing
    if element.tag in _UNREAD:
        return ""
    if not len(element):
        # No child (element, comment or instruction): its text is all it says, and nothing in it is hidden.
        return without_footnote_marks(clean(element.text))
    if not _HAS_HIDDEN_TEXT(element):
        # The common case, at C speed: `text_content` already leaves comments out.
        return without_footnote_marks(clean(element.text_content()))
    skipped = _footnote_sups(element)
    parts: list[str] = []
    for piece in _shown_text_nodes(element):
        owner = piece.getparent()
        if owner is None:
            continue
        if piece.is_tail:
            # A tail is printed after its owner: hidden only when the owner's container is hidden.
            if owner in skipped and owner.getparent() in skipped:
                continue
        elif owner in skipped:
            continue
        parts.append(piece)
    return without_footnote_marks(clean("".join(parts)))


def _shown_text_nodes(element: HtmlElement) -> list[etree._ElementUnicodeResult]:
    """What `_SHOWN_TEXT` selects: text nodes as lxml's "smart strings", which know their parent element."""
    found = _SHOWN_TEXT(element)
    if not isinstance(found, list):
        return []
    return [piece for piece in found if isinstance(piece, etree._ElementUnicodeResult)]


def _starts_like(element: HtmlElement, key: str) -> bool:
    """A cheap first look: whether the start of the element's raw text could be `key` (a header_key).
    Saves reading the whole text of large containers that merely hold the words somewhere."""
    start = element.text_content().lstrip()[:4 * len(key) + 40]
    return _FOOTNOTE_HEAD.sub("", _fold(start)).lstrip().startswith(key.split(" ", 1)[0])


def next_element(element: HtmlElement) -> HtmlElement | None:
    """The next sibling element, skipping comments and processing instructions between them."""
    found = element.getnext()
    while found is not None and not isinstance(found.tag, str):
        found = found.getnext()
    return found


@dataclass(frozen=True)
class Document:
    root: HtmlElement
    # Each row's header keys, read once: a parser looks for several tables by their headers, and each look
    # reads every header row of every table (nothing here changes a parsed tree, so it cannot go stale).
    _row_keys: dict[HtmlElement, frozenset[str]] = field(default_factory=dict, init=False, repr=False,
                                                         compare=False)

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
        """Whether the page says `needle` (case, spacing, hyphens and invisible characters ignored)."""
        return _fold(needle) in self._folded_text

    @cached_property
    def _folded_text(self) -> str:
        # A parser asks a page for several phrases; the page's whole text is read once (nothing here
        # changes a parsed tree, so it cannot go stale).
        return _fold(text_of(self.root))

    def tables_with_headers(self, *required: str) -> list[HtmlElement]:
        """Tables with a header row holding every `required` header (compared by `header_key`)."""
        return [table for table in self.root.iter("table")
                if header_row_index(table, required, keys_of=self._keys_of) is not None]

    def _keys_of(self, row: HtmlElement) -> frozenset[str]:
        keys = self._row_keys.get(row)
        if keys is None:
            keys = self._row_keys[row] = row_keys(row)
        return keys

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
            value = next_element(cell)
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
        # Only elements whose raw text holds the prefix's first word can start with it: reading every
        # element's text would be quadratic on deeply nested legacy pages.
        matches = [el for el in self.elements_with_word(wanted.split(" ", 1)[0])
                   if _starts_like(el, wanted) and header_key(text_of(el)).startswith(wanted)]
        innermost = [el for el in matches if not any(m is not el and m in el.iterdescendants() for m in matches)]
        if len(innermost) > 1:
            raise ParseError(f"'{prefix}' appears {len(innermost)} times on the page")
        return text_of(innermost[0]) if innermost else None

    def elements_with_word(self, word: str) -> list[HtmlElement]:
        """The elements (in document order) whose text holds `word` (compared like `has_text`) within
        one run of text: the few places worth reading closely. Reading every element's whole text instead
        is quadratic on deeply nested legacy pages."""
        wanted = _fold(word)
        # A first look without folding: a folded text's run without spaces is a run of the raw text, lowered
        # (folding only drops whitespace, turns dashes between words into spaces and lowers an ASCII text), so
        # an ASCII word without a space missing from an ASCII text's lowered form is missing from its folded one.
        quick = wanted.isascii() and " " not in wanted
        found: set[HtmlElement] = set()
        for element in self.root.iter():
            if not isinstance(element.tag, str) or element.tag in _UNREAD:
                continue
            # The element's own text: its text and its children's tails (a comment splitting a word
            # is a child whose tail goes on with the word).
            own = (element.text or "") + "".join(child.tail or "" for child in element)
            if quick and own.isascii() and wanted not in own.lower():
                continue
            if wanted not in _fold(own):
                continue
            while element is not None and element not in found:
                found.add(element)
                element = element.getparent()
        return [el for el in self.root.iter() if el in found]

    def says_after(self, anchor: HtmlElement, needle: str) -> bool:
        """Whether `needle` is printed after `anchor` ends, in document order (case, spacing and hyphens
        ignored): e.g. the footer a portal draws below every page, which a page cut short lacks."""
        following = anchor.xpath("following::text()[not(ancestor::script or ancestor::style)]")
        return _fold(needle) in _fold("".join(following))


def direct_rows(table: HtmlElement) -> list[HtmlElement]:
    """Rows of this table only, not of tables nested inside its cells."""
    return _DIRECT_ROWS(table)  # type: ignore[return-value]  # element paths give elements


def cells(row: HtmlElement) -> list[HtmlElement]:
    return _CELLS(row)  # type: ignore[return-value]


def run_together(key: str) -> str:
    """A `header_key` with its word breaks removed: how a header that lost its spaces and hyphens is
    still recognised ("INNETWORK" is "In-Network"), used only to match a header the caller names."""
    return key.replace(" ", "")


def row_keys(row: HtmlElement) -> frozenset[str]:
    """The row's cells as headers are matched: each cell's `header_key` without its word breaks."""
    return frozenset(run_together(header_key(text_of(c))) for c in cells(row))


def header_row_index(table: HtmlElement, required: tuple[str, ...] = (), *,
                     keys_of: Callable[[HtmlElement], frozenset[str]] = row_keys) -> int | None:
    """Index (in `direct_rows`) of the table's header row: the first row of <th> cells holding every
    `required` header (a title row drawn above the headers is passed over), or else the first row whose
    cells, of whatever tag, hold them all (headers drawn as bold <td> cells). `keys_of` reads a row's
    `row_keys` (a `Document` keeps them)."""
    wanted = {run_together(header_key(h)) for h in required}
    rows = direct_rows(table)

    def holds_all(row: HtmlElement) -> bool:
        return wanted <= keys_of(row)

    for index, row in enumerate(rows):
        if _HAS_HEADER_CELL(row) and holds_all(row):
            return index
    if wanted:
        # Headers drawn as <td> sit at the top (below a title row at most), and never hold a table.
        return next((index for index, row in enumerate(rows[:3]) if not _HOLDS_TABLE(row) and holds_all(row)),
                    None)
    return None


@dataclass(frozen=True)
class TableRow:
    """One body row of a table read by header: `row["in-network"]` is the cell under that header."""

    cells: dict[str, HtmlElement]
    table_name: str
    repeated: frozenset[str] = frozenset()  # headers printed over two columns: never read

    def __getitem__(self, header: str) -> HtmlElement:
        key = header_key(header)
        if key in self.repeated:
            raise ParseError(f"{self.table_name} has two columns '{header}'")
        try:
            return self.cells[key]
        except KeyError:
            raise ParseError(f"{self.table_name} has no column '{header}'") from None

    def text(self, header: str) -> str:
        return text_of(self[header])


_DIGIT = re.compile(r"\d")


def is_note_row(row: HtmlElement, width: int) -> bool:
    """A row that annotates a table instead of adding to it: one cell of text without a number in it
    (besides its leading marker), drawn across the table, or starting with a footnote marker, or in the
    table's <tfoot>. A row with a second value, or with a number (a total), is never a note."""
    row_cells = cells(row)
    texts = [text_of(c) for c in row_cells]
    said = [t for t in texts if t]
    if len(said) != 1 or _DIGIT.search(_FOOTNOTE_HEAD.sub("", said[0])):
        return False
    spans_table = len(row_cells) == 1 and width > 1
    marked = bool(_FOOTNOTE_HEAD.match(texts[0]))
    parent = row.getparent()
    in_footer = parent is not None and parent.tag == "tfoot"
    return spans_table or marked or in_footer


def read_table(table: HtmlElement, *, name: str, required: tuple[str, ...]) -> tuple[list[str], list[TableRow]]:
    """Read a table by its header row (the first row of <th> holding the `required` headers, or the
    first row).

    Returns the normalized headers in page order and the body rows keyed by header. Columns may move
    or be added; a required header that is missing, or a duplicated header, is a `ParseError`. Spacer
    rows and note rows (`is_note_row`) are not body rows.
    """
    rows = direct_rows(table)
    if not rows:
        raise ParseError(f"{name} table is empty")
    header_index = header_row_index(table, required)
    if header_index is None:
        header_index = next((i for i, r in enumerate(rows) if _HAS_HEADER_CELL(r)), 0)
    named = {run_together(header_key(h)): header_key(h) for h in required}
    # A required header printed without its word breaks is that header.
    headers = [named.get(run_together(key), key) for key in (header_key(text_of(c)) for c in cells(rows[header_index]))]
    # A repeated header makes its columns unreadable (which one is meant?), not the table: the record
    # may not need them. Reading one is an error (`TableRow`); a repeated required header is one now.
    repeated = frozenset(h for h in headers if headers.count(h) > 1)
    if repeated & {header_key(h) for h in required}:
        raise ParseError(f"{name} table has duplicated column headers")
    missing = [h for h in required if header_key(h) not in headers]
    if missing:
        raise ParseError(f"{name} table lacks the column(s) {', '.join(missing)}")
    body: list[TableRow] = []
    for row in rows[header_index + 1:]:
        row_cells = cells(row)
        if not row_cells or all(not text_of(c) for c in row_cells):
            continue  # spacer rows of layout-era markup
        if is_note_row(row, len(headers)):
            continue
        if len(row_cells) != len(headers):
            raise ParseError(f"{name} table has a row with {len(row_cells)} cells under {len(headers)} headers")
        body.append(TableRow({h: c for h, c in zip(headers, row_cells, strict=True) if h not in repeated}, name,
                             repeated))
    return headers, body


# --- carrier value formats --------------------------------------------------------------------------

_AMOUNT = re.compile(r"^(?P<num>\d{1,3}(,\d{3})*(\.\d{2})?|\d+(\.\d{2})?)$")
_PERCENT = re.compile(r"^(?P<num>\d{1,3}(\.\d+)?)\s*%$")
_MINUS = ("-", "\u2212")


def parse_money(text: str, *, field: str) -> Decimal:
    """`$1,500.00` -> Decimal('1500.00'). Negative amounts as portals print them: `-$25.00`, `$-25.00`
    and the accountants' `($25.00)` / `(25.00)` -> Decimal('-25.00'). Anything else raises, including
    two signs at once. Whether a negative amount can be an answer is the record's rule, not this one's."""
    value = clean(text)
    negative = 0
    if value.startswith("(") and value.endswith(")"):
        negative, value = negative + 1, value[1:-1].strip()
    if value.startswith(_MINUS):
        negative, value = negative + 1, value[1:].strip()
    if value.startswith("$"):
        value = value[1:].strip()
    if value.startswith(_MINUS):
        negative, value = negative + 1, value[1:].strip()
    match = _AMOUNT.match(value)
    if not match or negative > 1:
        raise ParseError(f"{field}: not an amount of money")
    try:
        amount = Decimal(match.group("num").replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ParseError(f"{field}: not an amount of money") from None
    return -amount if negative else amount


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
