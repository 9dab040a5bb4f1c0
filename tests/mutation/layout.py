"""Layout-only mutation families: what a portal redesign, a CMS or a template change does to a page without
changing a single thing the page says. Each must read to exactly the expected answer.

Principle: the text a browser shows for every value and label, and which label a value sits under, stay
the same; only markup, whitespace a browser collapses, comments, and content that carries no answer
(a banner, a footnote, an empty row) change. <pre> text is never re-spaced (its spaces are its columns).
"""

from __future__ import annotations

import random
import re
from copy import deepcopy

from lxml import html as lxml_html
from lxml.html import HtmlElement

from tests.mutation import dom
from tests.mutation.corpus import Case
from tests.mutation.oracle import SAME, Truth
from tests.mutation.variants import LAYOUT, family

Made = list[tuple[str, str, Truth]]

# Elements a redesign may wrap or restyle (never form controls, scripts or the page's head).
WRAPPABLE = ("table", "dl", "section", "pre", "ul")
VALUE_CELLS = ("td", "dd", "li")
# Attributes whose values refer to element ids (kept consistent when ids are renamed).
ID_REFS = ("aria-controls", "aria-labelledby", "aria-describedby", "for", "href", "headers", "onclick", "list")


def _fragment(markup: str) -> HtmlElement:
    return lxml_html.fragment_fromstring(markup)


@family("roundtrip", LAYOUT)
def roundtrip(case: Case, rng: random.Random) -> Made:
    """Parse with lxml and serialise back, nothing else (the baseline every other family builds on)."""
    return [("lxml parse and serialise", dom.serialise(dom.parse(case.html)), SAME)]


@family("whitespace", LAYOUT)
def whitespace(case: Case, rng: random.Random) -> Made:
    """Re-indent (newlines and indentation between block elements, padding inside cells) and minify
    (whitespace-only text between block elements removed). Browsers collapse both; <pre> is untouched."""
    if rng.random() < 0.5:
        return [_minified(case)]
    root = dom.parse(case.html)
    for el in dom.elements(root):
        if dom.in_pre(el) or el.tag not in dom.BLOCKS:
            continue
        parent = el.getparent()
        if parent is not None and parent.tag in dom.BLOCKS and (el.tail or "").strip() == "":
            el.tail = "\n" + " " * rng.randrange(0, 12)
        if el.tag in ("td", "th", "dd", "dt", "li") and rng.random() < 0.5:
            el.text = rng.choice(["\n    ", "  ", "\t"]) + (el.text or "")
            last = el[-1] if len(el) else None
            if last is not None:
                last.tail = (last.tail or "") + rng.choice(["\n  ", " ", "\t\n"])
            else:
                el.text = el.text + rng.choice(["\n  ", " "])
    return [("re-indented: newlines between blocks, padding inside cells", dom.serialise(root), SAME)]


def _minified(case: Case) -> tuple[str, str, Truth]:
    root = dom.parse(case.html)
    for el in dom.elements(root):
        if dom.in_pre(el) or el.tag not in dom.BLOCKS:
            continue
        if el.text is not None and el.text.strip() == "" and len(el) and el[0].tag in dom.BLOCKS:
            el.text = None
        parent = el.getparent()
        if el.tail is not None and el.tail.strip() == "" and parent is not None and parent.tag in dom.BLOCKS:
            following = el.getnext()
            if following is None or (isinstance(following.tag, str) and following.tag in dom.BLOCKS):
                el.tail = None
    return ("minified: whitespace between block elements removed", dom.serialise(root), SAME)


@family("attribute_order", LAYOUT)
def attribute_order(case: Case, rng: random.Random) -> Made:
    """Every element's attributes in a shuffled order (another templating engine)."""
    root = dom.parse(case.html)
    for el in root.iter():
        if not isinstance(el.tag, str) or len(el.attrib) < 2:
            continue
        items = list(el.attrib.items())
        rng.shuffle(items)
        el.attrib.clear()
        for key, value in items:
            el.set(key, value)
    return [("attributes reordered on every element", dom.serialise(root), SAME)]


