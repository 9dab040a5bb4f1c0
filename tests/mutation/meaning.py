"""Meaning-changing families that change what the page states: an amount, a percent, a date, a status, a
code, a text, the identifier asked for, or a label. (Pages cut short, rows gone or repeated are in
completeness.py; screen against data in screen_data.py.)

Each variant states its truth (see oracle.Truth): the exact new values when the page stays a consistent
statement (a copay of $25 instead of $20 is simply the new truth), or "needs attention only" when the
change makes the page contradict itself (a line amount that no longer adds up, a status word against its
code, screen against data). Only values the expected record actually holds are changed, so "the old
record" after a change always means the change went unnoticed.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from decimal import Decimal

from lxml.html import HtmlElement

from aggregator.scrapers.framework.html import header_key
from tests.mutation import dom
from tests.mutation.corpus import Case
from tests.mutation.oracle import FLAG, Truth, flatten, leaf_values
from tests.mutation.portal_words import portal_words
from tests.mutation.sites import (
    Made,
    flag_if_data,
    in_table_row,
    money_sites,
    norm,
    pick,
    place_of,
    relevant,
    replace,
)
from tests.mutation.variants import MEANING, family

UNKNOWN_LABELS = ("Reference", "Field 7", "Tier 3", "Amount (B)", "Other")
PROCEDURE = re.compile(r"^(?:\d{5}|[A-Z]\d{4})$")
ADJUSTMENT = re.compile(r"\b(CO|PR|OA|PI)-(\d{1,3})\b")
PENDING_CODES = ("19", "20", "21", "41", "45")  # X12 508 status codes of claims not yet decided
PROCEDURES = ("99213", "97110", "97140", "99214", "73721", "70553", "97530", "90837")


@family("money_changed", MEANING)
def money_changed(case: Case, rng: random.Random) -> Made:
    """One money amount the record holds changed (by a cent, a dollar, ten dollars). On a claim whose
    totals are sums, totals no longer agree (needs attention); elsewhere the new amount is the truth."""
    made = []
    leaves = leaf_values(case.expected_record)
    count = len(money_sites(dom.parse(case.html), leaves))
    for index in pick(rng, list(range(count)), 3):
        root = dom.parse(case.html)
        slot, match, value = money_sites(root, leaves)[index]
        new = value + Decimal(rng.choice(["0.01", "1.00", "10.00", "37.50"]))
        replace(slot, match.start(), match.end(), dom.format_money(new, match.group(0)))
        made.append((f"money at {place_of(slot)} changed", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((str(value), str(new)),)))))
    return made


@family("negative_amount", MEANING)
def negative_amount(case: Case, rng: random.Random) -> Made:
    """One amount the record holds printed as negative (`($3,000.00)` or `-$3,000.00`): a negative copay,
    deductible, billed or paid amount is outside its domain (and breaks a claim's sums): needs attention."""
    made = []
    leaves = leaf_values(case.expected_record)
    sites = [i for i, (_, _, value) in enumerate(money_sites(dom.parse(case.html), leaves)) if value > 0]
    for index in pick(rng, sites, 1):
        root = dom.parse(case.html)
        slot, match, value = money_sites(root, leaves)[index]
        text = match.group(0)
        replace(slot, match.start(), match.end(), rng.choice([f"({text})", f"-{text}"]))
        made.append((f"amount at {place_of(slot)} printed negative", dom.serialise(root), FLAG))
    return made


@family("amount_doubled", MEANING)
def amount_doubled(case: Case, rng: random.Random) -> Made:
    """One amount inside a table row or report line doubled (a line's allowed or paid amount, a copay)."""
    made = []
    leaves = leaf_values(case.expected_record)
    sites = [i for i, (slot, _, value) in enumerate(money_sites(dom.parse(case.html), leaves))
             if value != 0 and (dom.in_pre(slot.container) or in_table_row(slot.container))]
    for index in pick(rng, sites, 1):
        root = dom.parse(case.html)
        slot, match, value = money_sites(root, leaves)[index]
        replace(slot, match.start(), match.end(), dom.format_money(value * 2, match.group(0)))
        made.append((f"amount at {place_of(slot)} doubled", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((str(value), str(value * 2)),)))))
    return made


SKIPPED_COLUMNS = ("line", "#", "code", "cpt", "procedure", "no.")  # numbers that are names, not quantities


