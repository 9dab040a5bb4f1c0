"""Rendering helpers: the template context every page gets, display filters, the error page."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from aggregator.models import AuthorizationList, ClaimList, EligibilityRecord, MemberNotFound
from aggregator.store.repository import load_answer
from aggregator.store.tables import RecordRow


def render(request: Request, template: str, status_code: int = 200, **values: object) -> HTMLResponse:
    ctx = request.app.state.web
    principal = getattr(request.state, "principal", None)
    return ctx.templates.TemplateResponse(request, template, {
        "user": principal.user if principal else None,
        "csrf_token": principal.csrf_token if principal else "",
        **values,
    }, status_code=status_code)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status_code, status=status_code, message=message)


def install_filters(env: Environment) -> None:
    env.filters["money"] = money
    env.filters["pct"] = pct
    env.filters["when"] = when
    env.filters["label"] = label
    env.filters["short"] = lambda value, n=12: (value or "")[:n]
    env.globals["answer_kind"] = answer_kind
    env.globals["payer_via"] = payer_via


def money(value: Decimal | float | str | None) -> str:
    return "" if value is None else f"${Decimal(str(value)):,.2f}"


def pct(value: Decimal | None) -> str:
    # Carriers print 0.2 or 0.2500; both are 20%.
    return "" if value is None else f"{(Decimal(str(value)) * 100).normalize():f}%"


def when(value: datetime | date | str | None, zone: str = "UTC") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")
    return value.isoformat()


def label(value: object) -> str:
    """An X12 enum's label with its code, e.g. 'Active Coverage (1)'."""
    text = getattr(value, "label", None)
    code = getattr(value, "value", None)
    return f"{text} ({code})" if text and code is not None else str(value if value is not None else "")


def payer_via(payer: str, portal: str | None = None) -> str:
    """The payer's name, and the portal that answered when not the payer's own site: "Ridgeline Mutual via
    Crossway" (a lookup row's `carrier` is the payer, its `portal` None for the payer's own site)."""
    from aggregator.overnight.worklist import portal_name, via
    from aggregator.scrapers.routing import payer_name

    return via(payer_name(payer), portal_name(portal))


def answer_kind(answer: object) -> str:
    for kind, cls in (("eligibility", EligibilityRecord), ("not_found", MemberNotFound),
                      ("authorizations", AuthorizationList), ("claims", ClaimList)):
        if isinstance(answer, cls):
            return kind
    return "unknown"


def answers(rows: list[RecordRow]) -> list[tuple[RecordRow, object]]:
    return [(row, load_answer(row)) for row in rows]


def changes_of(raw: str | None) -> list[str]:
    """The stored JSON list of flows.changes.Change, as the sentences staff read."""
    if not raw:
        return []
    try:
        return [str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in json.loads(raw)]
    except ValueError:
        return []
