"""The JSON API under /api: lookups, worklist, records, evidence metadata, the access log.

Authenticated by per-user API tokens (`Authorization: Bearer <token>`, made with `aggregator users token`),
with the same role rules as the pages. Every read of records, evidence or the worklist is written to the
access log, as a page view is. The schema is served at /api/openapi.json (signed-in users only).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from aggregator.evidence import verify_entry
from aggregator.store import Repository
from aggregator.store import web as store
from aggregator.store.tables import EvidenceRow, LookupRow
from aggregator.web import access_log
from aggregator.web.auth import AUDIT, DESK, EVERYONE, Principal, api, context_of
from aggregator.web.lookups import LookupRequest
from aggregator.web.routes_audit import member_filter
from aggregator.web.routes_staff import (
    MAX_CODE_LENGTH,
    RERUNNABLE,
    signin_account,
    viewable_job,
    viewable_signin,
    worklist_rows,
)

router = APIRouter(prefix="/api", tags=["api"])


class Me(BaseModel):
    username: str
    display_name: str
    role: str


class Evidence(BaseModel):
    id: str
    seq: int
    lookup_id: str | None
    carrier: str
    account_label: str
    flow: str
    label: str
    url: str
    captured_at: datetime
    screenshot_sha256: str
    html_sha256: str
    document_sha256: str | None = None
    document_media_type: str | None = None
    prev_hash: str
    entry_hash: str
    screenshot_url: str

    @classmethod
    def of(cls, row: EvidenceRow) -> Evidence:
        return cls(id=row.id, seq=row.seq, lookup_id=row.lookup_id, carrier=row.carrier, account_label=row.account_label,
                   flow=row.flow, label=row.label, url=row.url, captured_at=store.as_utc(row.captured_at),
                   screenshot_sha256=row.screenshot_sha256, html_sha256=row.html_sha256,
                   document_sha256=getattr(row, "document_sha256", None),
                   document_media_type=getattr(row, "document_media_type", None),
                   prev_hash=row.prev_hash, entry_hash=row.entry_hash, screenshot_url=f"/evidence/{row.id}/screenshot")


class EvidenceDetail(Evidence):
    record_ids: list[str]


class Lookup(BaseModel):
    id: str
    flow: str
    carrier: str
    account_label: str | None
    member_id: str | None
    service_date: date | None
    source: str
    requested_at: datetime
    finished_at: datetime | None
    outcome: str | None
    reason: str | None
    reason_code: str | None
    changes: list[dict[str, Any]]
    records: list[dict[str, Any]]  # the normalized records (aggregator.models) as JSON
    evidence: list[Evidence]


class PersonPrompt(BaseModel):
    """What the portal's sign-in asks the person now: a code sent by text or e-mail (`code_by_text`,
    `code_by_email`: send it to the job's `code` endpoint), or a push request to approve on the phone
    (`push_approval`: nothing to send)."""

    step: str
    portal: str
    message: str  # the portal's words about where the code went (masked), never the code
    seconds_left: float


class Job(BaseModel):
    id: str
    state: str
    step: str
    done: int
    total: int
    outcomes: dict[str, str]
    lookup_ids: dict[str, str]
    error: str | None
    elapsed_seconds: float
    authorization_answer: dict[str, Any] | None = None
    # check -> {"reason", "call_the_payer"}: the carrier's portal cannot answer it, so it was not asked
    # (its outcome is "not_available").
    not_available: dict[str, dict[str, str]] = {}
    # While the portal's sign-in waits for the person (jobs run by the web process only; a queued job's
    # sign-in that needs a code ends "needs_human" instead): answer with POST /api/lookups/{id}/code.
    prompt: PersonPrompt | None = None
    person_message: str | None = None  # the last outcome told to the person, e.g. the code was not accepted


class Code(BaseModel):
    code: str = Field(min_length=1, max_length=MAX_CODE_LENGTH, description="the one-time code the portal sent")


class CodeAccepted(BaseModel):
    accepted: bool


class SignInRequest(BaseModel):
    portal: str = Field(min_length=1, max_length=40, description="the portal's slug, e.g. crossway")
    account: str = Field(min_length=1, max_length=120, description="the vault account's label, e.g. frontdesk")


class SignInJob(BaseModel):
    id: str
    state: str  # running, done (signed in), failed
    portal: str
    account: str
    signed_in: bool
    rerun: int  # blocked checks run again after the sign-in
    reason: str | None
    reason_code: str | None  # aggregator/human_steps.py HumanStep value when a person must act
    message: str | None
    elapsed_seconds: float
    prompt: PersonPrompt | None = None
    person_message: str | None = None


class Verification(BaseModel):
    evidence_id: str
    ok: bool
    problems: list[str]


class AccessEntry(BaseModel):
    at: datetime
    username: str
    role: str
    action: str
    object_type: str
    object_id: str
    client_ip: str | None


class Worklist(BaseModel):
    date: date
    counts: dict[str, int]
    rows: list[dict[str, Any]]  # aggregator.overnight.worklist.WorklistRow as JSON


class RerunResult(BaseModel):
    item_id: str
    state: str
    reason: str | None


@router.get("/openapi.json", summary="This API's OpenAPI schema")
async def openapi_schema(request: Request, principal: Annotated[Principal, Depends(api(EVERYONE))]) -> dict[str, Any]:
    app = request.app
    routes = [r for r in app.routes if isinstance(r, APIRoute) and r.path.startswith("/api/")]
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=routes)
    schema.setdefault("components", {})["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer"}}
    schema["security"] = [{"token": []}]
    return schema


@router.get("/me", response_model=Me, summary="Who this token belongs to")
async def me(principal: Annotated[Principal, Depends(api(EVERYONE))]) -> Me:
    return Me(username=principal.user.username, display_name=principal.user.display_name, role=principal.role)


@router.get("/worklist", response_model=Worklist, summary="The worklist for a date (default today)")
async def worklist(request: Request, principal: Annotated[Principal, Depends(api(DESK))], day: date | None = None) -> Worklist:
    from aggregator.web.routes_staff import practice_today

    day = day or practice_today(request)
    rows, counts = worklist_rows(request, day)
    if rows is None:
        raise HTTPException(503, "the worklist needs the batch (aggregator/overnight/worklist.py), which is not installed")
    access_log.record(request, principal, "api_read", "worklist", day.isoformat())
    return Worklist(date=day, counts=counts, rows=[json.loads(r.model_dump_json()) for r in rows])


@router.post("/worklist/items/{item_id}/rerun", response_model=RerunResult, summary="Re-run one worklist item now")
async def rerun(request: Request, item_id: str, principal: Annotated[Principal, Depends(api(DESK))]) -> RerunResult:
    ctx = context_of(request)
    item = store.batch_item(ctx.repository, item_id)
    if item is None:
        raise HTTPException(404, "no such worklist item")
    if item.state not in RERUNNABLE:
        raise HTTPException(409, f"an item that is {item.state} is not re-run")
    try:
        from aggregator.overnight.batch import rerun_item
    except ImportError:
        raise HTTPException(503, "re-running needs the batch (aggregator/overnight/batch.py), which is not installed") from None
    row = await rerun_item(await ctx.runners.get(), item_id)
    return RerunResult(item_id=row.id, state=row.state, reason=row.reason)


# OpenAPI examples of the asynchronous lookup API (a sample member of no real person).
LOOKUP_REQUEST_EXAMPLES: dict[str, Any] = {
    "eligibility": {"summary": "Eligibility for a visit", "value": {
        "carrier": "ridgeline", "member_id": "RM00001234", "date_of_birth": "1980-04-02",
        "service_date": "2026-12-01", "checks": ["eligibility"]}},
    "prior_auth": {"summary": "Eligibility and the prior-auth answer for an MRI", "value": {
        "carrier": "ridgeline", "member_id": "RM00001234", "date_of_birth": "1980-04-02",
        "service_date": "2026-12-01", "checks": ["eligibility", "authorizations"], "service_type": "62",
        "procedure": "70551"}},
}
JOB_EXAMPLES: dict[str, Any] = {
    "queued": {"summary": "Just started (the 202 answer)", "value": {
        "id": "5f0c3a9d2b7e4f1a8c6d0e2f4a6b8c0d", "state": "queued", "step": "waiting for the browser", "done": 0,
        "total": 1, "outcomes": {}, "lookup_ids": {}, "error": None, "elapsed_seconds": 0.0,
        "authorization_answer": None, "not_available": {}}},
    "waiting_for_code": {"summary": "The portal texted a code: send it to POST /api/lookups/{id}/code", "value": {
        "id": "5f0c3a9d2b7e4f1a8c6d0e2f4a6b8c0d", "state": "running", "step": "checking eligibility (1 of 1)",
        "done": 0, "total": 1, "outcomes": {}, "lookup_ids": {}, "error": None, "elapsed_seconds": 4.2,
        "authorization_answer": None, "not_available": {},
        "prompt": {"step": "code_by_text", "portal": "Crossway", "seconds_left": 287,
                   "message": "We sent a 6-digit code by text message to (•••) •••-0142."},
        "person_message": None}},
    "done": {"summary": "Finished (poll until state is done or failed)", "value": {
        "id": "5f0c3a9d2b7e4f1a8c6d0e2f4a6b8c0d", "state": "done", "step": "done", "done": 1, "total": 1,
        "outcomes": {"eligibility": "found"}, "lookup_ids": {"eligibility": "9a1b2c3d4e5f60718293a4b5c6d7e8f9"},
        "error": None, "elapsed_seconds": 6.4, "authorization_answer": None, "not_available": {}}},
}


@router.post("/lookups", response_model=Job, status_code=202, summary="Start an on-demand lookup",
             description="Answers 202 at once with the job (state `queued`) and a `Location` header naming "
                         "`/api/lookups/jobs/{id}`: poll that until `state` is `done` or `failed`, then read each "
                         "stored lookup at `/api/lookups/{lookup_id}`. Webhook endpoints subscribed to "
                         "`lookup.completed` are told when the job ends (docs/webhooks.md), so polling is optional.",
             responses={202: {"description": "The job, started", "headers": {"Location": {
                 "description": "where to poll the job", "schema": {"type": "string"}}},
                 "content": {"application/json": {"examples": {"queued": JOB_EXAMPLES["queued"]}}}}})
async def start_lookup(request: Request,
                       body: Annotated[LookupRequest, Body(openapi_examples=LOOKUP_REQUEST_EXAMPLES)],
                       principal: Annotated[Principal, Depends(api(DESK))], response: Response) -> Job:
    job = context_of(request).jobs.start(body, principal.user.id)
    response.headers["Location"] = f"/api/lookups/jobs/{job.id}"
    return Job(**job.status())


@router.get("/lookups/jobs/{job_id}", response_model=Job, summary="Progress and outcome of an on-demand lookup",
            description="The job started by `POST /api/lookups` (only its own user, or an admin, sees it; jobs are "
                        "kept in memory until the app restarts with inline dispatch, in the database with queue dispatch; the "
                        "lookups themselves stay in the database).",
            responses={200: {"content": {"application/json": {"examples": JOB_EXAMPLES}}}})
async def lookup_job(request: Request, job_id: str, principal: Annotated[Principal, Depends(api(DESK))]) -> Job:
    job = viewable_job(request, principal, job_id)
    access_log.record(request, principal, "api_read", "lookup_job", job_id)
    return Job(**job.status(), authorization_answer=job.auth_answer)


CODE_ANSWERS: dict[int | str, dict[str, Any]] = {
    202: {"description": "The code went to the waiting sign-in (poll the job for the outcome)"},
    409: {"description": "No code is being waited for (none was asked, or the job stopped waiting)"}}


@router.post("/lookups/{job_id}/code", response_model=CodeAccepted, status_code=202, responses=CODE_ANSWERS,
             summary="Answer the portal's one-time code for a lookup job's sign-in",
             description="While the job's `prompt` is a code step. The code is handed to the waiting sign-in "
                         "only: never stored, logged or returned.")
async def lookup_job_code(request: Request, job_id: str, body: Code,
                          principal: Annotated[Principal, Depends(api(DESK))]) -> CodeAccepted:
    job = viewable_job(request, principal, job_id)
    if job.person is None or not job.person.answer(body.code.strip()):
        raise HTTPException(409, "no code is being waited for")
    return CodeAccepted(accepted=True)


@router.post("/signin", response_model=SignInJob, status_code=202, summary="Start an attended sign-in of a portal account",
             description="Signs the account in with a person in the loop: poll `GET /api/signin/{id}`; while its "
                         "`prompt` asks for a code, send it with `POST /api/signin/{id}/code`. On success the "
                         "account's blocked checks run again (`rerun`). Answers 202 with a `Location` header.")
async def start_signin(request: Request, body: SignInRequest, principal: Annotated[Principal, Depends(api(DESK))],
                       response: Response) -> SignInJob:
    name, _, _ = signin_account(request, body.portal, body.account)
    job = context_of(request).jobs.sign_ins.start(body.portal, body.account, name, principal.user.id)
    if job.user_id != principal.user.id and principal.role != "admin":
        raise HTTPException(409, "a sign-in of this account is already under way (started by someone else)")
    response.headers["Location"] = f"/api/signin/{job.id}"
    return SignInJob(**job.status())


@router.get("/signin/{job_id}", response_model=SignInJob, summary="Progress and outcome of an attended sign-in")
async def signin_job(request: Request, job_id: str, principal: Annotated[Principal, Depends(api(DESK))]) -> SignInJob:
    return SignInJob(**viewable_signin(request, principal, job_id).status())


@router.post("/signin/{job_id}/code", response_model=CodeAccepted, status_code=202, responses=CODE_ANSWERS,
             summary="Answer the portal's one-time code for an attended sign-in")
async def signin_job_code(request: Request, job_id: str, body: Code,
                          principal: Annotated[Principal, Depends(api(DESK))]) -> CodeAccepted:
    if not viewable_signin(request, principal, job_id).person.answer(body.code.strip()):
        raise HTTPException(409, "no code is being waited for")
    return CodeAccepted(accepted=True)


@router.get("/lookups/{lookup_id}", response_model=Lookup, summary="A lookup with its records and evidence")
async def lookup(request: Request, lookup_id: str, principal: Annotated[Principal, Depends(api(EVERYONE))]) -> Lookup:
    repository = context_of(request).repository
    row = repository.get_lookup(lookup_id)
    if row is None:
        raise HTTPException(404, "no such lookup")
    access_log.record(request, principal, "api_read", "lookup", lookup_id)
    return _lookup(repository, row)


def _lookup(repository: Repository, row: LookupRow) -> Lookup:
    return Lookup(
        id=row.id, flow=row.flow, carrier=row.carrier, account_label=row.account_label, member_id=row.member_id,
        service_date=row.service_date, source=row.source, requested_at=store.as_utc(row.requested_at),
        finished_at=store.as_utc(row.finished_at) if row.finished_at else None, outcome=row.outcome,
        reason=row.reason, reason_code=row.reason_code, changes=json.loads(row.changes) if row.changes else [],
        records=[json.loads(r.payload) for r in store.records_of_lookup(repository, row.id)],
        evidence=[Evidence.of(e) for e in repository.evidence_for_lookup(row.id)],
    )


@router.get("/evidence", response_model=list[Evidence], summary="Find evidence by date, carrier, member, flow")
async def find_evidence(request: Request, principal: Annotated[Principal, Depends(api(AUDIT))],
                        date_from: date | None = None, date_to: date | None = None, carrier: str | None = None,
                        member_id: str | None = None, flow: str | None = None, limit: int = 200) -> list[Evidence]:
    found = store.find_evidence(context_of(request).repository, date_from=date_from, date_to=date_to, carrier=carrier,
                                member_id=member_filter(member_id), flow=flow,
                                limit=max(1, min(limit, 1000)))
    access_log.record(request, principal, "api_search", "evidence", f"{len(found)} results")
    return [Evidence.of(e) for e, _ in found]


@router.get("/evidence/{evidence_id}", response_model=EvidenceDetail, summary="One evidence entry's metadata")
async def evidence(request: Request, evidence_id: str, principal: Annotated[Principal, Depends(api(AUDIT))]) -> EvidenceDetail:
    repository = context_of(request).repository
    row = repository.evidence(evidence_id)
    if row is None:
        raise HTTPException(404, "no such evidence")
    access_log.record(request, principal, "api_read", "evidence", evidence_id)
    records = [r.id for r in store.records_backed_by(repository, evidence_id)]
    return EvidenceDetail(**Evidence.of(row).model_dump(), record_ids=records)


@router.post("/evidence/{evidence_id}/verify", response_model=Verification,
             summary="Recompute this entry's file hashes, entry hash and link to the previous entry")
async def verify(request: Request, evidence_id: str, principal: Annotated[Principal, Depends(api(AUDIT))]) -> Verification:
    ctx = context_of(request)
    row = ctx.repository.evidence(evidence_id)
    if row is None:
        raise HTTPException(404, "no such evidence")
    previous = store.previous_evidence(ctx.repository, row.seq)
    problems = await run_in_threadpool(verify_entry, row, previous, ctx.files)  # reads the store: off the loop
    access_log.record(request, principal, "verify", "evidence", evidence_id)
    return Verification(evidence_id=evidence_id, ok=not problems, problems=[f"entry {p.seq}: {p.problem}" for p in problems])


@router.get("/access-log", response_model=list[AccessEntry], summary="Who viewed which evidence or PHI, when")
async def access_log_entries(request: Request, principal: Annotated[Principal, Depends(api(AUDIT))],
                             username: str | None = None, object_type: str | None = None,
                             object_id: str | None = None, limit: int = 200) -> list[AccessEntry]:
    rows = store.access_log(context_of(request).repository, username=username, object_type=object_type,
                            object_id=object_id, limit=max(1, min(limit, 5000)))
    return [AccessEntry(at=store.as_utc(r.at), username=r.username, role=r.role, action=r.action,
                        object_type=r.object_type, object_id=r.object_id, client_ip=r.client_ip) for r in rows]
