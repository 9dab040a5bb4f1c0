"""Ridgeline Mutual provider portal: a server-rendered portal of the 2000s (FastAPI + Jinja2).

Flow: /login (form + hidden CSRF token) -> /mfa (TOTP, single use) -> [/captcha when that fault is on]
-> /home -> /eligibility (member search) -> benefits page; /authorizations (member search) -> list ->
/authorizations/<number>; /claims (claim number, or member + service dates) -> /claims/results?sid=&page=
(10 per page) -> /claims/<number>. Pages render from the state's current dataset (run-time changes). Sessions live on the server behind the
RMSESSIONID cookie and expire after `idle_timeout_seconds` of inactivity (-> /login?expired=1).
Redirects are 302, as the servlet containers of the time sent them.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from aggregator.models import EligibilityQuery, MemberNotFound, RejectReason, normalize_member_id
from aggregator.models.claims import ClaimQuery
from sandbox import ground_truth
from sandbox.control import control_router, install_faults
from sandbox.dataset import Dataset, MemberData
from sandbox.portal_state import PortalState, Session, Stage
from sandbox.ridgeline import vocabulary as v
from sandbox.ridgeline.activity_view import auth_detail_view, auth_list_view, claim_detail_view, claim_results_view
from sandbox.ridgeline.benefits_view import build_view

CARRIER = "ridgeline"
TEMPLATES = Path(__file__).parent / "templates"
STAGE_PAGE: dict[Stage, str] = {"anonymous": "/login", "mfa": "/mfa", "captcha": "/captcha", "auth": "/home"}
_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
REJECT_MESSAGES = {
    RejectReason.NOT_FOUND: v.MSG_NOT_FOUND,
    RejectReason.DOB_MISMATCH: v.MSG_DOB_MISMATCH,
    RejectReason.INVALID_NAME: v.MSG_NAME_MISMATCH,
}

_SERVER_ERRORS = {
    # What the layers in front of a real portal send: the app server, the proxy, the load balancer.
    500: ("HTTP Status 500 - Internal Server Error",
          ("<h1>HTTP Status 500 - Internal Server Error</h1><hr><p><b>type</b> Exception report</p>"
           "<p><b>description</b> The server encountered an internal error that prevented it from "
           "fulfilling this request.</p><hr><h3>Apache Tomcat/5.5.23</h3>")),
    502: ("502 Bad Gateway", "<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>"),
    503: ("503 Service Temporarily Unavailable",
          ("<h1>Service Temporarily Unavailable</h1><p>The server is temporarily unable to service your "
           "request due to maintenance downtime or capacity problems. Please try again later.</p>")),
}


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


def create_app(dataset: Dataset, state: PortalState | None = None) -> FastAPI:
    state = state or PortalState(dataset, CARRIER)
    if state.dataset is not dataset or state.carrier != CARRIER:
        raise ValueError("the portal state must belong to this dataset and to the ridgeline carrier")
    app = FastAPI(title="Ridgeline Mutual Provider Portal (sandbox)", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.portal = state
    templates = Jinja2Templates(directory=str(TEMPLATES))
    provider = dataset.provider

    def render(request: Request, template: str, *, session: Session | None = None, status: int = 200,
               **context: Any) -> HTMLResponse:
        logged_in = session is not None and session.stage == "auth"
        context.update(v=v, nav=logged_in, username=session.username if logged_in and session else None,
                       provider=provider)
        return templates.TemplateResponse(request, template, context, status_code=status)

    class Pages:
        def maintenance(self, request: Request, until: str) -> Response:
            # 200, not 503: many real portals serve their maintenance notice as an ordinary page, so
            # an adapter must recognise it by content, not by status.
            return render(request, "maintenance.html", until=until)

        def server_error(self, request: Request, status: int) -> Response:
            title, body = _SERVER_ERRORS[status]
            return HTMLResponse(f"<html><head><title>{title}</title></head><body>{body}</body></html>",
                                status_code=status)

        def too_many_requests(self, request: Request) -> Response:
            response = render(request, "message.html", status=429, title="Too Many Requests",
                              message=v.MSG_TOO_MANY, link=None)
            response.headers["Retry-After"] = "60"
            return response

    install_faults(app, state, Pages(), v.SESSION_COOKIE)
    app.include_router(control_router(state))

    @app.exception_handler(_Redirect)
    async def redirect(request: Request, exc: _Redirect) -> Response:
        return RedirectResponse(exc.location, status_code=302)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # The portal answers unknown pages with its own HTML page, not FastAPI's JSON.
        title = "Page Not Found" if exc.status_code == 404 else "Request Error"
        return render(request, "message.html", status=exc.status_code, title=title,
                      message=v.MSG_PAGE_NOT_FOUND if exc.status_code == 404 else v.MSG_BAD_REQUEST,
                      link=("/home", "Return to Home"))

    def require(request: Request, stage: Stage) -> Session:
        session, expired = state.lookup(request.cookies.get(v.SESSION_COOKIE))
        if session is None:
            raise _Redirect("/login?expired=1" if expired else "/login")
        if session.stage != stage:
            raise _Redirect(STAGE_PAGE[session.stage])
        return session

    def with_cookie(response: Response, session: Session) -> Response:
        response.set_cookie(v.SESSION_COOKIE, session.id, httponly=True, samesite="lax", path="/")
        return response

    def csrf_ok(session: Session, form: Any) -> bool:
        token = form.get("csrfToken")
        if isinstance(token, str) and secrets.compare_digest(token.encode(), session.csrf.encode()):
            return True
        state.note_csrf_rejection()
        return False

    def csrf_error(request: Request) -> Response:
        return render(request, "message.html", status=403, title="Request Error", message=v.MSG_CSRF,
                      link=("/login", "Return to Login"))

    def login_page(request: Request, message: str | None, status: int = 200) -> Response:
        state.drop_session(request.cookies.get(v.SESSION_COOKIE))  # a login page starts a new session
        session = state.new_session()
        return with_cookie(render(request, "login.html", csrf=session.csrf, message=message, status=status),
                           session)

    # --- login -----------------------------------------------------------------------------------

    @app.get("/")
    def root(request: Request) -> Response:
        session, _ = state.lookup(request.cookies.get(v.SESSION_COOKIE))
        return RedirectResponse(STAGE_PAGE[session.stage] if session else "/login", status_code=302)

    @app.get("/login")
    def login_form(request: Request) -> Response:
        return login_page(request, v.MSG_EXPIRED if request.query_params.get("expired") == "1" else None)

    @app.post("/login")
    async def login_submit(request: Request) -> Response:
        form = await request.form()
        session, expired = state.lookup(request.cookies.get(v.SESSION_COOKIE))
        if session is None and expired:
            raise _Redirect("/login?expired=1")
        if session is None or not csrf_ok(session, form):
            return csrf_error(request)
        username = str(form.get("username") or "").strip()
        request.state.username = username or None
        result = state.check_password(username, str(form.get("password") or ""))
        if result != "ok":
            return login_page(request, v.MSG_LOCKED if result == "locked" else v.MSG_INVALID_LOGIN)
        state.drop_session(session.id)  # new id after authentication (no session fixation)
        return with_cookie(RedirectResponse("/mfa", status_code=302), state.new_session("mfa", username))

    @app.get("/mfa")
    def mfa_form(request: Request) -> Response:
        session = require(request, "mfa")
        return render(request, "mfa.html", csrf=session.csrf, message=None)

    @app.post("/mfa")
    async def mfa_submit(request: Request) -> Response:
        session = require(request, "mfa")
        form = await request.form()
        if not csrf_ok(session, form):
            return csrf_error(request)
        assert session.username is not None
        result = state.check_totp(session.username, str(form.get("otp") or "").strip())
        if result != "ok":
            message = v.MSG_MFA_REUSED if result == "reused" else v.MSG_MFA_INVALID
            return render(request, "mfa.html", csrf=session.csrf, message=message)
        next_stage: Stage = "captcha" if state.faults.captcha else "auth"
        state.set_stage(session, next_stage)
        raise _Redirect(STAGE_PAGE[next_stage])

    @app.get("/captcha")
    def captcha_form(request: Request) -> Response:
        session = require(request, "captcha")
        return render(request, "captcha.html", csrf=session.csrf, message=None)

    @app.post("/captcha")
    async def captcha_submit(request: Request) -> Response:
        session = require(request, "captcha")
        form = await request.form()
        if not csrf_ok(session, form):
            return csrf_error(request)
        if not form.get("notRobot"):
            return render(request, "captcha.html", csrf=session.csrf, message=v.MSG_CAPTCHA)
        state.set_stage(session, "auth")
        raise _Redirect("/home")

    @app.get("/logout")
    def logout(request: Request) -> Response:
        return login_page(request, v.MSG_LOGGED_OUT)

    # --- portal pages ----------------------------------------------------------------------------

    @app.get("/home")
    def home(request: Request) -> Response:
        session = require(request, "auth")
        return render(request, "home.html", session=session)

    @app.get("/eligibility")
    def search_form(request: Request) -> Response:
        session = require(request, "auth")
        return render(request, "search.html", session=session, csrf=session.csrf, message=None,
                      form={"memberId": "", "dob": "", "lastName": "", "dos": v.fmt_date(state.today)})

    @app.post("/eligibility")
    async def search_submit(request: Request) -> Response:
        session = require(request, "auth")
        form = await request.form()
        if not csrf_ok(session, form):
            return csrf_error(request)
        fields = {k: str(form.get(k) or "").strip() for k in ("memberId", "dob", "lastName", "dos")}

        def again(message: str) -> Response:
            return render(request, "search.html", session=session, csrf=session.csrf, message=message, form=fields)

        if not fields["memberId"]:
            return again(v.MSG_MEMBER_ID_REQUIRED)
        if not fields["dob"]:
            return again(v.MSG_DOB_REQUIRED)
        dob = _parse_date(fields["dob"])
        if dob is None:
            return again(v.MSG_DOB_FORMAT)
        service_date = _parse_date(fields["dos"]) if fields["dos"] else state.today
        if service_date is None:
            return again(v.MSG_DOS_FORMAT)
        try:
            member_id = normalize_member_id(fields["memberId"])
        except ValueError:
            return again(v.MSG_NOT_FOUND)  # not an id at all: nobody has it
        query = EligibilityQuery(member_id=member_id, date_of_birth=dob, service_date=service_date,
                                 last_name=fields["lastName"] or None)
        answer = ground_truth.eligibility(state, CARRIER, query)
        if isinstance(answer, MemberNotFound):
            return again(REJECT_MESSAGES[answer.reject_reason])
        layout = state.faults.layout_version
        view = build_view(answer, state.current_dataset().carrier(CARRIER), layout)
        return render(request, "benefits.html" if layout == "v1" else "benefits_v2.html", session=session,
                      view=view)

    # --- authorizations --------------------------------------------------------------------------

    def member_of(member_id: str) -> MemberData:
        member = state.current_dataset().carrier(CARRIER).member(member_id)
        assert member is not None
        return member

    @app.get("/authorizations")
    def auth_search_form(request: Request) -> Response:
        session = require(request, "auth")
        return render(request, "auth_search.html", session=session, csrf=session.csrf, message=None,
                      form={"memberId": "", "dob": ""})

    @app.post("/authorizations")
    async def auth_search_submit(request: Request) -> Response:
        session = require(request, "auth")
        form = await request.form()
        if not csrf_ok(session, form):
            return csrf_error(request)
        fields = {k: str(form.get(k) or "").strip() for k in ("memberId", "dob")}

        def again(message: str) -> Response:
            return render(request, "auth_search.html", session=session, csrf=session.csrf, message=message,
                          form=fields)

        checked = _member_fields(fields["memberId"], fields["dob"])
        if isinstance(checked, str):
            return again(checked)
        member_id, dob = checked
        answer = ground_truth.authorizations(state, CARRIER, member_id, dob)
        if isinstance(answer, RejectReason):
            return again(REJECT_MESSAGES[answer])
        return render(request, "auth_list.html", session=session,
                      view=auth_list_view(member_of(member_id), answer))

    @app.get("/authorizations/{auth_number}")
    def auth_detail(request: Request, auth_number: str) -> Response:
        session = require(request, "auth")
        auth = ground_truth.authorization(state, CARRIER, auth_number.strip().upper())
        if auth is None:
            return render(request, "message.html", session=session, status=404, title="Authorization Not Found",
                          message=v.MSG_AUTH_NOT_FOUND, link=("/authorizations", "Return to Authorization Search"))
        layout = state.faults.layout_version
        view = auth_detail_view(auth, member_of(auth.member_id), layout)
        return render(request, "auth_detail.html" if layout == "v1" else "auth_detail_v2.html", session=session,
                      view=view)

    # --- claims ----------------------------------------------------------------------------------

    def claim_form_defaults() -> dict[str, str]:
        return {"claimNumber": "", "memberId": "", "dob": "",
                "fromDate": v.fmt_date(state.today - timedelta(days=365)), "toDate": v.fmt_date(state.today)}

    @app.get("/claims")
    def claim_search_form(request: Request) -> Response:
        session = require(request, "auth")
        return render(request, "claim_search.html", session=session, csrf=session.csrf, message=None,
                      form=claim_form_defaults())

    @app.post("/claims")
    async def claim_search_submit(request: Request) -> Response:
        session = require(request, "auth")
        form = await request.form()
        if not csrf_ok(session, form):
            return csrf_error(request)
        fields = {k: str(form.get(k) or "").strip() for k in ("claimNumber", "memberId", "dob", "fromDate", "toDate")}

        def again(message: str) -> Response:
            return render(request, "claim_search.html", session=session, csrf=session.csrf, message=message,
                          form=fields)

        search = _claim_search(fields)
        if isinstance(search, str):
            return again(search)
        answer = ground_truth.claims(state, CARRIER, _claim_query(search))
        if isinstance(answer, RejectReason):
            return again(REJECT_MESSAGES[answer])
        sid = secrets.token_hex(6)
        state.remember_search(session, sid, search)
        raise _Redirect(f"/claims/results?sid={sid}&page=1")

    @app.get("/claims/results")
    def claim_results(request: Request) -> Response:
        session = require(request, "auth")
        sid = request.query_params.get("sid", "")
        search = session.searches.get(sid)
        if search is None:
            return render(request, "message.html", session=session, status=200, title="Claim Status Results",
                          message=v.MSG_SEARCH_EXPIRED, link=("/claims", "Return to Claim Status Search"))
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 1
        answer = ground_truth.claims(state, CARRIER, _claim_query(search))
        if isinstance(answer, RejectReason):  # the member went away (cannot happen with run-time changes)
            return render(request, "message.html", session=session, title="Claim Status Results",
                          message=REJECT_MESSAGES[answer], link=("/claims", "Return to Claim Status Search"))
        if search["claim_number"]:
            criteria: tuple[tuple[str, Any], ...] = ((v.CLAIM_LABELS["number"], search["claim_number"]),)
        else:
            member = member_of(search["member_id"])
            criteria = ((v.AUTH_MEMBER_LABELS["name"], v.fmt_name(member.first_name, member.last_name)),
                        (v.AUTH_MEMBER_LABELS["member_id"], member.member_id),
                        (v.CLAIM_LABELS["dates"], v.fmt_date_range(date.fromisoformat(search["from"]),
                                                                   date.fromisoformat(search["to"]))))
        view = claim_results_view(answer.claims, criteria, page, f"/claims/results?sid={sid}")
        return render(request, "claim_results.html", session=session, view=view)

    @app.get("/claims/{claim_number}")
    def claim_detail(request: Request, claim_number: str) -> Response:
        session = require(request, "auth")
        found = ground_truth.claim(state, CARRIER, _clean_number(claim_number))
        if found is None:
            return render(request, "message.html", session=session, status=404, title="Claim Not Found",
                          message=v.MSG_CLAIM_NOT_FOUND, link=("/claims", "Return to Claim Status Search"))
        layout = state.faults.layout_version
        view = claim_detail_view(found, member_of(found.member_id), layout)
        return render(request, "claim_detail.html" if layout == "v1" else "claim_detail_v2.html", session=session,
                      view=view)

    return app


def _clean_number(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def _member_fields(member_id_text: str, dob_text: str) -> tuple[str, date] | str:
    """(normalized member id, DOB), or the message the search page shows."""
    if not member_id_text:
        return v.MSG_MEMBER_ID_REQUIRED
    if not dob_text:
        return v.MSG_DOB_REQUIRED
    dob = _parse_date(dob_text)
    if dob is None:
        return v.MSG_DOB_FORMAT
    try:
        return normalize_member_id(member_id_text), dob
    except ValueError:
        return v.MSG_NOT_FOUND  # not an id at all: nobody has it


def _claim_search(fields: dict[str, str]) -> dict[str, str] | str:
    """The validated claim search (ISO dates), or the message the search page shows. A claim number
    and a member id together are refused; the prefilled dates alone do not make a member search."""
    number = _clean_number(fields["claimNumber"])
    if number and (fields["memberId"] or fields["dob"]):
        return v.MSG_CLAIM_BOTH
    if number:
        return {"claim_number": number, "member_id": "", "dob": "", "from": "", "to": ""}
    if not fields["memberId"] and not fields["dob"]:
        return v.MSG_CLAIM_CRITERIA
    checked = _member_fields(fields["memberId"], fields["dob"])
    if isinstance(checked, str):
        return checked
    member_id, dob = checked
    if not fields["fromDate"]:
        return v.MSG_FROM_REQUIRED
    start = _parse_date(fields["fromDate"])
    if start is None:
        return v.MSG_FROM_FORMAT
    if not fields["toDate"]:
        return v.MSG_TO_REQUIRED
    end = _parse_date(fields["toDate"])
    if end is None:
        return v.MSG_TO_FORMAT
    if end < start:
        return v.MSG_RANGE_ORDER
    return {"claim_number": "", "member_id": member_id, "dob": dob.isoformat(), "from": start.isoformat(),
            "to": end.isoformat()}


def _claim_query(search: dict[str, str]) -> ClaimQuery:
    if search["claim_number"]:
        return ClaimQuery(claim_number=search["claim_number"])
    return ClaimQuery(member_id=search["member_id"], date_of_birth=date.fromisoformat(search["dob"]),
                      service_from=date.fromisoformat(search["from"]), service_to=date.fromisoformat(search["to"]))


def _parse_date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        return None
