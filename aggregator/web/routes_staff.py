"""Front-desk pages: the worklist for a date, an appointment, on-demand lookups, re-running one item,
a lookup's records, and the evidence files themselves (screenshot, HTML, document); the one-time code a
person types while a lookup or an attended sign-in ("Sign in now") waits for one."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from aggregator.errors import AggregatorError
from aggregator.evidence_mask import boxes_from_json, mask_html, mask_png
from aggregator.human_steps import SIGN_IN, Where, needed
from aggregator.store import web as store
from aggregator.store.tables import EvidenceRow
from aggregator.web import access_log, views
from aggregator.web.auth import ADMIN, AUDITOR, DESK, EVERYONE, Principal, context_of, form, page
from aggregator.web.lookups import CHECKS, LookupJob, LookupRequest, SignInJob, declared_checks, manifest_of
from aggregator.web.masking import rules_for

if TYPE_CHECKING:
    from aggregator.overnight.worklist import WorklistRow

router = APIRouter(include_in_schema=False)
ITEM_STATES = ("pending", "running", "deferred", "verified", "verified_with_changes", "not_found", "needs_human",
               "failed", "not_checked")
RERUNNABLE = ("failed", "needs_human", "deferred", "not_found")
SIGN_IN_KINDS = frozenset(step.value for step in SIGN_IN)  # account notices that "Sign in now" clears
MAX_CODE_LENGTH = 40  # one-time codes are short; anything longer is not a code


def practice_today(request: Request) -> date:
    zone = getattr(context_of(request).settings, "timezone", "UTC")
    return datetime.now(ZoneInfo(zone)).date()


def parse_day(value: str | None, request: Request) -> date:
    if not value:
        return practice_today(request)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, "date must be YYYY-MM-DD") from None


def worklist_rows(request: Request, day: date) -> tuple[list[WorklistRow] | None, dict[str, int]]:
    """The batch's worklist (aggregator/overnight/worklist.py, owned by the batch); None while it is not installed."""
    try:
        from aggregator.overnight.worklist import state_counts, worklist
    except ImportError:
        return None, {}
    rows = worklist(context_of(request).repository, day)
    return rows, state_counts(rows)


# --- worklist and appointments ------------------------------------------------------------------------------

@router.get("/worklist")
async def worklist_page(request: Request, principal: Annotated[Principal, Depends(page(DESK))],
                        date: str | None = None, state: str | None = None) -> Response:
    day = parse_day(date, request)
    rows, counts = worklist_rows(request, day)
    access_log.record(request, principal, "view", "worklist", day.isoformat())
    shown = [r for r in rows or [] if not state or r.state == state]
    changed = [r for r in rows or [] if r.changes]
    return views.render(request, "worklist.html", day=day, rows=shown, counts=counts, state=state,
                        states=ITEM_STATES, changed=changed, available=rows is not None,
                        total=len(rows or []), warnings=account_warnings(request),
                        zone=context_of(request).settings.timezone, sign_in_kinds=SIGN_IN_KINDS,
                        action_links=action_links(request, principal, shown))


def action_links(request: Request, principal: Principal, rows: list[WorklistRow]) -> dict[str, tuple[str, str]]:
    """appointment id -> (link, its text) for items that wait for a person: the page where the person does it
    (the attended sign-in for a code; the account's admin page, for admins, for the account's problems)."""
    repository = context_of(request).repository
    links: dict[str, tuple[str, str]] = {}
    for row in rows:
        what = needed(row.reason_code) if row.state == "needs_human" else None
        if what is None or (what.where is not Where.SIGN_IN and principal.role != ADMIN):
            continue
        lookup = repository.get_lookup(row.eligibility_lookup_id or row.authorization_lookup_id or "")
        label = lookup.account_label if lookup is not None else None
        portal = (lookup.portal or lookup.carrier) if lookup is not None else (row.portal or row.carrier)
        text = "Sign in now" if what.where is Where.SIGN_IN else what.title
        if what.where is not Where.SIGN_IN or label:
            links[row.appointment_id] = (what.link(portal, label), text)
    return links


