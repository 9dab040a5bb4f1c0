"""Turns a ground-truth `EligibilityRecord` into what the benefits page shows, in v1 or v2 layout.

This is formatting only: every value on the page comes from the record (plus gender and subscriber
name, which the record does not carry), so the page says exactly what ground truth says.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.models import (
    AuthIndicator,
    BenefitKind,
    BenefitLine,
    CoverageLevel,
    CoverageStatus,
    EligibilityRecord,
    NetworkIndicator,
    ServiceType,
    TimePeriod,
)
from sandbox.dataset import CarrierData
from sandbox.ridgeline import vocabulary as v

IN, OUT = NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK
PLAN_LEVEL = ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE


@dataclass(frozen=True)
class Column:
    key: str
    header: str


@dataclass(frozen=True)
class Section:
    name: str
    category: str
    prior_auth: str
    rows: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class BenefitsView:
    layout: str
    meaning_change: str | None
    member_rows: tuple[tuple[str, str], ...]
    coverage_rows: tuple[tuple[str, str], ...]
    active: bool
    plan_columns: tuple[Column, ...]
    plan_rows: tuple[dict[str, str], ...]
    outer_columns: tuple[Column, ...]
    inner_columns: tuple[Column, ...]
    sections: tuple[Section, ...]
    prior_auth_text: str


def meaning_change_for(data: CarrierData, member_id: str, layout: str) -> str | None:
    """Which v2 change of meaning (if any) this member's benefits page carries."""
    member = data.member(member_id)
    if layout != "v2" or member is None:
        return None
    return v.V2_MEANING_CHANGES.get(data.plan_for(member).code)


def build_view(record: EligibilityRecord, data: CarrierData, layout: str) -> BenefitsView:
    member = data.member(record.member.member_id)
    subscriber = data.member(record.member.subscriber_id)
    assert member is not None and subscriber is not None, "ground truth names a member the dataset lacks"
    change = meaning_change_for(data, member.member_id, layout)
    labels = (lambda text: text.upper()) if layout == "v2" else (lambda text: text)

    m, c, p = record.member, record.coverage, record.plan
    member_rows = (
        (labels(v.MEMBER_LABELS["name"]), v.fmt_name(m.first_name, m.last_name)),
        (labels(v.MEMBER_LABELS["member_id"]), m.member_id),
        (labels(v.MEMBER_LABELS["dob"]), v.fmt_date(m.date_of_birth)),
        (labels(v.MEMBER_LABELS["gender"]), v.GENDERS[member.gender]),
        (labels(v.MEMBER_LABELS["relationship"]), v.RELATIONSHIPS[m.relationship]),
        (labels(v.MEMBER_LABELS["subscriber_id"]), m.subscriber_id),
        (labels(v.MEMBER_LABELS["subscriber_name"]), v.fmt_name(subscriber.first_name, subscriber.last_name)),
        (labels(v.MEMBER_LABELS["service_date"]), v.fmt_date(record.service_date)),
    )
    coverage_rows = (
        (labels(v.COVERAGE_LABELS["payer"]), record.payer.name),
        (labels(v.COVERAGE_LABELS["payer_id"]), record.payer.payer_id),
        (labels(v.COVERAGE_LABELS["plan"]), p.name),
        (labels(v.COVERAGE_LABELS["plan_type"]), v.PLAN_TYPES[p.insurance_type]),
        (labels(v.COVERAGE_LABELS["group_number"]), p.group_number),
        (labels(v.COVERAGE_LABELS["group_name"]), p.group_name),
        (labels(v.COVERAGE_LABELS["status"]), v.COVERAGE_STATUS[c.status]),
        (labels(v.COVERAGE_LABELS["effective"]), v.fmt_date(c.effective_date)),
        (labels(v.COVERAGE_LABELS["termination"]),
         v.fmt_date(c.termination_date) if c.termination_date else v.OPEN_ENDED_DATE),
    )
    network_headers = _network_headers(layout, change)
    # v1 puts In-Network first; v2 puts Out-of-Network first (cosmetic for a reader by header, and
    # for "tier_swap" pages the reason a reader by position would silently swap the networks).
    networks = (IN, OUT) if layout == "v1" else (OUT, IN)
    net_cols = tuple(Column(n.value, network_headers[n]) for n in networks)
    if layout == "v1":
        plan_columns = (Column("benefit", v.PLAN_TABLE_HEADERS["benefit"]), Column("level", v.PLAN_TABLE_HEADERS["level"]),
                        Column("period", v.PLAN_TABLE_HEADERS["period"]), *net_cols)
        outer_columns = tuple(Column(k, h) for k, h in v.OUTER_HEADERS.items())
        inner_columns = (Column("label", v.BENEFIT_HEADER), *net_cols)
    else:
        plan_columns = (Column("level", v.V2_PLAN_TABLE_HEADERS["level"]), Column("benefit", v.V2_PLAN_TABLE_HEADERS["benefit"]),
                        Column("period", v.V2_PLAN_TABLE_HEADERS["period"]), *net_cols, Column("notes", v.V2_NOTES_HEADER))
        h = v.V2_OUTER_HEADERS
        outer_columns = (Column("service", h["service"]), Column("details", h["details"]),
                         Column("prior_auth", h["prior_auth"]), Column("category", h["category"]))
        inner_columns = (Column("label", " " + v.BENEFIT_HEADER.lower() + " "), *net_cols,
                         Column("notes", v.V2_NOTES_HEADER))

    active = c.status is CoverageStatus.ACTIVE
    return BenefitsView(
        layout=layout, meaning_change=change, member_rows=member_rows, coverage_rows=coverage_rows,
        active=active, plan_columns=plan_columns, plan_rows=_plan_rows(record.benefits, layout),
        outer_columns=outer_columns, inner_columns=inner_columns,
        sections=_sections(record.benefits, layout, change), prior_auth_text=_prior_auth_text(record, layout),
    )