@family("extra_attributes", LAYOUT)
def extra_attributes(case: Case, rng: random.Random) -> Made:
    """Framework noise: extra class tokens (`ng-star-inserted`, utility classes) and data-/aria- attributes
    on many elements. Existing classes stay."""
    made = []
    root = dom.parse(case.html)
    for el in dom.elements(root):
        if el.tag in ("input", "form", "html", "body") or rng.random() > 0.4:
            continue
        classes = (el.get("class") or "").split()
        classes.insert(rng.randrange(len(classes) + 1), rng.choice(
            ["ng-star-inserted", "mt-2", "text-left", "sc-bdVaJa", "css-1x2y3z", "x-hidden-focus"]))
        el.set("class", " ".join(classes))
        el.set(rng.choice(["data-v-7f3a2c", "data-testid", "data-row-key", "data-track"]), f"t{rng.randrange(999)}")
        if rng.random() < 0.2:
            el.set("aria-hidden", "false")
    made.append(("extra classes and data attributes on ~40% of elements",
                 dom.serialise(root), SAME))
    return made


def _rename(root: HtmlElement, attr: str, rename: dict[str, str]) -> None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        value = el.get(attr)
        if value is None:
            continue
        if attr == "class":
            el.set(attr, " ".join(rename.get(token, token) for token in value.split()))
        elif value in rename:
            el.set(attr, rename[value])


def _rewrite_refs(root: HtmlElement, rename: dict[str, str], *, prefix: str) -> None:
    """Keep every reference to a renamed id/class consistent: aria-controls and friends, postback targets
    in hrefs, and the page's own CSS."""
    patterns = {old: re.compile(rf"(?<![\w-]){re.escape(old)}(?![\w-])") for old in rename}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ID_REFS:
            value = el.get(attr)
            if value and prefix == "#":
                for old, pattern in patterns.items():
                    value = pattern.sub(rename[old], value)
                el.set(attr, value)
        if el.tag == "style" and el.text:
            text = el.text
            for old in rename:
                text = re.sub(rf"{re.escape(prefix)}{re.escape(old)}(?![\w-])", prefix + rename[old], text)
            el.text = text


@family("renamed_ids", LAYOUT)
def renamed_ids(case: Case, rng: random.Random) -> Made:
    """Every element id renamed (ASP.NET master-page prefixes `ctl00_Main_`, or opaque generated ids),
    with every reference to it (aria-controls, aria-labelledby, label for, postback targets, CSS) renamed
    consistently. Ids of form controls and scripts are protocol, not layout, and stay."""
    made = []
    for style in ("prefixed", "opaque"):
        root = dom.parse(case.html)
        rename = {}
        for el in dom.elements(root):
            ident = el.get("id")
            if ident and el.tag not in ("input", "form", "select", "textarea", "button"):
                rename[ident] = f"ctl00_Main_{ident}" if style == "prefixed" else f"r{rng.randrange(16 ** 6):06x}"
        if not rename:
            continue
        _rename(root, "id", rename)
        _rewrite_refs(root, rename, prefix="#")
        made.append((f"element ids renamed ({style}), references kept consistent", dom.serialise(root), SAME))
    return made


@family("renamed_classes", LAYOUT)
def renamed_classes(case: Case, rng: random.Random) -> Made:
    """Every class token renamed (CSS-modules style hashes), the page's CSS rewritten to match."""
    root = dom.parse(case.html)
    tokens = sorted({t for el in dom.elements(root) for t in (el.get("class") or "").split()})
    if not tokens:
        return []
    rename = {t: f"_{t[:3]}_{rng.randrange(16 ** 5):05x}" for t in tokens}
    _rename(root, "class", rename)
    _rewrite_refs(root, rename, prefix=".")
    return [("every class token renamed", dom.serialise(root), SAME)]


@family("comments_between", LAYOUT)
def comments_between(case: Case, rng: random.Random) -> Made:
    """HTML comments (template markers, CMS notes) between rows, between cells, between a label and its
    value, and between the lines of a <pre> report."""
    made = []
    root = dom.parse(case.html)
    for el in dom.elements(root):
        if el.tag in ("tr", "td", "th", "dt", "dd", "li") and rng.random() < 0.5:
            marker = dom.comment(rng.choice([" row ", " /cell ", " ko if: visible ", " end ", ""]))
            marker.tail = el.tail
            el.tail = None
            el.addnext(marker)
            el.tail = None
    for pre in root.iter("pre"):
        for slot in dom.own_slots(pre):
            text = slot.get()
            breaks = [m.end() for m in re.finditer("\n", text)]
            if breaks:
                slot.insert(rng.choice(breaks), dom.comment(" line "))
    made.append(("comments between rows/cells/labels/values", dom.serialise(root), SAME))
    return made