def account_warnings(request: Request) -> list[Any]:
    """What portals told the practice's accounts (a password expiring soon): portal, account and date only."""
    try:
        from aggregator.overnight.worklist import account_warnings as warnings_of
    except ImportError:
        return []
    return list(warnings_of(context_of(request).repository, practice_today(request)))


@router.get("/appointments/{appointment_id}")
async def appointment_page(request: Request, appointment_id: str,
                           principal: Annotated[Principal, Depends(page(DESK))]) -> Response:
    ctx = context_of(request)
    appointment = store.appointment(ctx.repository, appointment_id)
    if appointment is None:
        raise HTTPException(404, "no such appointment")
    access_log.record(request, principal, "view", "appointment", appointment_id)
    items = store.batch_items_for(ctx.repository, appointment_id)
    item = items[0] if items else None
    lookups = []
    if item is not None:
        for lookup_id in (item.eligibility_lookup_id, item.authorization_lookup_id):
            if lookup_id:
                lookups.append(lookup_view(request, principal, lookup_id))
    # The batch stores one authorization answer per procedure (or one for the visit) as a JSON list.
    stored = json.loads(item.auth_answer) if item and item.auth_answer else []
    auth_answers = stored if isinstance(stored, list) else [stored]
    return views.render(request, "appointment.html", appointment=appointment, item=item, items=items,
                        lookups=[lk for lk in lookups if lk], auth_answers=auth_answers,
                        changes=views.changes_of(item.changes) if item else [], rerunnable=RERUNNABLE)


@router.post("/worklist/items/{item_id}/rerun")
async def rerun(request: Request, item_id: str, principal: Annotated[Principal, Depends(form(DESK))]) -> Response:
    ctx = context_of(request)
    item = store.batch_item(ctx.repository, item_id)
    if item is None:
        raise HTTPException(404, "no such worklist item")
    try:
        from aggregator.overnight.batch import rerun_item
    except ImportError:
        raise HTTPException(503, "re-running needs the batch (aggregator/overnight/batch.py), which is not installed") from None
    if item.state not in RERUNNABLE:
        raise HTTPException(409, f"an item that is {item.state.replace('_', ' ')} is not re-run")
    runner = await ctx.runners.get()
    await rerun_item(runner, item_id)
    return RedirectResponse(f"/appointments/{item.appointment_id}", status_code=303)


# --- on-demand lookups -------------------------------------------------------------------------------------

def carriers() -> list[tuple[str, str, list[str]]]:
    """(payer slug, display name, the checks its portal's manifest declares): the form offers only those for a
    payer. Payers, not portals: a hub serving several payers is reached by naming the payer."""
    from aggregator.scrapers.routing import known_payers

    found = []
    for slug, entry in known_payers().items():
        manifest = manifest_of(slug)
        if manifest is not None:
            found.append((slug, entry.display_name, declared_checks(manifest)))
    return found


@router.get("/lookups/new")
async def lookup_form(request: Request, principal: Annotated[Principal, Depends(page(DESK))],
                      carrier: str | None = None) -> Response:
    # ?carrier=<slug> preselects a carrier (and so the checks offered) without the page's script.
    return views.render(request, "lookup_new.html", carriers=carriers(), checks=CHECKS,
                        values={"carrier": carrier} if carrier else {}, today=practice_today(request), error=None)


