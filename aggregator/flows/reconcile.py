"""Same payer, several portals: where their answers to the same question disagree, field by field.

A payer reached through its own site and through a hub has two copies of one member's data, and a hub's
copy can lag. `differences` takes each portal's answer (an eligibility record, a claim list, an
authorization list, or "member not found") and lists the fields on which they are not all equal, with every
portal's value. Pure and carrier-agnostic; `aggregator reconcile` (aggregator/cli/reconcile.py) asks the
portals and shows the result.

What is compared is the normalized answer without where and when it was read: `provenance` (portal,
account, fetch time, evidence ids) is dropped at every level. Values are compared as the models hold them
(Decimal 1500 equals 1500.00, dates as dates). Lists of records are matched on their natural key (a benefit
line on service type, benefit, network, level and period; a claim on its number; a line on its number; an
authorization on its number; an authorized service on its procedure), so one missing benefit line is one
difference, not a shifted list; other lists (the prior-authorization service types) compare whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic_core import to_jsonable_python

from aggregator.models import BenefitKind, MemberNotFound, NetworkIndicator, ServiceType
from aggregator.models.answers import Answer
from aggregator.models.codes import CoverageLevel, TimePeriod

IGNORED_FIELDS = frozenset({"provenance"})  # where and when it was read, not what the payer says


def _benefit_key(line: Mapping[str, Any]) -> str:
    parts = [ServiceType(line["service_type"]).label, BenefitKind(line["kind"]).label,
             NetworkIndicator(line["network"]).label]
    if line.get("coverage_level") is not None:
        parts.append(CoverageLevel(line["coverage_level"]).label)
    if line.get("time_period") is not None:
        parts.append(TimePeriod(line["time_period"]).label)
    return " / ".join(parts)


# list field -> the natural key of its items (the keys of one answer's list are unique: the models say so,
# or the list is compared by position below).
NATURAL_KEYS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "benefits": _benefit_key,
    "claims": lambda claim: str(claim["payer_claim_number"]),
    "lines": lambda line: str(line["line_number"]),
    "authorizations": lambda auth: str(auth["auth_number"]),
    "services": lambda service: str(service["procedure_code"]),
}


@dataclass(frozen=True)
class FieldDifference:
    """One field the portals do not agree on: its dotted path and each portal's value (None: absent/empty)."""

    field: str
    values: dict[str, Any]  # portal slug -> the value as the model holds it (dicts for a whole record)

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "values": {portal: to_jsonable_python(value) for portal, value in self.values.items()}}


def comparable(answer: Answer) -> dict[str, Any]:
    """The answer as plain data without provenance (at every level): what the payer says, nothing else."""
    stripped: dict[str, Any] = _strip(answer.model_dump())
    return stripped


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _strip(value) for key, value in data.items() if key not in IGNORED_FIELDS}
    if isinstance(data, (list, tuple)):
        return [_strip(item) for item in data]
    return data


def differences(answers: Mapping[str, Answer]) -> tuple[FieldDifference, ...]:
    """The fields on which the portals' answers (portal slug -> answer, in the order to show) disagree.

    Answers of different kinds (a record from one portal, "member not found" from another) are one
    difference, `answer`, with what each portal said; the same kind is compared field by field."""
    if len(answers) < 2:
        raise ValueError("reconciling needs the answers of two portals or more")
    kinds = {portal: answer.kind for portal, answer in answers.items()}
    if len(set(kinds.values())) > 1:
        return (FieldDifference("answer", {portal: _summary(answer) for portal, answer in answers.items()}),)
    return tuple(_diff({portal: comparable(answer) for portal, answer in answers.items()}, "", ""))


def _summary(answer: Answer) -> str:
    if isinstance(answer, MemberNotFound):
        return f"member not found ({answer.reject_reason.label})"
    return f"found ({answer.kind.replace('_', ' ')})"


def _diff(values: dict[str, Any], path: str, name: str) -> list[FieldDifference]:
    if _all_equal(list(values.values())):
        return []
    present = list(values.values())
    if all(isinstance(v, dict) for v in present):
        keys: list[str] = []
        for value in present:
            keys += [k for k in value if k not in keys]
        return [d for key in keys
                for d in _diff({p: v.get(key) for p, v in values.items()}, f"{path}.{key}" if path else key, key)]
    if all(isinstance(v, list) for v in present) and all(isinstance(i, dict) for v in present for i in v):
        keyed = _by_key(values, name)
        if keyed is not None:
            order: list[str] = []
            for items in keyed.values():
                order += [k for k in items if k not in order]
            return [d for key in order for d in _diff({p: items.get(key) for p, items in keyed.items()},
                                                      f"{path}[{key}]", name)]
        if len({len(v) for v in present}) == 1:
            return [d for index in range(len(present[0]))
                    for d in _diff({p: v[index] for p, v in values.items()}, f"{path}[{index}]", name)]
    return [FieldDifference(path or "(whole)", dict(values))]


def _by_key(values: dict[str, Any], name: str) -> dict[str, dict[str, Any]] | None:
    """Each portal's list as natural key -> item, when the field has one and it is unique in every list."""
    key_of = NATURAL_KEYS.get(name)
    if key_of is None:
        return None
    keyed: dict[str, dict[str, Any]] = {}
    for portal, items in values.items():
        try:
            mapped = {key_of(item): item for item in items}
        except (KeyError, ValueError):  # not the records this key is for
            return None
        if len(mapped) != len(items):
            return None
        keyed[portal] = mapped
    return keyed


def _all_equal(values: list[Any]) -> bool:
    return all(value == values[0] for value in values[1:])


def shown(value: Any) -> str:
    """A value as a person reads it in the CLI's table: labels for codes, plain amounts and dates."""
    if value is None:
        return "—"
    if isinstance(value, Enum):
        label = getattr(value, "label", "")
        return f"{label} ({value.value})" if label else str(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(item) for item in value) if value else "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{key} {shown(item)}" for key, item in value.items() if item is not None)
    return str(value)