@family("comments_inside", LAYOUT)
def comments_inside(case: Case, rng: random.Random) -> Made:
    """Comments inside cells, before or after the value (`<td><!-- amount -->$20.00</td>`)."""
    root = dom.parse(case.html)
    for el in dom.elements(root):
        if el.tag in ("td", "th", "dd", "dt") and rng.random() < 0.6:
            marker = dom.comment(rng.choice([" value ", " bind: amount ", " TODO: i18n "]))
            if rng.random() < 0.5:
                marker.tail = el.text
                el.text = None
                el.insert(0, marker)
            else:
                el.append(marker)
    return [("comments inside cells at the start or end", dom.serialise(root), SAME)]


@family("comment_split_text", LAYOUT)
def comment_split_text(case: Case, rng: random.Random) -> Made:
    """An empty comment splitting a text node (`$<!-- -->3,000.00`), as React's server rendering emits
    between interpolated pieces. The browser shows the same characters, so this is layout-only even when
    the split falls inside a number or a word."""
    made = []
    root = dom.parse(case.html)
    chosen = [s for s in dom.slots(root, pre=False) if len(s.get().strip()) >= 2 and rng.random() < 0.35]
    for slot in chosen:
        text = slot.get()
        start = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        slot.insert(rng.randrange(start + 1, end), dom.comment(" "))
    made.append(("text nodes split by empty comments", dom.serialise(root), SAME))
    return made


@family("wrapped_values", LAYOUT)
def wrapped_values(case: Case, rng: random.Random) -> Made:
    """A cell's whole content wrapped in <span>, <b>, <div> or <span class="value">."""
    made = []
    for wrapper in rng.sample(["span", "b", "div", "span class=\"value\""], 2):
        root = dom.parse(case.html)
        for el in dom.elements(root):
            if el.tag not in VALUE_CELLS + ("th", "dt") or dom.in_pre(el) or el.find(".//table") is not None:
                continue
            if rng.random() > 0.5 or not dom.text_of(el):
                continue
            new = _fragment(f"<{wrapper}></{wrapper.split()[0]}>")
            new.text, el.text = el.text, None
            for child in list(el):
                new.append(child)
            el.append(new)
        made.append((f"cell contents wrapped in <{wrapper.split()[0]}>", dom.serialise(root), SAME))
    return made


@family("tag_swap", LAYOUT)
def tag_swap(case: Case, rng: random.Random) -> Made:
    """Presentational tags swapped: heading levels one down (h1->h2, h2->h3, h3->h4), <b>-><strong>, <i>-><em>,
    <font>-><span>."""
    root = dom.parse(case.html)
    swaps = {"h1": "h2", "h2": "h3", "h3": "h4", "h4": "h3", "b": "strong", "i": "em", "font": "span"}
    changed = 0
    for el in dom.elements(root):
        if el.tag in swaps:
            el.tag = swaps[el.tag]
            changed += 1
    return [("headings one level down, b->strong, i->em, font->span", dom.serialise(root), SAME)] if changed else []


BANNERS = (
    "Provider Services hours are Monday through Friday, 8 AM to 6 PM.",
    "New: remittance advice downloads are now available under Payments.",
    "Scheduled maintenance this Sunday from 1 AM to 5 AM; the portal may be briefly unavailable.",
    "Please verify member eligibility before each visit.",
    "Important: our fax number for prior authorization requests has changed.",
)
BANNER_MARKUP = (
    '<div class="alert alert-info" role="status">{}</div>',
    '<table class="notice" width="100%"><tr><td><font color="#CC0000"><b>Notice:</b> {}</font></td></tr></table>',
    '<div class="banner"><span>{}</span> <button type="button" aria-label="Dismiss">\u00d7</button></div>',
)


def _title_anchor(root: HtmlElement) -> HtmlElement:
    for el in dom.elements(root):
        classes = (el.get("class") or "").split()
        if el.tag in ("h1", "h2") or "pageTitle" in classes or "hdr" in classes:
            return el
    return dom.body(root)[0]