@router.post("/lookups")
async def start_lookup(request: Request, principal: Annotated[Principal, Depends(form(DESK))],
                       carrier: Annotated[str, Form()], member_id: Annotated[str, Form()],
                       date_of_birth: Annotated[str, Form()], service_date: Annotated[str, Form()],
                       checks: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default
                       last_name: Annotated[str, Form()] = "", service_type: Annotated[str, Form()] = "",
                       procedure: Annotated[str, Form()] = "") -> Response:
    values = {"carrier": carrier, "date_of_birth": date_of_birth, "service_date": service_date, "checks": checks,
              "service_type": service_type, "procedure": procedure}
    try:
        lookup = LookupRequest(carrier=carrier, member_id=member_id, date_of_birth=date_of_birth,
                               service_date=service_date, checks=checks, last_name=last_name,
                               service_type=service_type, procedure=procedure)
    except ValidationError as error:
        first = error.errors(include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]).replace("_", " ")
        return views.render(request, "lookup_new.html", status_code=422, carriers=carriers(), checks=CHECKS,
                            values=values, today=practice_today(request),
                            error=f"{where}: {first['msg'].removeprefix('Value error, ')}")
    job = context_of(request).jobs.start(lookup, principal.user.id)
    return RedirectResponse(f"/lookups/jobs/{job.id}", status_code=303)


def viewable_job(request: Request, principal: Principal, job_id: str, missing: str = "no such lookup job") -> LookupJob:
    """The job if this user started it; admins may see any job. Someone else's job is answered exactly like
    a missing one, so job ids cannot be probed."""
    job = context_of(request).jobs.get(job_id)
    if job is None or (job.user_id != principal.user.id and principal.role != ADMIN):
        raise HTTPException(404, missing)
    return job


@router.get("/lookups/jobs/{job_id}")
async def lookup_job(request: Request, job_id: str, principal: Annotated[Principal, Depends(page(DESK))]) -> Response:
    job = viewable_job(request, principal, job_id, "no such lookup job (with inline dispatch, jobs are kept in memory until the app restarts)")
    # The page shows the member id and the prior-auth answer: a view of PHI like any lookup page.
    access_log.record(request, principal, "view", "lookup_job", job_id)
    lookups = []
    if job.state in ("done", "failed"):
        lookups = [lk for lk in (lookup_view(request, principal, i) for i in job.lookup_ids.values()) if lk]
    return views.render(request, "lookup_job.html", job=job, status=job.status(), lookups=lookups,
                        steps=person_steps(principal, lookups), code_late=request.query_params.get("code") == "late")


@router.get("/lookups/jobs/{job_id}/status")
async def lookup_job_status(request: Request, job_id: str,
                            principal: Annotated[Principal, Depends(page(DESK))]) -> Response:
    # Progress only (state, step, counts, outcome codes, what the portal asks the person): no PHI, so polling
    # is not logged; still only for whoever may see the job.
    job = viewable_job(request, principal, job_id)
    return JSONResponse(job.status())


@router.post("/lookups/jobs/{job_id}/code")
async def lookup_job_code(request: Request, job_id: str, principal: Annotated[Principal, Depends(form(DESK))],
                          code: Annotated[str, Form(max_length=MAX_CODE_LENGTH)]) -> Response:
    # The code goes to the waiting sign-in and nowhere else: not logged, not stored, never shown again.
    job = viewable_job(request, principal, job_id)
    taken = job.person is not None and job.person.answer(code.strip())
    return RedirectResponse(f"/lookups/jobs/{job.id}" + ("" if taken else "?code=late"), status_code=303)


def person_steps(principal: Principal, lookups: list[dict[str, Any]]) -> list[dict[str, str | None]]:
    """What the person does about each lookup that ended waiting for one (human_steps.needed), with the page
    where they do it when they may open it."""
    from aggregator.overnight.worklist import portal_name

    steps = []
    for lk in lookups:
        row = lk["row"]
        what = needed(row.reason_code) if row.outcome == "needs_human" else None
        if what is None:
            continue
        portal = row.portal or row.carrier
        link = what.link(portal, row.account_label)
        may_open = what.where is Where.SIGN_IN or principal.role == ADMIN
        steps.append({"title": what.title, "action": what.action(portal_name(portal) or portal),
                      "link": link if may_open and (what.where is not Where.SIGN_IN or row.account_label) else None,
                      "link_text": "Sign in now" if what.where is Where.SIGN_IN else "Open"})
    return steps


# --- attended sign-in ("Sign in now") -----------------------------------------------------------------------

