"""What Cascade's pages show, built from ground truth records (the portal never computes truth itself).

Each function returns plain data for a template (or the text of the claims report / EOB); the words and
formats come from `vocabulary`. v2 layout changes are decided here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from aggregator.models import (
    Authorization,
    BenefitKind,
    BenefitLine,
    ClaimStatus,
    EligibilityRecord,
    NetworkIndicator,
    ServiceType,
    TimePeriod,
)
from sandbox.cascade import vocabulary as v
from sandbox.dataset import CarrierData, MemberData

IN, OUT = NetworkIndicator.IN_NETWORK, NetworkIndicator.OUT_OF_NETWORK


# --- eligibility -----------------------------------------------------------------------------------

@dataclass
class EligibilityView:
    pairs: list[tuple[str, str]]
    active: bool
    network_headers: dict[NetworkIndicator, str]
    accumulators: list[dict[str, str]] = field(default_factory=list)  # keys: kind level period in out notes
    services: list[dict[str, str]] = field(default_factory=list)  # keys: service benefit in out precert notes
    precert_text: str = ""


def meaning_change_for(data: CarrierData, member_id: str, layout: str) -> str | None:
    """Which change of meaning a member's v2 eligibility page carries (only on active coverage)."""
    member = data.member(member_id)
    if layout != "v2" or member is None:
        return None
    return "tier_words" if data.plan_for(member).code == v.V2_TIER_PLAN else None


def eligibility_view(record: EligibilityRecord, data: CarrierData, layout: str) -> EligibilityView:
    m, plan, cov = record.member, record.plan, record.coverage
    active = cov.status.value == "1"
    pairs = [
        ("Member #:", m.member_id), ("Member Name:", v.fmt_name(m.first_name, m.last_name)),
        ("Birth Date:", v.fmt_date(m.date_of_birth)), ("Subscriber #:", m.subscriber_id),
        ("Relationship:", v.RELATIONSHIPS[m.relationship]), ("Payer:", record.payer.name),
        ("Payer ID:", record.payer.payer_id), ("Group #:", plan.group_number), ("Group Name:", plan.group_name),
        ("Product:", plan.name), ("Product Type:", v.PRODUCT_TYPES[plan.insurance_type]),
        ("Eligibility:", v.ELIGIBILITY[active]), ("Coverage Begin:", v.fmt_date(cov.effective_date)),
        ("Coverage End:", v.fmt_date(cov.termination_date) if cov.termination_date else v.OPEN_ENDED),
        ("Inquiry Date:", v.fmt_date(record.service_date)),
    ]
    if layout == "v2":
        pairs = [(label.upper(), value) for label, value in pairs]
    tiers = meaning_change_for(data, m.member_id, layout) == "tier_words" and active
    view = EligibilityView(pairs=pairs, active=active, network_headers=dict(v.V2_TIER_WORDS if tiers else v.NETWORKS))
    if not active:
        return view
    plan_lines = [b for b in record.benefits if b.service_type is ServiceType.HEALTH_BENEFIT_PLAN_COVERAGE]
    for kind in (BenefitKind.DEDUCTIBLE, BenefitKind.OUT_OF_POCKET):
        for level in v.LEVELS:
            for period in v.PERIODS:
                by_network = {b.network: b for b in plan_lines
                              if (b.kind, b.coverage_level, b.time_period) == (kind, level, period)}
                if by_network:
                    view.accumulators.append({
                        "kind": v.ACCUMULATORS[kind], "level": v.LEVELS[level], "period": v.PERIODS[period],
                        "in": _amount(by_network.get(IN)), "out": _amount(by_network.get(OUT)),
                        "notes": "Embedded" if level.value == "FAM" else "",
                    })
    for service, name in v.SERVICES.items():
        lines = [b for b in record.benefits if b.service_type is service]
        if not lines:
            continue
        required = lines[0].prior_auth.value == "Y"
        not_covered = {b.network for b in lines if b.kind is BenefitKind.NON_COVERED}
        rows: list[tuple[str, dict[NetworkIndicator, str]]] = []
        benefit_rows: tuple[tuple[BenefitKind, TimePeriod | None, str], ...] = (
            (BenefitKind.COPAY, None, v.BENEFIT_COPAY),
            (BenefitKind.COINSURANCE, None, v.BENEFIT_COINSURANCE),
            (BenefitKind.LIMITATION, TimePeriod.CALENDAR_YEAR, v.BENEFIT_VISITS[TimePeriod.CALENDAR_YEAR]),
            (BenefitKind.LIMITATION, TimePeriod.REMAINING, v.BENEFIT_VISITS[TimePeriod.REMAINING]))
        for benefit_kind, benefit_period, label in benefit_rows:
            found = {b.network: b for b in lines if b.kind is benefit_kind and b.time_period == benefit_period}
            if found:
                rows.append((label, {n: _benefit(found.get(n)) for n in (IN, OUT)}))
        for label, cells in rows:
            for network in not_covered:
                cells[network] = v.NOT_COVERED
            view.services.append({"service": name, "benefit": label, "in": cells[IN], "out": cells[OUT],
                                  "precert": v.PRECERT[required], "notes": "After deductible" if label == v.BENEFIT_COINSURANCE else ""})
    listed = [v.SERVICES[s] for s in v.SERVICES if s in record.prior_auth_service_types]
    view.precert_text = f"{v.PRECERT_PREFIX} {', '.join(listed) if listed else v.PRECERT_NONE}."
    if layout == "v2":
        view.precert_text = view.precert_text.upper()
    return view