@family("banner", LAYOUT)
def banner(case: Case, rng: random.Random) -> Made:
    """A site notice that carries no answer (hours, a new feature, upcoming maintenance, a fax number)
    above the page title or after one of its data tables, in three markups (alert div, old-style notice
    table, dismissible banner)."""
    made = []
    for markup in rng.sample(BANNER_MARKUP, 2):
        root = dom.parse(case.html)
        notice = _fragment(markup.format(rng.choice(BANNERS)))
        # A note between two parts of the answer: after a top-level data table (not inside another table's
        # cell), and never itself a table (a table there could pass for a part of the answer).
        tables = [t for t in dom.data_tables(root) if not t.table.xpath("ancestor::td | ancestor::th")]
        if tables and not markup.startswith("<table") and rng.random() < 0.4:
            anchor, where = rng.choice(tables).table, "after a data table"
            notice.tail, anchor.tail = anchor.tail, None
            anchor.addnext(notice)
        else:
            anchor, where = _title_anchor(root), "above the title"
            notice.tail = "\n"
            anchor.addprevious(notice)
        made.append((f"notice banner added {where} ({markup.split()[0][1:]})", dom.serialise(root), SAME))
    return made


FOOTNOTES = (
    "Benefits are subject to the terms and limitations of the member's plan.",
    "Amounts shown reflect claims processed to date.",
    "Network status is based on the provider's current contract.",
)


def _mark(label: HtmlElement, marker: str) -> None:
    """Append a footnote marker to a label's text, before a trailing colon ("Copay*:" / "In-Network*")."""
    if marker.startswith("<"):
        label.append(_fragment(marker))
        return
    texts = dom.own_slots(label)
    if not texts:
        return
    last = texts[-1]
    text = last.get()
    stripped = text.rstrip()
    if stripped.endswith(":"):
        last.set(stripped[:-1] + marker + ":" + text[len(stripped):])
    else:
        last.set(stripped + marker + text[len(stripped):])