def signin_account(request: Request, portal: str, label: str) -> tuple[str, str, list[Any]]:
    """(the portal's display name, the account id, the account's current notices) of a vault account; 404
    when the vault has no such account (the portal and label come from the URL)."""
    from aggregator.scrapers.registry import adapter_for
    from aggregator.store import budgets

    ctx = context_of(request)
    try:
        name = adapter_for(portal).manifest.display_name
        account = next((a for a in ctx.vault().accounts(portal) if a.label == label), None)
    except AggregatorError:
        account = None
    if account is None:
        raise HTTPException(404, "no such portal account")
    notices = [n for n in budgets.notices(ctx.repository) if n.account_id == account.account_id]
    return name, account.account_id, notices


def viewable_signin(request: Request, principal: Principal, job_id: str) -> SignInJob:
    """As `viewable_job`: the user who started it, or an admin; anyone else is told it does not exist."""
    job = context_of(request).jobs.sign_ins.get(job_id)
    if job is None or (job.user_id != principal.user.id and principal.role != ADMIN):
        raise HTTPException(404, "no such sign-in (sign-ins are kept in memory until the app restarts)")
    return job


@router.get("/signin/jobs/{job_id}")
async def signin_job(request: Request, job_id: str, principal: Annotated[Principal, Depends(page(DESK))]) -> Response:
    job = viewable_signin(request, principal, job_id)
    what = needed(job.reason_code) if job.state == "failed" else None
    return views.render(request, "signin_job.html", job=job, status=job.status(),
                        what_to_do=what.action(job.portal_name) if what else None,
                        code_late=request.query_params.get("code") == "late")


@router.get("/signin/jobs/{job_id}/status")
async def signin_job_status(request: Request, job_id: str,
                            principal: Annotated[Principal, Depends(page(DESK))]) -> Response:
    return JSONResponse(viewable_signin(request, principal, job_id).status())


@router.post("/signin/jobs/{job_id}/code")
async def signin_job_code(request: Request, job_id: str, principal: Annotated[Principal, Depends(form(DESK))],
                          code: Annotated[str, Form(max_length=MAX_CODE_LENGTH)]) -> Response:
    job = viewable_signin(request, principal, job_id)
    taken = job.person.answer(code.strip())
    return RedirectResponse(f"/signin/jobs/{job.id}" + ("" if taken else "?code=late"), status_code=303)


# After /signin/jobs/{job_id}, which this path would otherwise match.
@router.get("/signin/{portal}/{label}")
async def signin_page(request: Request, portal: str, label: str,
                      principal: Annotated[Principal, Depends(page(DESK))]) -> Response:
    name, _, notices = signin_account(request, portal, label)
    reasons = [(needed(n.kind), n) for n in notices if n.kind in SIGN_IN_KINDS]
    return views.render(request, "signin.html", portal=portal, label=label, portal_name=name,
                        reasons=[(what.title, what.action(name), n.message) for what, n in reasons if what])


@router.post("/signin/{portal}/{label}")
async def start_signin(request: Request, portal: str, label: str,
                       principal: Annotated[Principal, Depends(form(DESK))]) -> Response:
    name, _, _ = signin_account(request, portal, label)
    job = context_of(request).jobs.sign_ins.start(portal, label, name, principal.user.id)
    if job.user_id != principal.user.id and principal.role != ADMIN:
        raise HTTPException(409, f"a sign-in of the {name} account “{label}” is already under way (started by "
                                 "someone else); try again when it has ended")
    return RedirectResponse(f"/signin/jobs/{job.id}", status_code=303)


@router.get("/lookups/{lookup_id}")
async def lookup_page(request: Request, lookup_id: str,
                      principal: Annotated[Principal, Depends(page(EVERYONE))]) -> Response:
    view = lookup_view(request, principal, lookup_id)
    if view is None:
        raise HTTPException(404, "no such lookup")
    return views.render(request, "lookup.html", lookup=view)