@family("quantity_changed", MEANING)
def quantity_changed(case: Case, rng: random.Random) -> Made:
    """A whole-number quantity in a table (approved, used or remaining units of an authorization, a visit
    limit, a line's units) changed by one or a few. Where quantities add up (approved = used + remaining)
    only needs attention is right; elsewhere the new quantity is the truth."""
    leaves = leaf_values(case.expected_record)

    def sites(root: HtmlElement) -> list[dom.Slot]:
        found = []
        for table in dom.data_tables(root):
            headers = [dom.text_of(cell).casefold() for cell in dom.cells(table.header)]
            for row in table.rows:
                for header, cell in zip(headers, dom.cells(row), strict=False):
                    texts = dom.own_slots(cell)
                    text = dom.clean(texts[0].get()) if len(texts) == 1 else ""
                    if (text.isdigit() and len(text) <= 3 and norm(text) in leaves
                            and not any(word in header for word in SKIPPED_COLUMNS)):
                        found.append(texts[0])
        return found

    made = []
    for index in pick(rng, list(range(len(sites(dom.parse(case.html))))), 2):
        root = dom.parse(case.html)
        slot = sites(root)[index]
        old = dom.clean(slot.get())
        new = str(int(old) + rng.choice([1, 2, 5]))
        slot.set(slot.get().replace(old, new))
        made.append((f"quantity at {place_of(slot)} changed", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((old, new),)))))
    return made


@family("percent_changed", MEANING)
def percent_changed(case: Case, rng: random.Random) -> Made:
    """A coinsurance percent changed (35% -> 45%): the new percent is the truth."""
    leaves = leaf_values(case.expected_record)

    def sites(root: HtmlElement) -> list[tuple[dom.Slot, re.Match[str]]]:
        return [(s, m) for s in dom.slots(root) for m in dom.PERCENT.finditer(s.get())
                if norm(Decimal(m.group(0)[:-1]) / 100) in leaves]

    made = []
    for index in pick(rng, list(range(len(sites(dom.parse(case.html))))), 1):
        root = dom.parse(case.html)
        slot, match = sites(root)[index]
        old = Decimal(match.group(0)[:-1])
        new = old + 10 if old <= 80 else old - 10
        replace(slot, match.start(), match.end(), f"{new}%")
        made.append((f"percent at {place_of(slot)} changed", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((str(old / 100), str(new / 100)),)))))
    return made


def _date_sites(root: HtmlElement, leaves: set[str]) -> list[tuple[dom.Slot, re.Match[str], str]]:
    return [(slot, match, fmt) for slot in dom.slots(root) for match, fmt in dom.find_dates(slot.get())
            if dom.parse_date(match.group(0), fmt).isoformat() in leaves]


@family("date_changed", MEANING)
def date_changed(case: Case, rng: random.Random) -> Made:
    """One date the record holds moved by days to a year. The new date is the truth when the record stays
    consistent (effective before termination, received before processed, ...); otherwise needs attention."""
    made = []
    leaves = leaf_values(case.expected_record)
    for index in pick(rng, list(range(len(_date_sites(dom.parse(case.html), leaves)))), 3):
        root = dom.parse(case.html)
        slot, match, fmt = _date_sites(root, leaves)[index]
        old = dom.parse_date(match.group(0), fmt)
        new = old + timedelta(days=rng.choice([1, 9, 45, 400, -2, -30, -380]))
        replace(slot, match.start(), match.end(), dom.format_date(new, fmt))
        made.append((f"date at {place_of(slot)} moved", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((old.isoformat(), new.isoformat()),)))))
    return made


@family("value_blanked", MEANING)
def value_blanked(case: Case, rng: random.Random) -> Made:
    """A labelled date or amount the record holds shown as no value: an empty cell, or the carrier's own
    no-value mark ("N/A", "—", "--"). The record may lose exactly that value (an open-ended termination
    date) if it stays consistent; a paid claim without a paid date, or a mandatory field gone, is needs
    attention."""
    leaves = leaf_values(case.expected_record)
    marks = [*portal_words(case.carrier).no_value_marks, ""]

    def sites(root: HtmlElement) -> list[tuple[dom.Slot, str]]:
        found = []
        for label in dom.labels(root):
            value = dom.label_value(label)
            texts = dom.own_slots(value) if value is not None else []
            if len(texts) != 1:
                continue
            text = dom.clean(texts[0].get())
            money = dom.money_value(text) if dom.MONEY.fullmatch(text) else None
            dates = dom.find_dates(text)
            if money is not None and norm(money) in leaves:
                found.append((texts[0], str(money)))
            elif len(dates) == 1 and dates[0][0].group(0) == text:
                iso = dom.parse_date(text, dates[0][1]).isoformat()
                if iso in leaves:
                    found.append((texts[0], iso))
        return found

    made = []
    for index in pick(rng, list(range(len(sites(dom.parse(case.html))))), 1):
        root = dom.parse(case.html)
        slot, old = sites(root)[index]
        mark = rng.choice(marks)
        where = place_of(slot)
        slot.set(mark)
        made.append((f"value at {where} shown as {'an empty cell' if not mark else 'the no-value mark'}",
                     dom.serialise(root), flag_if_data(case, Truth("values", ((old, "None"),)))))
    return made


