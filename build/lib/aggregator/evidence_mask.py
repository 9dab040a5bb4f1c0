"""Masked copies of evidence, for viewers who may not see everything a portal showed.

A portal page names the portal account that is signed in ("Logged in as <portal user>"). Front-desk staff
have no business knowing the practice's portal user names, so staff see a copy of each screenshot and HTML
with those places blacked out; admins and auditors see the original, which alone is under the hash chain.

What to mask is declared per portal in its manifest (`Manifest.evidence_masks`: CSS selectors, or the words
that introduce the name, e.g. "Logged in as"), plus a few product-wide defaults. At capture the browser
finds those elements on the live page and records their boxes in screenshot pixels (`FIND_BOXES_JS`); the
boxes are stored with the evidence entry. The masked copies are derived when a staff member asks:
the PNG with each recorded box filled black, the HTML with each matching element's text replaced by
"•••" (found again in the stored HTML by the same rules).

The text rule, in both places: a text node containing the phrase; its element is masked, or an ancestor
(up to three levels) when the element's text ends with the phrase, because then the name follows in a
sibling element (`Logged in as&nbsp;<b>name</b>` inside one `<font>`).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MASK_TEXT = "•••"
# Masked whatever the manifest says: the phrases portals put before the signed-in user's name.
DEFAULT_MASK_TEXTS = ("Logged in as", "Signed in as", "Logged on as", "Signed on as")
MAX_CLIMB = 3  # ancestors climbed from the phrase's own element to reach the name after it
PAD = 3  # pixels added around each box: anti-aliased glyph edges reach past the element's box

Box = tuple[int, int, int, int]  # x, y, width, height in screenshot pixels


@dataclass(frozen=True)
class MaskRules:
    selectors: tuple[str, ...] = ()
    texts: tuple[str, ...] = DEFAULT_MASK_TEXTS

    @property
    def empty(self) -> bool:
        return not self.selectors and not self.texts


def rules_for(carrier: str) -> MaskRules:
    """The masks for a carrier slug (only the defaults for an unknown or retired carrier)."""
    from aggregator.errors import ConfigurationError
    from aggregator.scrapers.registry import adapter_for

    try:
        manifest = adapter_for(carrier).manifest
    except ConfigurationError:
        return MaskRules()
    return rules_of(manifest)


def rules_of(manifest: object) -> MaskRules:
    """The manifest's `evidence_masks` plus the defaults."""
    selectors: list[str] = []
    texts = list(DEFAULT_MASK_TEXTS)
    for mask in getattr(manifest, "evidence_masks", ()) or ():
        if mask.selector:
            selectors.append(mask.selector)
        if mask.text and mask.text not in texts:
            texts.append(mask.text)
    return MaskRules(selectors=tuple(selectors), texts=tuple(texts))


# --- finding boxes on the live page (run by aggregator.browser at capture, once per frame) --------------------

FIND_BOXES_JS = """
([selectors, texts, maxClimb]) => {
  const norm = (s) => (s || "").replace(/\\s+/g, " ").trim().toLowerCase();
  // Nothing but punctuation after the phrase: the name is further on, outside this element.
  const endsWithPhrase = (t, p) => t.includes(p) && !/[\\p{L}\\p{N}]/u.test(t.slice(t.lastIndexOf(p) + p.length));
  const found = new Set();
  for (const selector of selectors) {
    try { document.querySelectorAll(selector).forEach((el) => found.add(el)); } catch (e) { /* bad selector */ }
  }
  const phrases = texts.map(norm).filter((p) => p);
  if (phrases.length && document.body) {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = norm(node.nodeValue);
      for (const phrase of phrases) {
        if (!text.includes(phrase) || !node.parentElement) continue;
        let el = node.parentElement;
        for (let i = 0; i < maxClimb && endsWithPhrase(norm(el.textContent), phrase) && el.parentElement
                        && el.parentElement !== document.body; i++) el = el.parentElement;
        found.add(el);
      }
    }
  }
  const ratio = window.devicePixelRatio || 1;
  const boxes = [];
  for (const el of found) {
    for (const r of el.getClientRects()) {
      if (r.width <= 0 || r.height <= 0) continue;
      boxes.push([(r.left + window.scrollX) * ratio, (r.top + window.scrollY) * ratio, r.width * ratio, r.height * ratio]);
    }
  }
  return boxes;
}
"""


