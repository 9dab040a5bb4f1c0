"""Turns ground-truth authorizations and claims into what Ridgeline's pages show (formatting only).

Every value comes from the product's record models that `sandbox.ground_truth` returns, plus the
member's name (which the records do not carry), so the pages say exactly what ground truth says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from aggregator.models.authorization import Authorization, AuthorizationList
from aggregator.models.claims import ClaimLine, ClaimStatus
from sandbox.dataset import MemberData
from sandbox.ridgeline import vocabulary as v
from sandbox.ridgeline.benefits_view import Column


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class AuthListView:
    member_rows: tuple[tuple[str, str], ...]
    rows: tuple[dict[str, str], ...]  # keys of v.AUTH_LIST_HEADERS plus "href"


@dataclass(frozen=True)
class DetailView:
    layout: str
    fields: tuple[tuple[str, str], ...]  # (label, value), shown two pairs per row
    table: Table
    legend: tuple[tuple[str, str], ...] = ()  # claims: (code, description)
    status_ok: bool = True  # green or red status text


@dataclass(frozen=True)
class ClaimResultsView:
    criteria: tuple[tuple[str, str], ...]
    count_text: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, str], ...]  # keys of v.CLAIM_LIST_HEADERS plus "href"
    page: int
    pages: int
    page_text: str
    prev_href: str | None
    next_href: str | None


def _date(day: date | None) -> str:
    return v.fmt_date(day) if day else v.NO_VALUE


def _money(amount: Decimal | None) -> str:
    return v.fmt_money(amount) if amount is not None else v.NO_VALUE


def _upper(label: str) -> str:
    return label.upper()


# --- authorizations ----------------------------------------------------------------------------------

def auth_list_view(member: MemberData, answer: AuthorizationList) -> AuthListView:
    ordered = sorted(answer.authorizations, key=lambda a: (a.last_updated, a.auth_number), reverse=True)
    rows = tuple({
        "number": a.auth_number, "service": v.AUTH_SERVICE_NAMES[a.service_type], "status": v.AUTH_STATUS[a.status],
        "effective": _date(a.effective_date), "expires": _date(a.expiration_date),
        "href": f"/authorizations/{a.auth_number}",
    } for a in ordered)
    labels = v.AUTH_MEMBER_LABELS
    member_rows = ((labels["name"], v.fmt_name(member.first_name, member.last_name)),
                   (labels["member_id"], member.member_id), (labels["dob"], v.fmt_date(member.date_of_birth)))
    return AuthListView(member_rows, rows)


def auth_detail_view(auth: Authorization, member: MemberData, layout: str) -> DetailView:
    labels = v.AUTH_LABELS
    fields: tuple[tuple[str, str], ...] = (
        (labels["number"], auth.auth_number), (labels["status"], v.AUTH_STATUS[auth.status]),
        (labels["request_type"], v.REQUEST_TYPES[auth.request_category]),
        (labels["service"], v.AUTH_SERVICE_NAMES[auth.service_type]),
        (labels["member_name"], v.fmt_name(member.first_name, member.last_name)),
        (labels["member_id"], auth.member_id),
        (labels["effective"], _date(auth.effective_date)), (labels["expiration"], _date(auth.expiration_date)),
        (labels["provider"], auth.servicing_provider_name), (labels["npi"], auth.servicing_provider_npi or v.NO_VALUE),
        (labels["reason"], v.DECISION_REASONS[auth.decision_reason] if auth.decision_reason else v.NO_VALUE),
        (labels["updated"], v.fmt_date(auth.last_updated)),
    )
    rows = tuple({
        "code": s.procedure_code, "description": v.PROCEDURE_DESCRIPTIONS.get(s.procedure_code, ""),
        "approved": v.fmt_units(s.approved), "used": v.fmt_units(s.used), "remaining": v.fmt_units(s.remaining),
        "unit": v.UNITS[s.unit], "notes": "Exhausted" if s.approved and not s.remaining else "",
    } for s in auth.services)
    if layout == "v2":
        fields = tuple((_upper(label), value) for label, value in fields)
        order = ("code", "unit", "approved", "used", "remaining", "description", "notes")
        columns = tuple(Column(k, v.V2_AUTH_SERVICE_HEADERS[k]) for k in order)
    else:
        columns = tuple(Column(k, h) for k, h in v.AUTH_SERVICE_HEADERS.items())
    ok = auth.status.value in ("A1", "A2", "A6")
    return DetailView(layout, fields, Table(columns, rows), status_ok=ok)


# --- claims ------------------------------------------------------------------------------------------

def claim_results_view(claims: tuple[ClaimStatus, ...], criteria: tuple[tuple[str, str], ...], page: int,
                       base_href: str) -> ClaimResultsView:
    ordered = sorted(claims, key=lambda c: c.payer_claim_number)
    ordered.sort(key=lambda c: (c.service_from, c.service_to), reverse=True)  # newest first, stable by number
    size = v.CLAIMS_PER_PAGE
    pages = max(1, math.ceil(len(ordered) / size))
    page = min(max(1, page), pages)
    shown = ordered[(page - 1) * size: page * size]
    rows = tuple({
        "number": c.payer_claim_number, "account": c.provider_account_number,
        "dates": v.fmt_date_range(c.service_from, c.service_to), "billed": v.fmt_money(c.billed),
        "paid": v.fmt_money(c.paid), "status": v.CLAIM_STATUS[c.status_category],
        "href": f"/claims/{c.payer_claim_number}",
    } for c in shown)
    return ClaimResultsView(
        criteria=criteria, count_text=v.RESULTS_COUNT.format(count=len(ordered)),
        columns=tuple(Column(k, h) for k, h in v.CLAIM_LIST_HEADERS.items()), rows=rows, page=page, pages=pages,
        page_text=v.PAGE_FORMAT.format(page=page, pages=pages),
        prev_href=f"{base_href}&page={page - 1}" if page > 1 else None,
        next_href=f"{base_href}&page={page + 1}" if page < pages else None,
    )


def _adjustments(line: ClaimLine) -> str:
    return v.ADJUSTMENT_SEPARATOR.join(v.fmt_adjustment(a.group, a.reason, a.amount) for a in line.adjustments)


def claim_detail_view(claim: ClaimStatus, member: MemberData, layout: str) -> DetailView:
    labels = v.CLAIM_LABELS
    fields: tuple[tuple[str, str], ...] = (
        (labels["number"], claim.payer_claim_number), (labels["account"], claim.provider_account_number),
        (labels["patient"], v.fmt_name(member.first_name, member.last_name)), (labels["member_id"], claim.member_id),
        (labels["dates"], v.fmt_date_range(claim.service_from, claim.service_to)),
        (labels["status"], v.CLAIM_STATUS[claim.status_category]), (labels["status_code"], claim.status_code),
        (labels["received"], v.fmt_date(claim.received_date)), (labels["processed"], _date(claim.adjudicated_date)),
        (labels["paid_date"], _date(claim.paid_date)), (labels["check"], claim.check_number or v.NO_VALUE),
        (labels["billed"], v.fmt_money(claim.billed)), (labels["allowed"], _money(claim.allowed)),
        (labels["paid"], v.fmt_money(claim.paid)), (labels["patient_resp"], _money(claim.patient_responsibility)),
    )
    rows = tuple({
        "line": str(line.line_number), "procedure": line.procedure_code, "date": v.fmt_date(line.service_date),
        "units": v.fmt_units(line.units), "billed": v.fmt_money(line.billed), "allowed": v.fmt_money(line.allowed),
        "paid": v.fmt_money(line.paid), "adjustments": _adjustments(line),
        "remarks": "See adjustment codes" if line.adjustments else "",
    } for line in claim.lines)
    seen: dict[str, str] = {}
    for line in claim.lines:
        for a in line.adjustments:
            seen.setdefault(f"{a.group.value}-{a.reason.value}",
                            f"{v.ADJUSTMENT_GROUPS[a.group]}: {a.reason.label}")
    if layout == "v2":
        fields = tuple((_upper(label), value) for label, value in fields)
        order = ("line", "date", "procedure", "units", "billed", "allowed", "paid", "adjustments", "remarks")
        columns = tuple(Column(k, v.V2_CLAIM_LINE_HEADERS[k]) for k in order)
    else:
        columns = tuple(Column(k, h) for k, h in v.CLAIM_LINE_HEADERS.items())
    ok = claim.status_category.value not in ("F2", "A3")
    return DetailView(layout, fields, Table(columns, rows), legend=tuple(seen.items()), status_ok=ok)