@family("dates_swapped", MEANING)
def dates_swapped(case: Case, rng: random.Random) -> Made:
    """Two different dates of one box, row or report line swapped (effective after termination, service
    to before service from, paid before processed)."""
    leaves = leaf_values(case.expected_record)

    def pairs(root: HtmlElement) -> list[tuple[int, int]]:
        sites = _date_sites(root, leaves)
        found = []
        for i, (slot_a, match_a, fmt_a) in enumerate(sites):
            for j in range(i + 1, len(sites)):
                slot_b, match_b, fmt_b = sites[j]
                same_box = _box(slot_a.container) is _box(slot_b.container)
                if same_box and match_a.group(0) != match_b.group(0) and fmt_a == fmt_b:
                    if not dom.in_pre(slot_a.container) or slot_a.owner is slot_b.owner:
                        found.append((i, j))
        return found

    made = []
    for i, j in pick(rng, pairs(dom.parse(case.html)), 1):
        root = dom.parse(case.html)
        sites = _date_sites(root, leaves)
        (slot_a, match_a, fmt), (slot_b, match_b, _) = sites[i], sites[j]
        a, b = match_a.group(0), match_b.group(0)
        old_a, old_b = dom.parse_date(a, fmt).isoformat(), dom.parse_date(b, fmt).isoformat()
        where = f"{place_of(slot_a)} and {place_of(slot_b)}"
        if slot_a.owner is slot_b.owner and slot_a.where == slot_b.where:
            text = slot_a.get()
            slot_a.set(text[:match_a.start()] + b + text[match_a.end():match_b.start()] + a + text[match_b.end():])
        else:
            replace(slot_b, match_b.start(), match_b.end(), a)
            replace(slot_a, match_a.start(), match_a.end(), b)
        made.append((f"dates swapped: {where}", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((old_a, old_b), (old_b, old_a))))))
    return made


def _box(el: HtmlElement) -> HtmlElement:
    """The table, list or report a value belongs to (for pairing values of one statement)."""
    node = el
    while node is not None and node.tag not in ("table", "dl", "pre", "section", "form", "body"):
        node = node.getparent()
    return node


def _vocabularies(carrier: str) -> list:
    return list(portal_words(carrier).status_vocabularies)


def _status_sites(case: Case, root: HtmlElement) -> list[tuple[dom.Slot, int, int, object]]:
    """Status words on the page: a whole text node that a status map knows, or a report line's last column."""
    sites = []
    for vocab in _vocabularies(case.carrier):
        words = sorted(vocab.known(), key=len, reverse=True)
        endings = [re.compile(r"(?<=\s)" + r"[\s,-]+".join(map(re.escape, w.split())) + r"$", re.IGNORECASE)
                   for w in words]
        for slot in dom.slots(root):
            text = slot.get()
            if dom.in_pre(slot.container):
                for line in re.finditer(r"[^\n]+", text):
                    body = line.group(0).rstrip()
                    found = next((m for m in (e.search(body) for e in endings) if m), None)
                    if found:
                        sites.append((slot, line.start() + found.start(), line.start() + found.end(), vocab))
            elif header_key(text) in words and slot.container.tag != "a":
                start = len(text) - len(text.lstrip())
                sites.append((slot, start, len(text.rstrip()), vocab))
    return sites


_SPELLINGS: dict[str, dict[str, str]] = {}