@family("footnotes", LAYOUT)
def footnotes(case: Case, rng: random.Random) -> Made:
    """Footnote markers (`*`, `<sup>1</sup>`, `\u2020`) appended to some labels and column headers, with the
    footnote itself below: a paragraph after the table, or a last table row spanning all columns."""
    made = []
    for marker, where in rng.sample([("*", "paragraph"), ("<sup>1</sup>", "row"), ("\u2020", "row"),
                                     ("*", "row"), ("<sup>1</sup>", "paragraph")], 3):
        root = dom.parse(case.html)
        found = dom.labels(root)
        if not found:
            continue
        for label in rng.sample(found, max(1, len(found) // 3)):
            _mark(label, marker)
        note = marker if not marker.startswith("<") else "1"
        text = f"{marker} {rng.choice(FOOTNOTES)}"  # the footnote starts with the same marker the labels carry
        tables = dom.data_tables(root)
        if where == "row" and tables:
            target = rng.choice(tables)
            row = _fragment(f'<tr class="footnote"><td colspan="{target.width}"><font size="1">{text}</font></td></tr>')
            target.rows[-1].addnext(row)
        else:
            anchor = tables[0].table if tables else found[-1]
            while anchor.getparent() is not None and anchor.getparent().tag in ("tr", "td", "tbody", "dl", "thead"):
                anchor = anchor.getparent()
            paragraph = _fragment(f'<p class="footnote"><small>{text}</small></p>')
            paragraph.tail = anchor.tail
            anchor.tail = None
            anchor.addnext(paragraph)
        made.append((f"footnote marker {note!r} on labels, footnote {where}", dom.serialise(root), SAME))
    return made


def _respell(text: str, how: str) -> str:
    if how == "upper":
        return text.upper()
    if how == "lower":
        return text.lower()
    if how == "title":
        return re.sub(r"[A-Za-z]+", lambda m: m.group(0).capitalize() if not m.group(0).isupper() else m.group(0), text)
    if how == "hyphens-to-spaces":
        return re.sub(r"(?<=\w)-(?=\w)", " ", text)
    if how == "spaces-to-hyphens":
        return re.sub(r"(?<=[A-Za-z]) (?=[A-Za-z])", "-", text)
    if how == "no-colon":
        return text.rstrip().removesuffix(":")
    if how == "sentence-case-spaced":  # "In-Network" -> "In network", "Out-of-Pocket Max" -> "Out of pocket max"
        spaced = re.sub(r"(?<=\w)-(?=\w)", " ", text)
        words = spaced.split(" ")
        return " ".join([words[0], *[w.lower() if not w.isupper() or len(w) > 3 else w for w in words[1:]]])
    raise ValueError(how)


@family("label_spelling", LAYOUT)
def label_spelling(case: Case, rng: random.Random) -> Made:
    """Every label and column header respelled one way: UPPER, lower, Title Case, hyphens as spaces
    ("In-Network" -> "In Network"), sentence case with spaces ("In network"), spaces as hyphens, trailing
    colon dropped. Values are untouched."""
    made = []
    for how in rng.sample(["upper", "lower", "title", "hyphens-to-spaces", "spaces-to-hyphens", "no-colon",
                           "sentence-case-spaced"], 3):
        root = dom.parse(case.html)
        changed = 0
        for label in dom.labels(root):
            texts = dom.own_slots(label)
            if how == "no-colon":
                texts = texts[-1:]
            for slot in texts:
                new = _respell(slot.get(), how)
                if new != slot.get():
                    slot.set(new)
                    changed += 1
        if changed:
            made.append((f"labels and headers respelled: {how}", dom.serialise(root), SAME))
    return made


@family("nbsp", LAYOUT)
def nbsp(case: Case, rng: random.Random) -> Made:
    """Non-breaking spaces: between the words of labels and values, and as padding around values
    (`&nbsp;$20.00&nbsp;`). Not inside <pre>."""
    root = dom.parse(case.html)
    for slot in dom.slots(root, pre=False):
        if rng.random() < 0.6:
            slot.set(re.sub(r"(?<=\S) (?=\S)", "\xa0", slot.get()))
    for first, last in _value_cells(root):
        if rng.random() < 0.3:
            first.set("\xa0" + first.get())
            last.set(last.get() + "\xa0")
    return [("non-breaking spaces between words and around values", dom.serialise(root), SAME)]


def _value_cells(root: HtmlElement) -> list[tuple[dom.Slot, dom.Slot]]:
    """The first and last text node of every value cell: padding goes at a cell's edges, never between two
    text nodes of one value (a comment may split a word)."""
    found = []
    for cell in dom.elements(root):
        if cell.tag in VALUE_CELLS and not dom.in_pre(cell) and not dom.is_label(cell):
            texts = dom.own_slots(cell)
            if texts and cell.find(".//table") is None:
                found.append((texts[0], texts[-1]))
    return found


@family("navigation_changed", LAYOUT)
def navigation_changed(case: Case, rng: random.Random) -> Made:
    """The portal's menu grows a new entry ("Payments", "Messages") at its start or end, drawn like its
    neighbours (same markup, same separator). The answer area is untouched."""
    root = dom.parse(case.html)
    menus = [el for el in dom.elements(root) if len([a for a in el if a.tag == "a"]) >= 3 and not dom.in_pre(el)]
    if not menus:
        return []
    menu = max(menus, key=lambda el: len([a for a in el if a.tag == "a"]))
    links = [a for a in menu if a.tag == "a"]
    model = rng.choice([links[0], links[-1]])
    entry = deepcopy(model)
    for child in list(entry):
        entry.remove(child)
    entry.text = rng.choice(["Payments", "Messages", "Remittance"])
    entry.set("href", "/" + entry.text.lower())
    if model is links[0]:
        entry.tail = model.tail
        model.addprevious(entry)
    else:
        entry.tail = model.tail
        model.tail = links[-2].tail
        model.addnext(entry)
    return [("a new menu entry in the portal's navigation", dom.serialise(root), SAME)]


@family("invisible_characters", LAYOUT)
def invisible_characters(case: Case, rng: random.Random) -> Made:
    """Characters a browser does not draw, as CMS copy-paste leaves them: zero-width spaces and soft
    hyphens inside label words, zero-width spaces and a byte-order mark at the edges of values. Not inside
    <pre>."""
    root = dom.parse(case.html)
    for label in dom.labels(root):
        for slot in dom.own_slots(label):
            text = slot.get()
            inner = [m.start() for m in re.finditer(r"(?<=[A-Za-z])(?=[A-Za-z])", text)]
            if inner and rng.random() < 0.5:
                at = rng.choice(inner)
                slot.set(text[:at] + rng.choice(["\u200b", "\u00ad"]) + text[at:])
    for first, last in _value_cells(root):
        if rng.random() < 0.3:
            first.set(rng.choice(["\u200b", "\ufeff"]) + first.get())
            last.set(last.get() + "\u200b")
    return [("zero-width spaces / soft hyphens in labels, zero-width marks around values", dom.serialise(root), SAME)]


@family("wrapper_divs", LAYOUT)
def wrapper_divs(case: Case, rng: random.Random) -> Made:
    """Tables, definition lists, sections and reports wrapped in one to three empty <div>s (a grid
    framework's container/row/col)."""
    made = []
    root = dom.parse(case.html)
    targets = [el for el in dom.elements(root) if el.tag in WRAPPABLE and el.getparent() is not None
               and el.getparent().tag not in ("tr", "table", "tbody")]
    for el in targets:
        if rng.random() > 0.6:
            continue
        depth = rng.randrange(1, 4)
        outer = _fragment("<div></div>")
        inner = outer
        for level, name in zip(range(depth - 1), ("row", "col-md-12", "panel-body"), strict=False):
            child = _fragment(f'<div class="{name}"></div>')
            inner.append(child)
            inner = child
            del level
        outer.set("class", "container")
        outer.tail, el.tail = el.tail, None
        el.addprevious(outer)
        inner.append(el)
    made.append(("tables/lists/sections wrapped in empty divs", dom.serialise(root), SAME))
    return made


@family("table_sections", LAYOUT)
def table_sections(case: Case, rng: random.Random) -> Made:
    """Table markup regrouped: the header row moved into a <thead> and the data rows into a <tbody>, an
    existing <tbody> unwrapped, or an existing <thead> dissolved into the body, as another template
    engine writes the same table."""
    root = dom.parse(case.html)
    tables = dom.data_tables(root)
    if not tables:
        return []
    for table in tables:
        body = table.header.getparent()
        if body.tag == "thead":  # already sectioned: the header row moves to the top of the body instead
            target = table.rows[0].getparent()
            target.insert(target.index(table.rows[0]), table.header)
            if len(body) == 0:
                body.getparent().remove(body)
            continue
        if body.tag == "tbody" and rng.random() < 0.5:
            for row in list(body):
                body.addprevious(row)
            table.table.remove(body)
            continue
        head = _fragment("<thead></thead>")
        if body.tag == "tbody":  # <thead> goes before the <tbody>, never inside it
            body.addprevious(head)
            head.append(table.header)
            continue
        rows = [child for child in body if child.tag == "tr"]
        body.insert(body.index(table.header), head)
        head.append(table.header)
        rest = [row for row in rows if row is not table.header]
        if rest:
            tbody = _fragment("<tbody></tbody>")
            head.addnext(tbody)
            for row in rest:
                tbody.append(row)
    return [("table sections regrouped (thead/tbody added, unwrapped or dissolved)", dom.serialise(root), SAME)]


@family("header_cells_as_td", LAYOUT)
def header_cells_as_td(case: Case, rng: random.Random) -> Made:
    """A table's header row drawn with bold <td> cells instead of <th> (older table-layout templates):
    the same words over the same columns."""
    root = dom.parse(case.html)
    tables = dom.data_tables(root)
    if not tables:
        return []
    for table in tables:
        for cell in dom.cells(table.header):
            cell.tag = "td"
            bold = _fragment("<b></b>")
            bold.text, cell.text = cell.text, None
            for child in list(cell):
                bold.append(child)
            cell.append(bold)
    return [("header cells as bold <td>", dom.serialise(root), SAME)]


@family("spacer_rows", LAYOUT)
def spacer_rows(case: Case, rng: random.Random) -> Made:
    """Empty spacer rows (`<tr><td colspan=N>&nbsp;</td></tr>`, or a zero-height row) between the data
    rows of tables, as table-layout portals draw them."""
    root = dom.parse(case.html)
    tables = dom.data_tables(root)
    if not tables:
        return []
    for table in tables:
        for row in table.rows:
            if rng.random() < 0.4:
                spacer = _fragment(rng.choice([f'<tr><td colspan="{table.width}">\xa0</td></tr>',
                                               f'<tr class="spacer"><td colspan="{table.width}" height="4"></td></tr>']))
                row.addnext(spacer)
    return [("empty spacer rows between data rows", dom.serialise(root), SAME)]
