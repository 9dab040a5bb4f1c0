"""Auditor pages: the evidence browser, a screenshot with its metadata and chain position, "verify"
(recompute the hashes and the links now), the whole-chain check, and the access log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from aggregator.evidence import verify_chain, verify_entry
from aggregator.models import normalize_member_id
from aggregator.store import web as store
from aggregator.web import access_log, views
from aggregator.web.auth import AUDIT, Principal, context_of, form, page

router = APIRouter(include_in_schema=False)
FLOWS = ("eligibility", "authorization", "claim_status")


def member_filter(value: str | None) -> str | None:
    """A member id search term, normalized; one that can be no member id is a 422 naming the rule."""
    if not value or not value.strip():
        return None
    try:
        return normalize_member_id(value)
    except ValueError as error:  # its message names the rule, never the value
        raise HTTPException(422, f"member_id: {error}") from None


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{name} must be YYYY-MM-DD") from None


@router.get("/audit/evidence")
async def evidence_browser(request: Request, principal: Annotated[Principal, Depends(page(AUDIT))],
                           date_from: str | None = None, date_to: str | None = None, carrier: str | None = None,
                           member_id: str | None = None, flow: str | None = None) -> Response:
    ctx = context_of(request)
    member = member_filter(member_id)
    found = store.find_evidence(ctx.repository, date_from=_date(date_from, "from"), date_to=_date(date_to, "to"),
                                carrier=carrier or None, member_id=member, flow=flow or None)
    # The list shows member ids (PHI): the search itself is an access.
    access_log.record(request, principal, "search", "evidence",
                      f"{len(found)} results" + (" for a member id" if member else ""))
    filters = {"date_from": date_from or "", "date_to": date_to or "", "carrier": carrier or "",
               "member_id": member_id or "", "flow": flow or ""}
    return views.render(request, "evidence_list.html", found=found, filters=filters, flows=FLOWS,
                        total=store.evidence_count(ctx.repository))


def evidence_detail(request: Request, evidence_id: str) -> dict[str, Any]:
    ctx = context_of(request)
    row = ctx.repository.evidence(evidence_id)
    if row is None:
        raise HTTPException(404, "no such evidence")
    lookup = ctx.repository.get_lookup(row.lookup_id) if row.lookup_id else None
    return {"row": row, "lookup": lookup, "previous": store.previous_evidence(ctx.repository, row.seq),
            "records": store.records_backed_by(ctx.repository, evidence_id), "total": store.evidence_count(ctx.repository)}


@router.get("/audit/evidence/{evidence_id}")
async def evidence_viewer(request: Request, evidence_id: str,
                          principal: Annotated[Principal, Depends(page(AUDIT))]) -> Response:
    detail = evidence_detail(request, evidence_id)
    access_log.record(request, principal, "view", "evidence", evidence_id)
    return views.render(request, "evidence_view.html", verification=None, **detail)


@router.post("/audit/evidence/{evidence_id}/verify")
async def verify_one(request: Request, evidence_id: str,
                     principal: Annotated[Principal, Depends(form(AUDIT))]) -> Response:
    detail = evidence_detail(request, evidence_id)
    # Off the event loop: the files are read back from the store (over the network when it is S3).
    problems = await run_in_threadpool(verify_entry, detail["row"], detail["previous"], context_of(request).files)
    access_log.record(request, principal, "verify", "evidence", evidence_id)
    return views.render(request, "evidence_view.html", verification={"problems": problems}, **detail)


@router.post("/audit/chain/verify")
async def verify_all(request: Request, principal: Annotated[Principal, Depends(form(AUDIT))]) -> Response:
    ctx = context_of(request)
    checked, problems = await run_in_threadpool(verify_chain, ctx.repository, ctx.files)
    access_log.record(request, principal, "verify", "evidence_chain", f"{checked} entries")
    return views.render(request, "chain_verify.html", checked=checked, problems=problems)


@router.get("/audit/access-log")
async def access_log_page(request: Request, principal: Annotated[Principal, Depends(page(AUDIT))],
                          username: str | None = None, object_type: str | None = None,
                          object_id: str | None = None) -> Response:
    rows = store.access_log(context_of(request).repository, username=username or None,
                            object_type=object_type or None, object_id=object_id or None)
    return views.render(request, "access_log.html", rows=rows,
                        filters={"username": username or "", "object_type": object_type or "",
                                 "object_id": object_id or ""})
