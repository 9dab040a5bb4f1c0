"""The hub's result pages, formatted from ground-truth records only (never computed from HTML).

Eligibility has three layouts, one per payer (`HubPayer.layout`):
- `standard` (the hub's own 271 rendering; Ridgeline Mutual): `table#benefits`, one row per benefit line:
  `Service | Coverage | Network | Level | Period | Amount | Prior Auth`.
- `sections` (Harborview Health): one `section.network` per network (`h2` In Network / Out of Network),
  each with `table.network-benefits`: `Service | Benefit | Level | Period | Value | Authorization Required`.
- `pivot` (Prairie Mutual): `table#accumulators` `Benefit | Level | Period | In Network | Out of Network`,
  then one `div.service` per service (`h3` name, `p.prior-auth` "Prior authorization: Required / Not
  required", `table.service-benefits` `Benefit | In Network | Out of Network` with rows `Co-Payment`,
  `Co-Insurance`, `Visit Limit (Calendar Year)`, `Visits Remaining`; `Not Covered` fills a network's
  column when the service is not covered there; `—` when the network has no such line).
  Layout v2 (the `layout_version` fault), pivot only: cosmetic (labels and headers in capitals, the out-of-
  network column first, an extra `Notes` column) and, for plan PMH1500 only, a change of meaning no parser
  may survive silently: Co-Insurance shows the plan's share (`Plan pays 80%`).
Every layout starts with `dl#member-summary` and ends with `p#prior-auth-list`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from aggregator.models import (
    BenefitKind,
    BenefitLine,
    CoverageStatus,
    EligibilityRecord,
    NetworkIndicator,
    ServiceType,
    TimePeriod,
)
from aggregator.models.claims import ClaimStatus
from sandbox.crossway import vocabulary as v
from sandbox.crossway.html import definitions, e, table
from sandbox.crossway.payers import Layout
from sandbox.dataset import CarrierData
from sandbox.plans import SERVICES

IN, OUT = NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK
V2_PLAN_SHARE_PLANS = frozenset({"PMH1500"})
PIVOT_ROWS: tuple[tuple[str, BenefitKind, TimePeriod | None], ...] = (
    ("Co-Payment", BenefitKind.COPAY, None), ("Co-Insurance", BenefitKind.COINSURANCE, None),
    ("Visit Limit (Calendar Year)", BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR),
    ("Visits Remaining", BenefitKind.LIMITATION, TimePeriod.REMAINING),
)


def meaning_change_for(data: CarrierData, member_id: str, layout: Layout, version: str) -> str | None:
    """Which v2 change of meaning this member's eligibility page carries (None: none)."""
    member = data.member(member_id)
    if version != "v2" or layout != "pivot" or member is None:
        return None
    return "plan_share" if data.plan_for(member).code in V2_PLAN_SHARE_PLANS else None


def member_summary(record: EligibilityRecord) -> str:
    m, c, p = record.member, record.coverage, record.plan
    return definitions((
        ("Payer", record.payer.name), ("Payer ID", record.payer.payer_id), ("Member ID", m.member_id),
        ("Patient Name", f"{m.last_name}, {m.first_name}"), ("Date of Birth", v.fmt_date(m.date_of_birth)),
        ("Relationship", v.RELATIONSHIPS[m.relationship]), ("Subscriber ID", m.subscriber_id),
        ("Plan", p.name), ("Plan Type", v.PLAN_TYPES[p.insurance_type]), ("Group Number", p.group_number),
        ("Group Name", p.group_name), ("Coverage Status", v.COVERAGE_STATUS[c.status]),
        ("Effective Date", v.fmt_date(c.effective_date)),
        ("Termination Date", v.fmt_date(c.termination_date) if c.termination_date else v.NO_VALUE),
        ("Date of Service", v.fmt_date(record.service_date)), ("Benefit Lines", str(len(record.benefits))),
    ), list_id="member-summary")