def lookup_view(request: Request, principal: Principal, lookup_id: str) -> dict[str, Any] | None:
    """A lookup with its records and evidence, for a page; the view is written to the access log."""
    repository = context_of(request).repository
    lookup = repository.get_lookup(lookup_id)
    if lookup is None:
        return None
    access_log.record(request, principal, "view", "lookup", lookup_id)
    return {"row": lookup, "records": views.answers(store.records_of_lookup(repository, lookup_id)),
            "evidence": repository.evidence_for_lookup(lookup_id), "changes": views.changes_of(lookup.changes)}


# --- evidence files --------------------------------------------------------------------------------------

def _evidence(request: Request, evidence_id: str) -> EvidenceRow:
    row = context_of(request).repository.evidence(evidence_id)
    if row is None:
        raise HTTPException(404, "no such evidence")
    return row


async def _read(request: Request, relative: str) -> bytes:
    """The file's bytes from the evidence store (directory or S3: aggregator/evidence_files.py), read off the
    event loop. Not checked against the chain here: the audit pages' "verify" does that."""
    files = context_of(request).files
    data = await run_in_threadpool(files.read, relative)
    if data is None:
        raise HTTPException(404, "the evidence file is missing from the store")
    return data


def sees_originals(principal: Principal) -> bool:
    """Admins and auditors see evidence as captured; everyone else a copy with the portal's masked places
    (the signed-in portal user, aggregator/evidence_mask.py) blacked out."""
    return principal.role in (ADMIN, AUDITOR)


@router.get("/evidence/{evidence_id}/screenshot")
async def evidence_screenshot(request: Request, evidence_id: str,
                              principal: Annotated[Principal, Depends(page(EVERYONE))]) -> Response:
    row = _evidence(request, evidence_id)
    if sees_originals(principal):
        data = await _read(request, row.screenshot_path)
        access_log.record(request, principal, "view_screenshot", "evidence", evidence_id)
        return Response(data, media_type="image/png")
    boxes = boxes_from_json(row.mask_boxes)
    if boxes is None:
        # Captured before masks were recorded (or the page could not be searched): no safe copy exists.
        raise HTTPException(404, "this screenshot has no masked copy for staff; an auditor or admin can view it")
    original = await _read(request, row.screenshot_path)
    access_log.record(request, principal, "view_screenshot_masked", "evidence", evidence_id)
    data = await run_in_threadpool(lambda: mask_png(original, boxes) if boxes else original)
    return Response(data, media_type="image/png")


@router.get("/evidence/{evidence_id}/html")
async def evidence_html(request: Request, evidence_id: str,
                        principal: Annotated[Principal, Depends(page(EVERYONE))]) -> Response:
    row = _evidence(request, evidence_id)
    original = await _read(request, row.html_path)
    if sees_originals(principal):
        access_log.record(request, principal, "view_html", "evidence", evidence_id)
        response = Response(original)
    else:
        access_log.record(request, principal, "view_html_masked", "evidence", evidence_id)
        rules = rules_for(row.carrier)
        text = await run_in_threadpool(lambda: mask_html(original.decode("utf-8", errors="replace"), rules))
        response = Response(text)
    # The portal's HTML is shown as text, never run on our origin.
    response.headers["content-type"] = "text/plain; charset=utf-8"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@router.get("/evidence/{evidence_id}/document")
async def evidence_document(request: Request, evidence_id: str,
                            principal: Annotated[Principal, Depends(page(EVERYONE))]) -> Response:
    row = _evidence(request, evidence_id)
    relative = getattr(row, "document_path", None)
    if not relative:
        raise HTTPException(404, "this evidence has no document")
    data = await _read(request, relative)
    access_log.record(request, principal, "view_document", "evidence", evidence_id)
    media = getattr(row, "document_media_type", None) or "application/octet-stream"
    response = Response(data, media_type=media)
    response.headers["Content-Disposition"] = f'attachment; filename="evidence-{row.id}{".pdf" if "pdf" in media else ""}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
