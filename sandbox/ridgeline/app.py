"""Ridgeline Mutual provider portal: a server-rendered portal of the 2000s (FastAPI + Jinja2).

Flow: /login (form + hidden CSRF token) -> /mfa (TOTP, single use) -> [/captcha when that fault is on]
-> /home -> /eligibility (member search) -> benefits page. Sessions live on the server behind the
RMSESSIONID cookie and expire after `idle_timeout_seconds` of inactivity (-> /login?expired=1).
Redirects are 302, as the servlet containers of the time sent them.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from aggregator.models import EligibilityQuery, MemberNotFound, RejectReason, normalize_member_id
from sandbox import ground_truth
from sandbox.control import control_router, install_faults
from sandbox.dataset import Dataset
from sandbox.portal_state import PortalState, Session, Stage
from sandbox.ridgeline import vocabulary as v
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
        answer = ground_truth.eligibility(dataset, CARRIER, query)
        if isinstance(answer, MemberNotFound):
            return again(REJECT_MESSAGES[answer.reject_reason])
        layout = state.faults.layout_version
        view = build_view(answer, state.data, layout)
        return render(request, "benefits.html" if layout == "v1" else "benefits_v2.html", session=session,
                      view=view)

    return app


def _parse_date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        return None