def clean_boxes(raw: Iterable[Sequence[float]], offset: tuple[float, float] = (0, 0)) -> list[Box]:
    """Whole pixels, padded, shifted by the frame's place in the tab; nonsense dropped."""
    boxes = []
    for item in raw:
        try:
            x, y, w, h = (float(v) for v in item)
        except (TypeError, ValueError):
            continue
        if w <= 0 or h <= 0:
            continue
        boxes.append((max(0, int(x + offset[0]) - PAD), max(0, int(y + offset[1]) - PAD),
                      int(w) + 2 * PAD + 1, int(h) + 2 * PAD + 1))
    return boxes


def boxes_to_json(boxes: Sequence[Box] | None) -> str | None:
    return None if boxes is None else json.dumps([list(b) for b in boxes], separators=(",", ":"))


def boxes_from_json(value: str | None) -> list[Box] | None:
    if value is None:
        return None
    return [tuple(int(v) for v in item) for item in json.loads(value)]  # type: ignore[misc]


# --- the masked copies -------------------------------------------------------------------------------------------

def mask_png(png: bytes, boxes: Sequence[Box]) -> bytes:
    """The screenshot with each box filled black (a new PNG; the original bytes are untouched)."""
    from PIL import Image, ImageDraw

    with Image.open(io.BytesIO(png)) as image:
        image.load()
        masked = image.convert("RGB")
    draw = ImageDraw.Draw(masked)
    for x, y, w, h in boxes:
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=(0, 0, 0))
    out = io.BytesIO()
    masked.save(out, format="PNG")
    return out.getvalue()


_SPACE = re.compile(r"\s+")


def _norm(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip().lower()


def mask_html(html: str, rules: MaskRules) -> str:
    """The HTML with each matching element's text (and its children) replaced by MASK_TEXT."""
    import lxml.html
    from lxml import etree

    if rules.empty or not html.strip():
        return html
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return MASK_TEXT  # unreadable: nothing of it is shown rather than something unmasked
    found: list = []
    for selector in rules.selectors:
        try:
            found.extend(root.cssselect(selector))
        except Exception:  # noqa: BLE001 - a bad selector in a manifest masks nothing, as in the browser
            continue
    phrases = [p for p in (_norm(t) for t in rules.texts) if p]
    body = root.find("body")
    if phrases and body is not None:
        for element in body.iter():
            if not isinstance(element.tag, str):
                continue  # comments and processing instructions hold no shown text
            # Text nodes owned by this element: its own text, and the tails of its children.
            owned = [element.text, *(child.tail for child in element)]
            for phrase in phrases:
                if any(phrase in _norm(text) for text in owned if text):
                    found.append(_climb(element, phrase, body))
    for element in found:
        _blank(element)
    return lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def _climb(element, phrase: str, body):  # type: ignore[no-untyped-def]
    for _ in range(MAX_CLIMB):
        parent = element.getparent()
        if parent is None or parent is body or not _ends_with_phrase(_norm(element.text_content()), phrase):
            break
        element = parent
    return element


_WORD_CHARACTER = re.compile(r"[^\W_]")


def _ends_with_phrase(text: str, phrase: str) -> bool:
    """Nothing but punctuation after the phrase ("Logged on as:"): the name is further on."""
    return phrase in text and not _WORD_CHARACTER.search(text[text.rindex(phrase) + len(phrase):])


def _blank(element) -> None:  # type: ignore[no-untyped-def]
    for child in list(element):
        element.remove(child)  # children's tails go too: they are inside the masked element
    element.text = MASK_TEXT
    for name in ("title", "value", "alt", "aria-label"):
        if name in element.attrib:
            element.attrib[name] = MASK_TEXT
