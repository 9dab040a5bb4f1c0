"""Summit Health Plan's sandbox provider portal (FastAPI): the smallest portal an adapter can be written against.

Flow: /login (user name + password, hidden CSRF token) -> /mfa (TOTP, single use) -> /home ->
/eligibility (member search) -> the benefits page, or the search again with a message. Pages render
from the state's current dataset; sessions live behind the SUMMITSESSION cookie and expire after
`idle_timeout_seconds` of inactivity (-> /login?expired=1). The `/_sandbox/*` controls and faults
(maintenance, errors, latency, rate limit, layout v2) are the ones every sandbox portal shares.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from aggregator.models import EligibilityQuery, MemberNotFound, RejectReason, normalize_member_id
from sandbox import ground_truth
from sandbox.control import control_router, install_faults
from sandbox.dataset import Dataset
from sandbox.portal_state import PortalState, Session, Stage

from . import views
from . import vocabulary as v

CARRIER = "summit"
STAGE_PAGE: dict[Stage, str] = {"anonymous": "/login", "mfa": "/mfa", "captcha": "/mfa", "interstitial": "/home",
                                "auth": "/home"}
REJECT_MESSAGES = {RejectReason.NOT_FOUND: v.MSG_NOT_FOUND, RejectReason.DOB_MISMATCH: v.MSG_DOB_MISMATCH,
                   RejectReason.INVALID_NAME: v.MSG_NAME_MISMATCH}


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


def create_app(dataset: Dataset, state: PortalState | None = None) -> FastAPI:
    state = state or PortalState(dataset, CARRIER)
    if state.dataset is not dataset or state.carrier != CARRIER:
        raise ValueError(f"the portal state must belong to this dataset and to the {CARRIER} carrier")
    app = FastAPI(title=f"{v.PORTAL_NAME} Provider Portal (sandbox)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = state

    def html(text: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(text, status_code=status)

    class Pages:
        def maintenance(self, request: Request, until: str) -> Response:
            return html(views.maintenance(until))  # 200: an adapter recognises it by content

        def server_error(self, request: Request, status: int) -> Response:
            return html(views.notice("Server Error", "The server could not complete the request."), status)

        def too_many_requests(self, request: Request) -> Response:
            response = html(views.notice("Too Many Requests", v.MSG_TOO_MANY), 429)
            response.headers["Retry-After"] = "60"
            return response

    install_faults(app, state, Pages(), v.SESSION_COOKIE)
    app.include_router(control_router(state))

    @app.exception_handler(_Redirect)
    async def redirect(request: Request, exc: _Redirect) -> Response:
        return RedirectResponse(exc.location, status_code=302)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return html(views.notice("Page Not Found", v.MSG_PAGE_NOT_FOUND), exc.status_code)

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

    def csrf_ok(session: Session | None, form: Any) -> bool:
        token = form.get("csrfToken")
        if session is not None and isinstance(token, str) and secrets.compare_digest(token.encode(),
                                                                                     session.csrf.encode()):
            return True
        state.note_csrf_rejection()
        return False

    def login_page(request: Request, said: str | None) -> Response:
        state.drop_session(request.cookies.get(v.SESSION_COOKIE))  # a login page starts a new session
        session = state.new_session()
        return with_cookie(html(views.login(session.csrf, said)), session)

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
        session, _ = state.lookup(request.cookies.get(v.SESSION_COOKIE))
        if not csrf_ok(session, form):
            return login_page(request, v.MSG_EXPIRED)
        username = str(form.get("username") or "").strip()
        request.state.username = username or None
        result = state.check_password(username, str(form.get("password") or ""))
        if result != "ok":
            return login_page(request, v.MSG_LOCKED if result == "locked" else v.MSG_INVALID_LOGIN)
        assert session is not None
        state.drop_session(session.id)  # a new session id once the password is right (no session fixation)
        return with_cookie(RedirectResponse("/mfa", status_code=302), state.new_session("mfa", username))

    @app.get("/mfa")
    def mfa_form(request: Request) -> Response:
        session = require(request, "mfa")
        return html(views.verification(session.csrf, None))

    @app.post("/mfa")
    async def mfa_submit(request: Request) -> Response:
        session = require(request, "mfa")
        form = await request.form()
        if not csrf_ok(session, form):
            return login_page(request, v.MSG_EXPIRED)
        assert session.username is not None
        result = state.check_totp(session.username, str(form.get("code") or "").strip())
        if result != "ok":
            return html(views.verification(session.csrf, v.MSG_CODE_REUSED if result == "reused" else v.MSG_CODE_INVALID))
        state.set_stage(session, "auth")
        raise _Redirect("/home")

    @app.get("/logout")
    def logout(request: Request) -> Response:
        return login_page(request, v.MSG_LOGGED_OUT)

    @app.get("/home")
    def home(request: Request) -> Response:
        session = require(request, "auth")
        return html(views.home(session.username or "", dataset.provider.practice_name))

    @app.get("/eligibility")
    def search_form(request: Request) -> Response:
        session = require(request, "auth")
        return html(views.search(session.username or "", session.csrf, None, {"dos": v.fmt_date(state.today)}))

    @app.post("/eligibility")
    async def search_submit(request: Request) -> Response:
        session = require(request, "auth")
        form = await request.form()
        if not csrf_ok(session, form):
            return login_page(request, v.MSG_EXPIRED)
        fields = {k: str(form.get(k) or "").strip() for k in ("memberId", "dob", "lastName", "dos")}

        def again(said: str) -> Response:
            return html(views.search(session.username or "", session.csrf, said, fields))

        if not fields["memberId"] or not fields["dob"]:
            return again(v.MSG_REQUIRED)
        dob, service_date = _day(fields["dob"]), _day(fields["dos"]) if fields["dos"] else state.today
        if dob is None or service_date is None:
            return again(v.MSG_DATE_FORMAT)
        try:
            member_id = normalize_member_id(fields["memberId"])
        except ValueError:
            return again(v.MSG_NOT_FOUND)  # not an id at all: nobody has it
        query = EligibilityQuery(member_id=member_id, date_of_birth=dob, service_date=service_date,
                                 last_name=fields["lastName"] or None)
        answer = ground_truth.eligibility(state, CARRIER, query)
        if isinstance(answer, MemberNotFound):
            return again(REJECT_MESSAGES[answer.reject_reason])
        data = state.current_dataset().carrier(CARRIER)
        return html(views.benefits(answer, data, state.faults.layout_version, session.username or ""))

    return app


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        return None