def _spelling(carrier: str, key: str, like: str) -> str:
    """How the portal writes a vocabulary word (`key` is the map's normalised form): as it appears on any
    of the carrier's recorded pages, else the normalised form in the case style of the word it replaces."""
    if carrier not in _SPELLINGS:
        from tests.mutation.corpus import load_cases

        seen: dict[str, str] = {}
        words = {word for vocab in _vocabularies(carrier) for word in vocab.known()}
        for other in load_cases():
            if other.carrier != carrier:
                continue
            for slot in dom.slots(dom.parse(other.html)):
                if dom.in_pre(slot.container):  # a report's status is its last column
                    candidates = [re.split(r"\s{2,}", line.strip())[-1] for line in slot.get().splitlines()]
                else:
                    candidates = [dom.clean(slot.get())]
                for text in candidates:
                    if 0 < len(text) < 40 and header_key(text) in words:
                        seen.setdefault(header_key(text), text)
        _SPELLINGS[carrier] = seen
    return _SPELLINGS[carrier].get(key) or _styled(key, like)


def _styled(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    if like[:1].isupper() and like[1:] == like[1:].lower():
        return word[:1].upper() + word[1:]
    return re.sub(r"[a-z]+", lambda m: m.group(0).capitalize(), word)


def _decided(status: object) -> bool:
    """A finalized claim status (X12 category F*), as opposed to received, pending or requested."""
    return str(getattr(status, "value", status)).startswith("F")


@family("status_swapped", MEANING)
def status_swapped(case: Case, rng: random.Random) -> Made:
    """A status word (claim, authorization, coverage) replaced by another word of the same carrier
    vocabulary that maps to a different status. Where the page also states a status code (the new word
    is then of the opposite kind: finalized against pending), or the data it loaded, the two now
    disagree: needs attention. Elsewhere the record may change only its status fields
    and must stay consistent (a denied claim paid nothing, active coverage within its dates)."""
    if case.expected_record is None:
        return []
    coded = any(path.endswith("status_code") for path in flatten(case.expected_record))
    made = []
    for index in pick(rng, list(range(len(_status_sites(case, dom.parse(case.html))))), 3):
        root = dom.parse(case.html)
        slot, start, end, vocab = _status_sites(case, root)[index]
        old = slot.get()[start:end]
        others = [w for w in vocab.known() if vocab(w) != vocab(old)]
        if coded:  # decided against undecided, so that the printed status code cannot agree with both
            others = [w for w in others if _decided(vocab(w)) != _decided(vocab(old))]
        if not others:
            continue
        replace(slot, start, end, _spelling(case.carrier, rng.choice(others), old), right_aligned=False)
        truth = FLAG if coded or case.has_data_appendix else Truth("status")
        made.append((f"{vocab.name} word at {place_of(slot)} replaced", dom.serialise(root), truth))
    return made


@family("code_replaced", MEANING)
def code_replaced(case: Case, rng: random.Random) -> Made:
    """A procedure code replaced by another CPT code (the new code is the truth), an adjustment's group
    changed (CO-45 -> OA-45: the truth, if the shares still add up), or a printed status code replaced by
    one of the opposite kind (an "in process" code beside a finalized status word, a "paid" code beside
    a pending one: they contradict, needs attention)."""
    leaves = leaf_values(case.expected_record)
    made = []
    root = dom.parse(case.html)
    procedures = [i for i, s in enumerate(dom.slots(root))
                  if PROCEDURE.match(dom.clean(s.get())) and dom.clean(s.get()) in leaves and s.container.tag != "a"]
    for index in pick(rng, procedures, 1):
        root = dom.parse(case.html)
        slot = list(dom.slots(root))[index]
        old = dom.clean(slot.get())
        new = rng.choice([p for p in PROCEDURES if p != old])
        slot.set(slot.get().replace(old, new))
        made.append((f"procedure code at {place_of(slot)} replaced", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((old, new),)))))
    root = dom.parse(case.html)
    adjustments = [(i, m.start()) for i, s in enumerate(dom.slots(root)) for m in ADJUSTMENT.finditer(s.get())]
    for index, start in pick(rng, adjustments, 1):
        root = dom.parse(case.html)
        slot = list(dom.slots(root))[index]
        text = slot.get()
        group = text[start:start + 2]
        new = rng.choice([g for g in ("CO", "OA", "PI", "PR") if g != group])
        slot.set(text[:start] + new + text[start + 2:])
        made.append((f"adjustment group at {place_of(slot)} changed", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((group, new),)))))
    root = dom.parse(case.html)
    codes = [i for i, label in enumerate(dom.labels(root))
             if "code" in dom.text_of(label).casefold() and "status" in dom.text_of(label).casefold()
             and dom.label_value(label) is not None and dom.text_of(dom.label_value(label)).isdigit()]
    for index in pick(rng, codes, 1):
        root = dom.parse(case.html)
        value = dom.label_value(dom.labels(root)[index])
        slot = dom.own_slots(value)[0]
        old = dom.clean(slot.get())
        # The opposite kind of the printed code, so it cannot agree with the status word beside it:
        # 19/20/21/41/45 say "accepted / in process / pending", 65/104 "paid / processed".
        slot.set(slot.get().replace(old, rng.choice(("65", "104") if old in PENDING_CODES else ("19", "20"))))
        made.append(("printed status code replaced", dom.serialise(root), FLAG))
    return made