def value_of(line: BenefitLine) -> str:
    if line.kind is BenefitKind.COINSURANCE and line.percent is not None:
        return v.fmt_percent(line.percent)
    if line.kind is BenefitKind.LIMITATION and line.quantity is not None:
        return v.fmt_quantity(line.quantity)
    if line.amount is not None:
        return v.fmt_money(line.amount)
    return v.NO_VALUE


def _level(line: BenefitLine) -> str:
    return v.LEVELS[line.coverage_level] if line.coverage_level else v.NO_VALUE


def _period(line: BenefitLine) -> str:
    return v.PERIODS[line.time_period] if line.time_period else v.NO_VALUE


def eligibility_body(record: EligibilityRecord, layout: Layout, data: CarrierData, version: str) -> str:
    body = member_summary(record)
    if record.coverage.status is not CoverageStatus.ACTIVE:
        return body + f'<p id="inactive-note">{e(v.MSG_INACTIVE)}</p>'
    if layout == "standard":
        body += table(("Service", "Coverage", "Network", "Level", "Period", "Amount", "Prior Auth"), (
            (v.SERVICES[b.service_type], v.BENEFITS[b.kind], v.NETWORKS[b.network], _level(b), _period(b),
             value_of(b), v.PRIOR_AUTH[b.prior_auth]) for b in record.benefits), table_id="benefits")
    elif layout == "sections":
        for network in (IN, OUT):
            lines = [b for b in record.benefits if b.network is network]
            if lines:
                body += (f'<section class="network"><h2>{e(v.NETWORKS[network])}</h2>' + table(
                    ("Service", "Benefit", "Level", "Period", "Value", "Authorization Required"),
                    ((v.SERVICES[b.service_type], v.BENEFITS[b.kind], _level(b), _period(b), value_of(b),
                      v.PRIOR_AUTH[b.prior_auth]) for b in lines), css="grid network-benefits") + "</section>")
    else:
        change = meaning_change_for(data, record.member.member_id, layout, version)
        body += _pivot(record, version, change)
    services = ", ".join(v.SERVICES[s] for s in record.prior_auth_service_types) or "None"
    return body + f'<p id="prior-auth-list">Prior authorization required for: {e(services)}.</p>'


def _pivot(record: EligibilityRecord, version: str, change: str | None) -> str:
    v2 = version == "v2"
    networks = (OUT, IN) if v2 else (IN, OUT)

    def word(text: str) -> str:
        return text.upper() if v2 else text

    notes = ("Notes",) if v2 else ()
    plan_lines = [b for b in record.benefits if b.service_type is ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE]
    keys: list[tuple[BenefitKind, str, str]] = []
    for b in plan_lines:
        key = (b.kind, _level(b), _period(b))
        if key not in keys:
            keys.append(key)
    accum_rows = []
    for kind, level, period in keys:
        cells = []
        for network in networks:
            found = [b for b in plan_lines if (b.kind, _level(b), _period(b), b.network) == (kind, level, period,
                                                                                            network)]
            cells.append(value_of(found[0]) if found else v.NO_VALUE)
        accum_rows.append((v.BENEFITS[kind], level, period, *cells, *(("",) if v2 else ())))
    html = table([word(h) for h in ("Benefit", "Level", "Period", *(v.NETWORKS[n] for n in networks), *notes)],
                 accum_rows, table_id="accumulators")
    for service in SERVICES:
        lines = [b for b in record.benefits if b.service_type is service]
        if not lines:
            continue
        rows = []
        for label, kind, row_period in PIVOT_ROWS:
            if not any(b.kind is kind and b.time_period is row_period for b in lines):
                continue
            cells = [_pivot_cell(lines, network, kind, row_period, change) for network in networks]
            rows.append((word(label), *cells, *(("After deductible" if kind is BenefitKind.COINSURANCE else "",)
                                               if v2 else ())))
        if not rows:  # not covered on any network: one row saying so
            rows.append((word("Coverage"), *(v.BENEFITS[BenefitKind.NON_COVERED] for _ in networks),
                         *(("",) if v2 else ())))
        required = any(b.prior_auth.value == "Y" for b in lines)
        html += (f'<div class="service"><h3>{e(word(v.SERVICES[service]))}</h3><p class="prior-auth">'
                 f'{e(word("Prior authorization"))}: {"Required" if required else "Not required"}</p>'
                 + table([word(h) for h in ("Benefit", *(v.NETWORKS[n] for n in networks), *notes)], rows,
                         css="grid service-benefits") + "</div>")
    return html