def _network_headers(layout: str, change: str | None) -> dict[NetworkIndicator, str]:
    if change == "tier_swap":
        return v.V2_TIER_HEADERS
    return v.NETWORK_HEADERS if layout == "v1" else v.V2_NETWORK_HEADERS


def _value(line: BenefitLine, change: str | None) -> str:
    if line.kind is BenefitKind.COINSURANCE:
        assert line.percent is not None
        if change == "plan_share":
            return v.V2_PLAN_SHARE_FORMAT.format(percent=v.fmt_percent(1 - line.percent))
        return v.fmt_percent(line.percent)
    if line.kind is BenefitKind.LIMITATION:
        assert line.quantity is not None
        return v.fmt_visits(line.quantity)
    assert line.amount is not None
    return v.fmt_money(line.amount)


def _plan_rows(benefits: tuple[BenefitLine, ...], layout: str) -> tuple[dict[str, str], ...]:
    by_key = {(b.kind, b.coverage_level, b.time_period, b.network): b for b in benefits if b.service_type is PLAN_LEVEL}
    rows = []
    for kind, benefit_label in v.PLAN_BENEFITS.items():
        for level in (CoverageLevel.INDIVIDUAL, CoverageLevel.FAMILY):
            for period in (TimePeriod.CALENDAR_YEAR, TimePeriod.REMAINING):
                cells = {n.value: by_key.get((kind, level, period, n)) for n in (IN, OUT)}
                if not any(cells.values()):
                    continue
                row = {"benefit": benefit_label, "level": v.LEVELS[level], "period": v.PERIODS[period],
                       "notes": v.V2_ROW_NOTES[benefit_label]}
                row.update({net: _value(line, None) if line else v.NOT_APPLICABLE for net, line in cells.items()})
                if layout == "v2":
                    row["benefit"] = row["benefit"].upper() if kind is BenefitKind.DEDUCTIBLE else row["benefit"]
                rows.append(row)
    return tuple(rows)


def _sections(benefits: tuple[BenefitLine, ...], layout: str, change: str | None) -> tuple[Section, ...]:
    sections = []
    for service, name in v.SERVICE_NAMES.items():
        lines = [b for b in benefits if b.service_type is service]
        if not lines:
            continue
        not_covered = {b.network for b in lines if b.kind is BenefitKind.NON_COVERED}
        by_key = {(b.kind, b.time_period, b.network): b for b in lines}
        rows = []
        for (kind, period), label in v.SERVICE_ROW_LABELS.items():
            if not any((kind, period, n) in by_key for n in (IN, OUT)):
                continue
            row = {"label": v.V2_SERVICE_ROW_LABELS[label] if layout == "v2" else label,
                   "notes": v.V2_ROW_NOTES[label]}
            for network in (IN, OUT):
                line = by_key.get((kind, period, network))
                row[network.value] = (v.NOT_COVERED if network in not_covered
                                      else _value(line, change) if line else v.NOT_APPLICABLE)
            rows.append(row)
        if not rows:
            raise ValueError(f"{name}: a service covered at no tier has nothing to show")
        required = any(b.prior_auth is AuthIndicator.REQUIRED for b in lines)
        sections.append(Section(
            name=name.upper() if layout == "v2" else name, category=v.V2_CATEGORIES[service],
            prior_auth=v.PRIOR_AUTH_VALUES[required], rows=tuple(rows),
        ))
    return tuple(sections)


def _prior_auth_text(record: EligibilityRecord, layout: str) -> str:
    listed = [name for service, name in v.SERVICE_NAMES.items() if service in record.prior_auth_service_types]
    prefix = v.PRIOR_AUTH_PREFIX.upper() if layout == "v2" else v.PRIOR_AUTH_PREFIX
    return f"{prefix} {', '.join(listed) if listed else v.PRIOR_AUTH_NONE}."