def _amount(line: BenefitLine | None) -> str:
    return v.NONE if line is None or line.amount is None else v.fmt_amount(line.amount)


def _benefit(line: BenefitLine | None) -> str:
    if line is None:
        return v.NONE
    if line.kind is BenefitKind.COPAY:
        return v.fmt_amount(_shown(line.amount))
    if line.kind is BenefitKind.COINSURANCE:
        return v.fmt_percent(_shown(line.percent))
    return f"{int(_shown(line.quantity))}"


def _shown(value: Decimal | None) -> Decimal:
    if value is None:
        raise ValueError("a benefit line of this kind carries its value")
    return value


# --- authorizations --------------------------------------------------------------------------------

def auth_row(auth: Authorization) -> dict[str, str]:
    return {"number": auth.auth_number, "type": v.REQUEST_TYPES[auth.request_category],
            "service": v.AUTH_SERVICES[auth.service_type], "status": v.AUTH_STATUS[auth.status],
            "from": v.fmt_date(auth.effective_date) if auth.effective_date else v.NONE,
            "thru": v.fmt_date(auth.expiration_date) if auth.expiration_date else v.NONE}


def auth_detail_pairs(auth: Authorization, member: MemberData, layout: str) -> list[tuple[str, str]]:
    pairs = [
        ("Reference #:", auth.auth_number), ("Decision:", v.AUTH_STATUS[auth.status]),
        ("Request Type:", v.REQUEST_TYPES[auth.request_category]), ("Service:", v.AUTH_SERVICES[auth.service_type]),
        ("Member #:", auth.member_id), ("Member Name:", v.fmt_name(member.first_name, member.last_name)),
        ("From:", v.fmt_date(auth.effective_date) if auth.effective_date else v.NONE),
        ("Thru:", v.fmt_date(auth.expiration_date) if auth.expiration_date else v.NONE),
        ("Servicing Provider:", auth.servicing_provider_name),
        ("Provider NPI:", auth.servicing_provider_npi or v.NONE),
        ("Decision Reason:", v.DECISION_REASONS[auth.decision_reason] if auth.decision_reason else v.NONE),
        ("Last Activity:", v.fmt_date(auth.last_updated)),
    ]
    return [(label.upper(), value) for label, value in pairs] if layout == "v2" else pairs


# --- claims report ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    header: str
    width: int
    right: bool = False


REPORT_COLUMNS = {
    "v1": (Column("CLAIM NO.", 15), Column("PATIENT ACCT", 13), Column("FROM", 9), Column("THRU", 9),
           Column("BILLED", 12, True), Column("PAID", 12, True), Column("STATUS", 22)),
    # Cosmetic: columns moved, other case, an extra informational column.
    "v2": (Column("Status", 22), Column("Claim No.", 15), Column("Received", 9), Column("From", 9),
           Column("Thru", 9), Column("Paid", 12, True), Column("Billed", 12, True), Column("Patient Acct", 13)),
}


def report_lines(claims: list[ClaimStatus], criteria: str, today: date, layout: str) -> list[tuple[str, str | None]]:
    """The report's lines: (text, claim number whose EOB link sits on this line's claim number or None)."""
    columns = REPORT_COLUMNS[layout]
    lines: list[tuple[str, str | None]] = [
        (f"{'CASCADE CARE BENEFIT ADMINISTRATORS':<60}CLAIM STATUS REPORT", None),
        (f"RUN DATE: {v.fmt_date(today)}", None),
        (f"CRITERIA: {criteria}", None),
        ("", None),
    ]
    if not claims:
        lines.append((v.MSG_NO_CLAIMS, None))
        return lines
    lines.append((" ".join(_cell(c.header, c) for c in columns).rstrip(), None))
    lines.append((" ".join("-" * c.width for c in columns), None))
    for claim in claims:
        values = {
            "claim no.": claim.payer_claim_number, "patient acct": claim.provider_account_number,
            "from": v.fmt_date(claim.service_from), "thru": v.fmt_date(claim.service_to),
            "billed": v.fmt_amount(claim.billed), "paid": v.fmt_amount(claim.paid),
            "status": v.CLAIM_STATUS[claim.status_category], "received": v.fmt_date(claim.received_date),
        }
        lines.append((" ".join(_cell(values[c.header.lower()], c) for c in columns).rstrip(), claim.payer_claim_number))
    lines.append(("", None))
    lines.append((f"*** {len(claims)} CLAIM(S) LISTED ***", None))
    return lines


def _cell(text: str, column: Column) -> str:
    return text.rjust(column.width) if column.right else text.ljust(column.width)