def _pivot_cell(lines: Sequence[BenefitLine], network: NetworkIndicator, kind: BenefitKind,
                period: TimePeriod | None, change: str | None) -> str:
    mine = [b for b in lines if b.network is network]
    if any(b.kind is BenefitKind.NON_COVERED for b in mine):
        return "Not Covered"
    found = [b for b in mine if b.kind is kind and b.time_period is period]
    if not found:
        return v.NO_VALUE
    if change == "plan_share" and kind is BenefitKind.COINSURANCE and found[0].percent is not None:
        return f"Plan pays {v.fmt_percent(1 - found[0].percent)}"
    return value_of(found[0])


def claims_body(claims: Sequence[ClaimStatus], payer: str, criteria: Sequence[tuple[str, str]]) -> str:
    """The claim status results: newest service first, every claim on one page, each linked to its detail."""
    body = definitions(criteria, list_id="claim-criteria")
    if not claims:
        return body + f'<p id="no-claims">{e(v.MSG_NO_CLAIMS)}</p>'
    ordered = sorted(claims, key=lambda c: (c.service_from, c.payer_claim_number), reverse=True)
    rows = [(f'<a class="claim-link" href="/payers/{e(payer)}/claims/{e(c.payer_claim_number)}">'
             f'{e(c.payer_claim_number)}</a>', e(c.provider_account_number or v.NO_VALUE),
             e(f"{v.fmt_date(c.service_from)} - {v.fmt_date(c.service_to)}"), e(v.fmt_money(c.billed)),
             e(v.fmt_money(c.paid) if c.paid is not None else v.NO_VALUE), e(v.CLAIM_STATUS[c.status_category]))
            for c in ordered]
    return (body + f'<p id="claim-count">{len(claims)} claim(s) found.</p>'
            + table(("Claim Number", "Patient Account", "Service Dates", "Billed", "Paid", "Status"), rows,
                    table_id="claims", raw=True))


def day(value: date | None) -> str:
    return v.fmt_date(value) if value is not None else v.NO_VALUE


def cash(value: Decimal | None) -> str:
    return v.fmt_money(value) if value is not None else v.NO_VALUE


def claim_detail_body(c: ClaimStatus) -> str:
    info = definitions((
        ("Claim Number", c.payer_claim_number), ("Patient Account", c.provider_account_number or v.NO_VALUE),
        ("Member ID", c.member_id), ("Service Dates", f"{v.fmt_date(c.service_from)} - {v.fmt_date(c.service_to)}"),
        ("Status", v.CLAIM_STATUS[c.status_category]), ("Status Code", c.status_code or v.NO_VALUE),
        ("Received", day(c.received_date)), ("Adjudicated", day(c.adjudicated_date)), ("Paid Date", day(c.paid_date)),
        ("Check/EFT", c.check_number or v.NO_VALUE), ("Billed", cash(c.billed)), ("Allowed", cash(c.allowed)),
        ("Paid", cash(c.paid)), ("Patient Responsibility", cash(c.patient_responsibility)),
    ), list_id="claim-info")
    rows = [(str(line.line_number), line.procedure_code, v.fmt_date(line.service_date),
             f"{line.units.normalize():f}", v.fmt_money(line.billed), cash(line.allowed), cash(line.paid),
             "; ".join(f"{a.group.value}-{a.reason.value} {v.fmt_money(a.amount)}" for a in line.adjustments))
            for line in c.lines]
    return info + table(("Line", "Procedure", "Service Date", "Units", "Billed", "Allowed", "Paid", "Adjustments"),
                        rows, table_id="claim-lines")