@family("text_changed", MEANING)
def text_changed(case: Case, rng: random.Random) -> Made:
    """A free-text value the record holds (plan name, group name, provider, payer) changed: the record
    must hold the new text (or, where the page also holds its data, needs attention)."""
    strings = {v for k, v in flatten(case.expected_record or {}).items()
               if isinstance(v, str) and " " in v and not k.startswith("query")}

    def sites(root: HtmlElement) -> list[dom.Slot]:
        return [s for s in dom.slots(root, pre=False) if dom.clean(s.get()) in strings and s.container.tag != "a"
                and not dom.is_label(s.container)]

    made = []
    for index in pick(rng, list(range(len(sites(dom.parse(case.html))))), 1):
        root = dom.parse(case.html)
        slot = sites(root)[index]
        old = dom.clean(slot.get())
        new = old + rng.choice([" Plus", " West", " II"])
        slot.set(slot.get().replace(old, new) if old in slot.get() else new)
        made.append((f"text at {place_of(slot)} changed", dom.serialise(root),
                     flag_if_data(case, Truth("values", ((old, new),)))))
    return made


@family("identity_changed", MEANING)
def identity_changed(case: Case, rng: random.Random) -> Made:
    """The member id or claim number the lookup asked for, printed on the page with one digit changed (in
    one place): the page answers for someone or something else than asked, or contradicts itself.
    Needs attention (never an answer about another patient)."""
    if case.expected_record is None or case.expected_record.get("kind") == "not_found":
        return []
    asked = {str(v) for k, v in case.query.model_dump().items() if k in ("member_id", "claim_number") and v}
    pattern = re.compile("|".join(re.escape(v) for v in sorted(asked, key=len, reverse=True))) if asked else None

    def sites(root: HtmlElement) -> list[tuple[dom.Slot, re.Match[str]]]:
        return [(s, m) for s in dom.slots(root) for m in pattern.finditer(s.get())] if pattern else []

    made = []
    for index in pick(rng, list(range(len(sites(dom.parse(case.html))))), 1):
        root = dom.parse(case.html)
        slot, match = sites(root)[index]
        ident = match.group(0)
        digits = [i for i, ch in enumerate(ident) if ch.isdigit()]
        at = digits[-1]
        new = ident[:at] + str((int(ident[at]) + 1) % 10) + ident[at + 1:]
        replace(slot, match.start(), match.end(), new, right_aligned=False)
        made.append((f"the asked-for identifier at {place_of(slot)} changed by one digit", dom.serialise(root), FLAG))
    return made


def _used_labels(root: HtmlElement, leaves: set[str]) -> list[HtmlElement]:
    """Labels and column headers whose values the record holds."""
    used = []
    for table in dom.data_tables(root):
        for index, header in enumerate(dom.cells(table.header)):
            if any(relevant(dom.text_of(dom.cells(row)[index]), leaves) for row in table.rows):
                used.append(header)
    for label in dom.labels(root):
        value = dom.label_value(label)
        if value is not None and relevant(dom.text_of(value), leaves):
            used.append(label)
    return used


@family("label_unknown", MEANING)
def label_unknown(case: Case, rng: random.Random) -> Made:
    """A label or column header whose value the record holds renamed to a word no map knows ("Tier 3",
    "Reference"): the value can no longer be placed, so only needs attention is right."""
    leaves = leaf_values(case.expected_record)
    made = []
    for index in pick(rng, list(range(len(_used_labels(dom.parse(case.html), leaves)))), 3):
        root = dom.parse(case.html)
        label = _used_labels(root, leaves)[index]
        before = dom.text_of(label)
        texts = dom.own_slots(label)
        word = rng.choice(UNKNOWN_LABELS)
        texts[0].set(word + (":" if before.endswith(":") else ""))
        for other in texts[1:]:
            other.set("")
        made.append((f"label '{before}' renamed to an unknown word", dom.serialise(root), FLAG))
    return made
