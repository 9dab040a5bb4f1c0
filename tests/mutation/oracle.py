"""What a variant's answer must be, and how an actual answer is classified.

Classes of answer:
- exact: a layout-only variant read to exactly the expected record (or the expected error);
- flagged: an `AggregatorError` (for a meaning-changing variant this is the safe answer, "needs attention";
  for a layout-only one it is harmless drift sent to a person, counted against the 95% goal);
- new_truth: a meaning-changing variant read to the record its family states (old record with exactly the
  changed values, and the record is self-consistent);
- wrong: a record that is not the truth: the old record after a meaning change, any other record after a
  layout-only change, a record where only "needs attention" is right, or a record that contradicts itself;
- unverified: a record differing from the old one in a way the family cannot state exactly (listed for
  review, never counted as right);
- crash: an exception other than `AggregatorError` escaped the parser.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tests.mutation.corpus import Case, Outcome

EXACT, FLAGGED, NEW_TRUTH, WRONG, UNVERIFIED, CRASH = "exact", "flagged", "new_truth", "wrong", "unverified", "crash"
STATUS_FIELDS = frozenset({"status", "status_category", "status_code"})


@dataclass(frozen=True)
class Truth:
    """`kind` is one of:
    - "same": layout only, the expected answer exactly;
    - "flag": only needs attention is right (a contradiction, a cut page, an unknown label);
    - "values": the old record with exactly `changes` (old -> new leaf values, normal form) applied;
    - "status": the old record with only status fields changed (to whatever the new word maps to);
    - "rows_removed": rows removed cleanly; right only if flagged, or, when the page has no count, total or
      data to check the rows against, listed as unverified.
    """

    kind: str
    changes: tuple[tuple[str, str], ...] = ()
    cross_checked: bool = False


SAME = Truth("same")
FLAG = Truth("flag")


@dataclass
class Verdict:
    klass: str
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def _norm(value: Any) -> str:
    if value is None:
        return "None"
    text = str(value)
    try:
        return str(Decimal(text).normalize())
    except (InvalidOperation, ValueError):
        return text


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "provenance":
                continue
            out.update(flatten(item, f"{path}.{key}" if path else key))
        return out
    if isinstance(value, list):
        out = {f"{path}#len": len(value)}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{path}[{index}]"))
        return out
    return {path: value}


def leaf_values(record: dict[str, Any] | None) -> set[str]:
    """Every leaf of a record in normal form (numbers normalised), for relevance tests. The echoed query
    is left out: it is what was asked, not what the page says."""
    return {_norm(v) for k, v in flatten(record or {}).items()
            if not k.endswith("#len") and v is not None and not k.startswith("query.")}  # the query is not read


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    a, b = flatten(old), flatten(new)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if _norm(a.get(k)) != _norm(b.get(k))]


def classify(case: Case, truth: Truth, got: Outcome) -> Verdict:
    if got.crash:
        return Verdict(CRASH, got.crash)
    expected_record, expected_error = case.expected_record, case.expected_error
    if truth.kind == "same":
        if got.is_error:
            if expected_error and (
                    (got.error_type, got.error_outcome) == (expected_error["type"], expected_error["outcome"])
                    or expected_error["outcome"] == got.error_outcome == "needs_attention"):
                return Verdict(EXACT)
            return Verdict(FLAGGED, f"{got.error_type}")
        if expected_record is not None and diff(expected_record, got.record or {}) == []:
            return Verdict(EXACT)
        if expected_error:
            return Verdict(WRONG, "a record from a page whose answer is an error")
        return Verdict(WRONG, "a different record", {"diff": _diff_paths(expected_record, got.record)})
    if got.is_error:
        return Verdict(FLAGGED, f"{got.error_type}")
    record = got.record or {}
    if expected_record is None:
        return Verdict(WRONG, "a record from a page whose answer is an error")
    changed = diff(expected_record, record)
    if not changed:
        return Verdict(WRONG, "the old record: the change went unnoticed")
    problems = violations(record)
    if truth.kind == "flag":
        return Verdict(WRONG, "a record where only needs-attention is right", {"diff": _diff_paths(expected_record, record)})
    if truth.kind == "rows_removed":
        if truth.cross_checked or problems:
            return Verdict(WRONG, "rows missing yet a record (the page states what they must add up to)",
                           {"diff": _diff_paths(expected_record, record), "violations": problems})
        return Verdict(UNVERIFIED, "rows missing, a shorter record; the page has no count to check it",
                       {"diff": _diff_paths(expected_record, record)})
    if truth.kind == "values":
        wanted = Counter((_norm(a), _norm(b)) for a, b in truth.changes)
        actual = Counter((_norm(a), _norm(b)) for _, a, b in changed)
        if actual == wanted:
            if problems:
                return Verdict(WRONG, "the changed value read, but the record now contradicts itself",
                               {"violations": problems})
            return Verdict(NEW_TRUTH)
        return Verdict(UNVERIFIED, "the record changed otherwise than the page did",
                       {"diff": _diff_paths(expected_record, record)})
    if truth.kind == "status":
        only_status = all(path.rsplit(".", 1)[-1] in STATUS_FIELDS for path, _, _ in changed)
        if only_status:
            if problems:
                return Verdict(WRONG, "the new status read, but it contradicts the rest of the record",
                               {"violations": problems})
            return Verdict(NEW_TRUTH)
        return Verdict(UNVERIFIED, "the record changed beyond its status", {"diff": _diff_paths(expected_record, record)})
    raise ValueError(truth.kind)


def _diff_paths(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """Which fields differ (paths only: values may be member data)."""
    return [path for path, _, _ in diff(old or {}, new or {})][:8]


# --- the invariants a record must satisfy to be a truth -------------------------------------------------

def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def violations(record: dict[str, Any]) -> list[str]:
    """Rules any answer states about itself (independent of the adapters' own checks). Names only."""
    found: list[str] = []
    _walk(record, found, record)
    return sorted(set(found))


def _walk(node: Any, found: list[str], top: dict[str, Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, found, top)
        return
    if not isinstance(node, dict):
        return
    _dates(node, found)
    if "status_category" in node:
        _claim(node, found)
    if {"approved", "used", "remaining"} <= set(node):
        if _d(node["approved"]) != _d(node["used"]) + _d(node["remaining"]):
            found.append("approved != used + remaining")
    if "percent" in node and node["percent"] is not None and not Decimal(0) <= _d(node["percent"]) <= Decimal(1):
        found.append("percent out of range")
    if node.get("kind") == "eligibility":
        _eligibility(node, found)
    for value in node.values():
        if isinstance(value, dict | list):
            _walk(value, found, top)


def _dates(node: dict[str, Any], found: list[str]) -> None:
    pairs = (("effective_date", "termination_date"), ("effective_date", "expiration_date"),
             ("service_from", "service_to"), ("received_date", "adjudicated_date"), ("adjudicated_date", "paid_date"),
             ("service_from", "received_date"))
    for first, second in pairs:
        a, b = _date(node.get(first)), _date(node.get(second))
        if a and b and a > b:
            found.append(f"{first} after {second}")


def _claim(claim: dict[str, Any], found: list[str]) -> None:
    category = claim.get("status_category") or ""
    paid = _d(claim.get("paid"))
    if paid is not None:
        if category in ("F2",) and paid != 0:
            found.append("a denied claim with money paid")
        if category[:1] in ("A", "P", "R") and paid != 0:
            found.append("an undecided claim with money paid")
        if category == "F1" and paid <= 0:
            found.append("a paid claim with no money paid")
    if "adjudicated_date" in claim and category.startswith("F") and claim.get("adjudicated_date") is None:
        found.append("a finalized claim without a processed date")
    if "paid_date" in claim and paid is not None and paid > 0 and claim.get("paid_date") is None:
        found.append("money paid without a paid date")
    lines = claim.get("lines") or []
    if not lines:
        return
    for name in ("billed", "paid", "allowed"):
        if claim.get(name) is not None and _d(claim[name]) != sum((_d(line[name]) for line in lines), Decimal(0)):
            found.append(f"total {name} is not the sum of the lines")
    share = sum((_d(a["amount"]) for line in lines for a in line.get("adjustments", ()) if a["group"] == "PR"), Decimal(0))
    if (_d(claim.get("patient_responsibility")) or Decimal(0)) != share:
        found.append("patient responsibility is not the sum of PR adjustments")
    if category.startswith("F"):
        for line in lines:
            adjustments = sum((_d(a["amount"]) for a in line.get("adjustments", ())), Decimal(0))
            if _d(line["billed"]) != _d(line["paid"]) + adjustments:
                found.append("a line's billed is not paid plus adjustments")
    if len({line["line_number"] for line in lines}) != len(lines):
        found.append("a line number twice")


def _eligibility(record: dict[str, Any], found: list[str]) -> None:
    coverage = record.get("coverage") or {}
    served = _date(record.get("service_date"))
    start, end = _date(coverage.get("effective_date")), _date(coverage.get("termination_date"))
    if served and start and coverage.get("status") == "1":
        if served < start or (end and served > end):
            found.append("active coverage outside its dates")
    if served and start and coverage.get("status") == "6" and start <= served and (end is None or served <= end):
        found.append("inactive coverage within its dates")
    totals: dict[tuple[Any, ...], Decimal] = {}
    remaining: dict[tuple[Any, ...], Decimal] = {}
    keys = Counter()
    for line in record.get("benefits") or []:
        key = tuple(line.get(k) for k in ("service_type", "kind", "coverage_level", "network", "time_period",
                                          "quantity_qualifier"))
        keys[key] += 1
        amount = _d(line.get("amount") if line.get("amount") is not None else line.get("quantity"))
        if amount is None:
            continue
        base = key[:4]
        if line.get("time_period") == "29":
            remaining[base] = amount
        elif line.get("time_period") in ("23", "22", "21", "25"):
            totals[base] = amount
    if any(count > 1 for count in keys.values()):
        found.append("two benefit rows for one key")
    for base, left in remaining.items():
        if base in totals and left > totals[base]:
            found.append("more remaining than the total")
