"""Cascade Care Provider Connect: a frameset portal with ASP.NET-style postbacks (FastAPI + Jinja2).

`/Default.aspx` is a frameset: a banner frame and the `main` frame where everything happens. Every
page is one `<form id="form1">` posting back to itself with `__VIEWSTATE` (signed per session: a
tampered or foreign one is the classic "Validation of viewstate MAC failed" error page, HTTP 500),
`__EVENTTARGET` and `__EVENTARGUMENT` (set by `__doPostBack` links).

Login: /Login.aspx (user name + password) -> [expired password: /PasswordExpired.aspx, the end] ->
/SecurityQuestion.aspx (one of the account's three questions) -> [/Captcha.aspx when that fault is on]
-> [/Announcement.aspx on the 1st, 4th, 7th... login of an account] -> [/PasswordNotice.aspx while the
password expires within 14 days] -> /Home.aspx (its menu links to /ChangePassword.aspx, the voluntary
change under `sandbox/cascade/passwords.py`'s rules; the new password's age starts over). Then
/Eligibility.aspx, /Authorizations.aspx (search -> list -> postback `Select$<ref>` -> detail -> `lnkBack`), /Claims.aspx (search -> fixed-width report in a
`<pre>` -> postback `EOB$<claim>` -> EOB page -> /EobDocument.ashx, a PDF download). Sessions live
behind the ASP.NET_SessionId cookie and time out after `idle_timeout_seconds` (Cascade's default:
300) -> /Login.aspx?expired=1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from aggregator.models import EligibilityQuery, MemberNotFound, RejectReason, normalize_member_id
from aggregator.models.claims import ClaimQuery
from aggregator.models.codes import NetworkIndicator
from sandbox import ground_truth
from sandbox.cascade import vocabulary as v
from sandbox.cascade.eob import eob_pdf
from sandbox.cascade.passwords import PASSWORD_HISTORY, PASSWORD_LIFETIME_DAYS, password_problems
from sandbox.cascade.views import auth_detail_pairs, auth_row, eligibility_view, report_lines
from sandbox.control import CONTROL_PREFIX, control_router, install_faults
from sandbox.dataset import Dataset
from sandbox.portal_state import PortalState, Session, Stage

CARRIER = "cascade"
TEMPLATES = Path(__file__).parent / "templates"
IDLE_TIMEOUT_SECONDS = 300.0  # Cascade's short idle timeout (the common default is 15 minutes)
PASSWORD_NOTICE_DAYS = 14  # the notice shows while the password expires within this many days
ANNOUNCEMENT_EVERY = 3  # the announcement stands before the 1st, 4th, 7th... login of an account
DEFAULT_PASSWORD_DAYS = {"frontdesk": 12}  # by vault label: frontdesk sees the expiry notice
STAGE_PAGE: dict[Stage, str] = {"anonymous": "/Login.aspx", "mfa": "/SecurityQuestion.aspx", "captcha": "/Captcha.aspx",
                                "interstitial": "/Home.aspx", "auth": "/Home.aspx"}
NOTICE_PAGE = {"announcement": "/Announcement.aspx", "password_notice": "/PasswordNotice.aspx"}
_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
REJECT_MESSAGES = {RejectReason.NOT_FOUND: v.MSG_NOT_FOUND, RejectReason.DOB_MISMATCH: v.MSG_DOB_MISMATCH,
                   RejectReason.INVALID_NAME: v.MSG_NAME_MISMATCH}

_YELLOW = ("<html><head><title>{title}</title></head><body bgcolor=\"white\"><span><h1>Server Error in '/' Application."
           "<hr width=100% size=1 color=silver></h1><h2><i>{message}</i></h2></span>"
           "<b>Description:</b> An unhandled exception occurred during the execution of the current web request."
           "<br><hr width=100% size=1 color=silver><b>Version Information:</b> Microsoft .NET Framework Version:2.0.50727.8964;"
           " ASP.NET Version:2.0.50727.8962</body></html>")
_SERVER_ERRORS = {
    500: _YELLOW.format(title="Runtime Error", message="Runtime Error"),
    502: ("<html><head><title>502 - Web server received an invalid response while acting as a gateway or proxy server."
          "</title></head><body><h2>502 - Web server received an invalid response while acting as a gateway or proxy "
          "server.</h2></body></html>"),
    503: ("<html><head><title>Service Unavailable</title></head><body><h2>Service Unavailable</h2><hr><p>HTTP Error 503. "
          "The service is unavailable.</p></body></html>"),
}


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


class _BadViewState(Exception):
    pass


def create_app(dataset: Dataset, state: PortalState | None = None) -> FastAPI:
    state = state or PortalState(dataset, CARRIER)
    if state.dataset is not dataset or state.carrier != CARRIER:
        raise ValueError("the portal state must belong to this dataset and to the cascade carrier")
    accounts = {a.label: a for a in dataset.carrier(CARRIER).accounts}
    state.set_portal_defaults(faults={"idle_timeout_seconds": IDLE_TIMEOUT_SECONDS},
                              password_days={accounts[label].username: days
                                             for label, days in DEFAULT_PASSWORD_DAYS.items() if label in accounts})
    app = FastAPI(title="Cascade Care Provider Connect (sandbox)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = state
    templates = Jinja2Templates(directory=str(TEMPLATES))

    # --- rendering -------------------------------------------------------------------------------

    def sign(session: Session, payload: str) -> str:
        return hmac.new(session.csrf.encode(), payload.encode(), hashlib.sha256).hexdigest()[:20]

    def viewstate(session: Session, page: str, data: dict[str, Any] | None = None) -> str:
        payload = base64.b64encode(json.dumps({"p": page, "d": data or {}}, sort_keys=True).encode()).decode()
        return f"{payload}.{sign(session, payload)}"

    def read_viewstate(session: Session, form: Any) -> tuple[str, dict[str, Any]]:
        raw = str(form.get("__VIEWSTATE") or "")
        payload, _, mac = raw.partition(".")
        if not payload or not hmac.compare_digest(mac.encode(), sign(session, payload).encode()):
            state.note_csrf_rejection()
            raise _BadViewState()
        decoded = json.loads(base64.b64decode(payload))
        return decoded["p"], decoded["d"]

    def render(request: Request, template: str, session: Session, *, title: str, action: str, page: str,
               data: dict[str, Any] | None = None, status: int = 200, **context: Any) -> HTMLResponse:
        context.update(v=v, title=title, action=action, viewstate=viewstate(session, page, data),
                       nav=session.stage == "auth", today_long=v.fmt_long_date(state.today),
                       IN=NetworkIndicator.IN_NETWORK, OUT=NetworkIndicator.OUT_OF_NETWORK)
        context.setdefault("message", None)
        return templates.TemplateResponse(request, template, context, status_code=status)

    class Pages:
        def maintenance(self, request: Request, until: str) -> Response:
            # 200 on purpose: the notice is an ordinary page, recognised by its content.
            return templates.TemplateResponse(request, "maintenance.html", {"until": until})

        def server_error(self, request: Request, status: int) -> Response:
            return HTMLResponse(_SERVER_ERRORS[status], status_code=status)

        def too_many_requests(self, request: Request) -> Response:
            body = (f"<html><head><title>{v.TITLE} - Too Many Requests</title></head><body><h2>Too Many Requests</h2>"
                    f"<p>{v.MSG_TOO_MANY}</p></body></html>")
            return HTMLResponse(body, status_code=429, headers={"Retry-After": "60"})

    install_faults(app, state, Pages(), v.SESSION_COOKIE)
    app.include_router(control_router(state))

    @app.post(f"{CONTROL_PREFIX}/password")
    async def set_password_days(request: Request) -> Response:
        """`{"username": ..., "days": N | null}`: the account's password expires in N days (<= 0: expired)."""
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        if not isinstance(body, dict) or state.account(str(body.get("username"))) is None:
            return JSONResponse({"error": "unknown username"}, status_code=404)
        days = body.get("days")
        if days is not None and not isinstance(days, int):
            return JSONResponse({"error": "days must be an integer or null"}, status_code=422)
        state.set_password_days(body["username"], days)
        return JSONResponse({"username": body["username"], "days": days})

    @app.exception_handler(_Redirect)
    async def redirect(request: Request, exc: _Redirect) -> Response:
        return RedirectResponse(exc.location, status_code=302)

    @app.exception_handler(_BadViewState)
    async def bad_viewstate(request: Request, exc: _BadViewState) -> Response:
        return HTMLResponse(_YELLOW.format(title=v.MSG_VIEWSTATE, message=v.MSG_VIEWSTATE), status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = v.MSG_PAGE_NOT_FOUND if exc.status_code == 404 else "Bad Request"
        return HTMLResponse(_YELLOW.format(title=message, message=message), status_code=exc.status_code)

    # --- sessions --------------------------------------------------------------------------------

    def require(request: Request, *stages: Stage) -> Session:
        session, expired = state.lookup(request.cookies.get(v.SESSION_COOKIE))
        if session is None:
            raise _Redirect("/Login.aspx?expired=1" if expired else "/Login.aspx")
        if session.stage not in stages:
            raise _Redirect(stage_page(session))
        return session

    def stage_page(session: Session) -> str:
        if session.stage == "interstitial" and session.notes.get("pending"):
            return NOTICE_PAGE[session.notes["pending"][0]]
        return STAGE_PAGE[session.stage]

    def with_cookie(response: Response, session: Session) -> Response:
        response.set_cookie(v.SESSION_COOKIE, session.id, httponly=True, samesite="lax", path="/")
        return response

    def login_page(request: Request, message: str | None, status: int = 200) -> Response:
        state.drop_session(request.cookies.get(v.SESSION_COOKIE))
        session = state.new_session()
        return with_cookie(render(request, "login.html", session, title="Provider Log In", action="/Login.aspx",
                                  page="login", message=message, status=status), session)

    def after_second_factor(session: Session) -> None:
        """Notices that stand between a completed login and the home page, in order."""
        assert session.username is not None
        pending = []
        if state.counters_for(session.username).successful_logins % ANNOUNCEMENT_EVERY == 0:
            pending.append("announcement")
        days = state.password_days_left(session.username)
        if days is not None and 0 < days <= PASSWORD_NOTICE_DAYS:
            pending.append("password_notice")
        session.notes["pending"] = pending
        state.set_stage(session, "interstitial" if pending else "auth")
        raise _Redirect(stage_page(session))

    def pass_notice(session: Session, notice: str) -> None:
        pending = session.notes.get("pending") or []
        if pending and pending[0] == notice:
            pending.pop(0)
        if not pending:
            state.set_stage(session, "auth")
        raise _Redirect(stage_page(session))

    # --- frameset and login ----------------------------------------------------------------------

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/Default.aspx", status_code=302)

    @app.get("/Default.aspx")
    def frameset(request: Request) -> Response:
        return templates.TemplateResponse(request, "frameset.html", {"v": v})

    @app.get("/Banner.aspx")
    def banner(request: Request) -> Response:
        return templates.TemplateResponse(request, "banner.html", {"v": v})

    @app.get("/Main.aspx")
    def main(request: Request) -> Response:
        session, expired = state.lookup(request.cookies.get(v.SESSION_COOKIE))
        if session is None:
            return RedirectResponse("/Login.aspx?expired=1" if expired else "/Login.aspx", status_code=302)
        return RedirectResponse(stage_page(session), status_code=302)

    @app.get("/Login.aspx")
    def login_form(request: Request) -> Response:
        return login_page(request, v.MSG_EXPIRED if request.query_params.get("expired") == "1" else None)

    @app.post("/Login.aspx")
    async def login_submit(request: Request) -> Response:
        form = await request.form()
        session, expired = state.lookup(request.cookies.get(v.SESSION_COOKIE))
        if session is None:
            raise _Redirect("/Login.aspx?expired=1" if expired else "/Login.aspx")
        read_viewstate(session, form)
        username = str(form.get("txtUserName") or "").strip()
        request.state.username = username or None
        result = state.check_password(username, str(form.get("txtPassword") or ""))
        if result != "ok":
            return login_page(request, v.MSG_LOCKED if result == "locked" else v.MSG_INVALID_LOGIN)
        state.drop_session(session.id)
        days = state.password_days_left(username)
        if days is not None and days <= 0:
            fresh = state.new_session("anonymous", username)
            fresh.notes["expired_password"] = True
            return with_cookie(RedirectResponse("/PasswordExpired.aspx", status_code=302), fresh)
        account = state.account(username)
        assert account is not None
        fresh = state.new_session("mfa", username)
        fresh.notes["question"] = state.choose_challenge(tuple(q for q, _ in account.security_answers))
        return with_cookie(RedirectResponse("/SecurityQuestion.aspx", status_code=302), fresh)

    @app.get("/PasswordExpired.aspx")
    def password_expired(request: Request) -> Response:
        session = require(request, "anonymous")
        if not session.notes.get("expired_password"):
            raise _Redirect("/Login.aspx")
        return render(request, "password_expired.html", session, title="Password Expired",
                      action="/PasswordExpired.aspx", page="password-expired")

    @app.get("/SecurityQuestion.aspx")
    def question_form(request: Request) -> Response:
        session = require(request, "mfa")
        return render(request, "question.html", session, title="Security Verification",
                      action="/SecurityQuestion.aspx", page="question", question=session.notes["question"])

    @app.post("/SecurityQuestion.aspx")
    async def question_submit(request: Request) -> Response:
        session = require(request, "mfa")
        form = await request.form()
        read_viewstate(session, form)
        assert session.username is not None
        account = state.account(session.username)
        assert account is not None
        expected = dict(account.security_answers)[session.notes["question"]]
        if not state.check_secret_answer(session.username, expected, str(form.get("txtAnswer") or "")):
            return render(request, "question.html", session, title="Security Verification",
                          action="/SecurityQuestion.aspx", page="question", question=session.notes["question"],
                          message=v.MSG_WRONG_ANSWER)
        if state.faults.captcha:
            state.set_stage(session, "captcha")
            raise _Redirect("/Captcha.aspx")
        after_second_factor(session)
        raise AssertionError("unreachable")

    @app.get("/Captcha.aspx")
    def captcha_form(request: Request) -> Response:
        session = require(request, "captcha")
        return render(request, "captcha.html", session, title="Security Check", action="/Captcha.aspx", page="captcha")

    @app.post("/Captcha.aspx")
    async def captcha_submit(request: Request) -> Response:
        session = require(request, "captcha")
        form = await request.form()
        read_viewstate(session, form)
        if not form.get("chkHuman"):
            return render(request, "captcha.html", session, title="Security Check", action="/Captcha.aspx",
                          page="captcha", message=v.MSG_CAPTCHA)
        after_second_factor(session)
        raise AssertionError("unreachable")

    @app.get("/Announcement.aspx")
    def announcement(request: Request) -> Response:
        session = require(request, "interstitial")
        return render(request, "announcement.html", session, title="Important Announcement",
                      action="/Announcement.aspx", page="announcement")

    @app.post("/Announcement.aspx")
    async def announcement_done(request: Request) -> Response:
        session = require(request, "interstitial")
        read_viewstate(session, await request.form())
        pass_notice(session, "announcement")
        raise AssertionError("unreachable")

    @app.get("/PasswordNotice.aspx")
    def password_notice(request: Request) -> Response:
        session = require(request, "interstitial")
        assert session.username is not None
        return render(request, "password_notice.html", session, title="Password Expiration Notice",
                      action="/PasswordNotice.aspx", page="password-notice",
                      days=state.password_days_left(session.username))

    @app.post("/PasswordNotice.aspx")
    async def password_notice_done(request: Request) -> Response:
        session = require(request, "interstitial")
        read_viewstate(session, await request.form())
        pass_notice(session, "password_notice")  # "Change now" is out of the sandbox's scope: both continue
        raise AssertionError("unreachable")

    @app.get("/Logout.aspx")
    def logout(request: Request) -> Response:
        return login_page(request, v.MSG_LOGGED_OUT)

    @app.get("/Home.aspx")
    def home(request: Request) -> Response:
        session = require(request, "auth")
        return render(request, "home.html", session, title="Provider Home", action="/Home.aspx", page="home")

    # --- change password -------------------------------------------------------------------------

    def change_password_page(request: Request, session: Session, problems: list[str], changed: bool) -> Response:
        return render(request, "change_password.html", session, title="Change Password",
                      action="/ChangePassword.aspx", page="change-password", problems=problems, changed=changed)

    @app.get("/ChangePassword.aspx")
    def change_password_form(request: Request) -> Response:
        return change_password_page(request, require(request, "auth"), [], False)

    @app.post("/ChangePassword.aspx")
    async def change_password_submit(request: Request) -> Response:
        session = require(request, "auth")
        form = await request.form()
        read_viewstate(session, form)
        assert session.username is not None
        new = str(form.get("txtNewPassword") or "")
        problems = password_problems(session.username, state.current_password(session.username) or "",
                                     str(form.get("txtCurrentPassword") or ""), new,
                                     str(form.get("txtConfirmPassword") or ""),
                                     state.recent_passwords(session.username, PASSWORD_HISTORY))
        if problems:
            return change_password_page(request, session, problems, False)
        state.change_password(session.username, new)
        state.set_password_days(session.username, PASSWORD_LIFETIME_DAYS)
        return change_password_page(request, session, [], True)

    # --- eligibility -----------------------------------------------------------------------------

    def elig_form(request: Request, session: Session, fields: dict[str, str], message: str | None) -> Response:
        return render(request, "eligibility_search.html", session, title="Eligibility Inquiry",
                      action="/Eligibility.aspx", page="elig-search", form=fields, message=message)

    @app.get("/Eligibility.aspx")
    def elig_search(request: Request) -> Response:
        session = require(request, "auth")
        return elig_form(request, session, {"memberId": "", "dob": "", "lastName": "",
                                            "dos": state.today.strftime("%m/%d/%Y")}, None)

    @app.post("/Eligibility.aspx")
    async def elig_submit(request: Request) -> Response:
        session = require(request, "auth")
        form = await request.form()
        read_viewstate(session, form)
        fields = {"memberId": str(form.get("txtMemberId") or "").strip(), "dob": str(form.get("txtDob") or "").strip(),
                  "lastName": str(form.get("txtLastName") or "").strip(),
                  "dos": str(form.get("txtInquiryDate") or "").strip()}
        if not (fields["memberId"] and fields["dob"] and fields["dos"]):
            return elig_form(request, session, fields, v.MSG_REQUIRED)
        dob, dos = _parse_date(fields["dob"]), _parse_date(fields["dos"])
        if dob is None or dos is None:
            return elig_form(request, session, fields, v.MSG_DATE_FORMAT)
        try:
            member_id = normalize_member_id(fields["memberId"])
        except ValueError:
            return elig_form(request, session, fields, v.MSG_NOT_FOUND)
        query = EligibilityQuery(member_id=member_id, date_of_birth=dob, service_date=dos,
                                 last_name=fields["lastName"] or None)
        answer = ground_truth.eligibility(state, CARRIER, query)
        if isinstance(answer, MemberNotFound):
            return elig_form(request, session, fields, REJECT_MESSAGES[answer.reject_reason])
        layout = state.faults.layout_version
        view = eligibility_view(answer, state.current_dataset().carrier(CARRIER), layout)
        return render(request, "eligibility.html" if layout == "v1" else "eligibility_v2.html", session,
                      title="Member Eligibility Detail", action="/Eligibility.aspx", page="elig-result", view=view)

    # --- authorizations --------------------------------------------------------------------------

    def auth_form(request: Request, session: Session, fields: dict[str, str], message: str | None) -> Response:
        return render(request, "auth_search.html", session, title="Authorization Inquiry",
                      action="/Authorizations.aspx", page="auth-search", form=fields, message=message)

    def auth_list(request: Request, session: Session, member_id: str, dob: date) -> Response:
        answer = ground_truth.authorizations(state, CARRIER, member_id, dob)
        assert not isinstance(answer, RejectReason)
        member = state.current_dataset().carrier(CARRIER).member(member_id)
        assert member is not None
        newest_first = sorted(answer.authorizations, key=lambda a: (a.last_updated, a.auth_number), reverse=True)
        return render(request, "auth_list.html", session, title="Authorization Summary", action="/Authorizations.aspx",
                      page="auth-list", data={"member": member_id, "dob": dob.isoformat()},
                      member_id=member_id, member_name=v.fmt_name(member.first_name, member.last_name),
                      dob=v.fmt_date(member.date_of_birth), rows=[auth_row(a) for a in newest_first])

    @app.get("/Authorizations.aspx")
    def auth_search(request: Request) -> Response:
        session = require(request, "auth")
        return auth_form(request, session, {"memberId": "", "dob": ""}, None)

    @app.post("/Authorizations.aspx")
    async def auth_post(request: Request) -> Response:
        session = require(request, "auth")
        form = await request.form()
        page, data = read_viewstate(session, form)
        target, argument = str(form.get("__EVENTTARGET") or ""), str(form.get("__EVENTARGUMENT") or "")
        if page == "auth-list" and target == "gvAuths" and argument.startswith("Select$"):
            auth = ground_truth.authorization(state, CARRIER, argument.removeprefix("Select$"))
            if auth is None or auth.member_id != data["member"]:
                raise StarletteHTTPException(404)
            member = state.current_dataset().carrier(CARRIER).member(auth.member_id)
            assert member is not None
            layout = state.faults.layout_version
            services = [{"code": s.procedure_code, "approved": f"{s.approved:f}", "used": f"{s.used:f}",
                         "remaining": f"{s.remaining:f}", "unit": v.UNITS[s.unit]} for s in auth.services]
            return render(request, "auth_detail.html", session, title="Authorization Detail",
                          action="/Authorizations.aspx", page="auth-detail", data=data,
                          pairs=auth_detail_pairs(auth, member, layout), services=services, layout=layout)
        if page == "auth-detail" and target == "lnkBack":
            return auth_list(request, session, data["member"], date.fromisoformat(data["dob"]))
        fields = {"memberId": str(form.get("txtMemberId") or "").strip(), "dob": str(form.get("txtDob") or "").strip()}
        checked = _member_fields(fields["memberId"], fields["dob"])
        if isinstance(checked, str):
            return auth_form(request, session, fields, checked)
        member_id, dob = checked
        answer = ground_truth.authorizations(state, CARRIER, member_id, dob)
        if isinstance(answer, RejectReason):
            return auth_form(request, session, fields, REJECT_MESSAGES[answer])
        return auth_list(request, session, member_id, dob)

    # --- claims ----------------------------------------------------------------------------------

    def claim_form(request: Request, session: Session, fields: dict[str, str], message: str | None) -> Response:
        return render(request, "claim_search.html", session, title="Claim Status Inquiry", action="/Claims.aspx",
                      page="claim-search", form=fields, message=message)

    def claim_report(request: Request, session: Session, search: dict[str, str]) -> Response:
        answer = ground_truth.claims(state, CARRIER, _claim_query(search))
        assert not isinstance(answer, RejectReason)
        newest_first = sorted(answer.claims, key=lambda c: (c.service_from, c.payer_claim_number), reverse=True)
        if search["claim_number"]:
            criteria = f"CLAIM {search['claim_number']}"
        else:
            criteria = (f"MEMBER {search['member_id']}  DOS {v.fmt_date(date.fromisoformat(search['from']))} - "
                        f"{v.fmt_date(date.fromisoformat(search['to']))}")
        lines = report_lines(newest_first, criteria, state.today, state.faults.layout_version)
        html = Markup("\n").join(_report_line(text, number) for text, number in lines)
        return render(request, "claim_report.html", session, title="Claim Status Report", action="/Claims.aspx",
                      page="claim-report", data=search, report_html=html)

    @app.get("/Claims.aspx")
    def claim_search(request: Request) -> Response:
        session = require(request, "auth")
        return claim_form(request, session, {"claimNumber": "", "memberId": "", "dob": "",
                                             "from": (state.today - timedelta(days=365)).strftime("%m/%d/%Y"),
                                             "to": state.today.strftime("%m/%d/%Y")}, None)

    @app.post("/Claims.aspx")
    async def claim_post(request: Request) -> Response:
        session = require(request, "auth")
        form = await request.form()
        page, data = read_viewstate(session, form)
        target, argument = str(form.get("__EVENTTARGET") or ""), str(form.get("__EVENTARGUMENT") or "")
        if page == "claim-report" and target == "rptClaims" and argument.startswith("EOB$"):
            number = argument.removeprefix("EOB$")
            listed = ground_truth.claims(state, CARRIER, _claim_query(data))
            if isinstance(listed, RejectReason) or number not in {c.payer_claim_number for c in listed.claims}:
                raise StarletteHTTPException(404)
            download = f"/EobDocument.ashx?claim={number}&t={sign(session, 'eob:' + number)}"
            return render(request, "eob_page.html", session, title="Explanation of Benefits", action="/Claims.aspx",
                          page="claim-eob", data=data, claim_number=number, download=download)
        if page == "claim-eob" and target == "lnkBack":
            return claim_report(request, session, data)
        fields = {"claimNumber": str(form.get("txtClaimNo") or "").strip(), "memberId": str(form.get("txtMemberId") or "").strip(),
                  "dob": str(form.get("txtDob") or "").strip(), "from": str(form.get("txtFrom") or "").strip(),
                  "to": str(form.get("txtThru") or "").strip()}
        search = _claim_search(fields)
        if isinstance(search, str):
            return claim_form(request, session, fields, search)
        answer = ground_truth.claims(state, CARRIER, _claim_query(search))
        if isinstance(answer, RejectReason):
            return claim_form(request, session, fields, REJECT_MESSAGES[answer])
        return claim_report(request, session, search)

    @app.get("/EobDocument.ashx")
    def eob_document(request: Request) -> Response:
        session = require(request, "auth")
        number = request.query_params.get("claim", "")
        token = request.query_params.get("t", "")
        if not hmac.compare_digest(token.encode(), sign(session, "eob:" + number).encode()):
            raise StarletteHTTPException(404)
        claim = ground_truth.claim(state, CARRIER, number)
        if claim is None:
            raise StarletteHTTPException(404)
        member = state.current_dataset().carrier(CARRIER).member(claim.member_id)
        assert member is not None
        return Response(eob_pdf(claim, member, state.today), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="EOB_{number}.pdf"'})

    return app


def _report_line(text: str, number: str | None) -> Markup:
    if not number:
        return escape(text)
    before, _, after = text.partition(number)
    link = Markup('<a href="javascript:__doPostBack(\'rptClaims\',\'EOB${0}\')">{0}</a>').format(number)
    return escape(before) + link + escape(after)


def _parse_date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        return None


def _member_fields(member_id_text: str, dob_text: str) -> tuple[str, date] | str:
    if not member_id_text or not dob_text:
        return v.MSG_CLAIM_CRITERIA
    dob = _parse_date(dob_text)
    if dob is None:
        return v.MSG_DATE_FORMAT
    try:
        return normalize_member_id(member_id_text), dob
    except ValueError:
        return v.MSG_NOT_FOUND


def _claim_search(fields: dict[str, str]) -> dict[str, str] | str:
    number = re.sub(r"\s+", "", fields["claimNumber"]).upper()
    if number and (fields["memberId"] or fields["dob"]):
        return v.MSG_CLAIM_BOTH
    if number:
        return {"claim_number": number, "member_id": "", "dob": "", "from": "", "to": ""}
    checked = _member_fields(fields["memberId"], fields["dob"])
    if isinstance(checked, str):
        return checked
    start, end = _parse_date(fields["from"]), _parse_date(fields["to"])
    if start is None or end is None:
        return v.MSG_DATE_FORMAT
    if end < start:
        return v.MSG_RANGE_ORDER
    return {"claim_number": "", "member_id": checked[0], "dob": checked[1].isoformat(), "from": start.isoformat(),
            "to": end.isoformat()}


def _claim_query(search: dict[str, str]) -> ClaimQuery:
    if search["claim_number"]:
        return ClaimQuery(claim_number=search["claim_number"])
    return ClaimQuery(member_id=search["member_id"], date_of_birth=date.fromisoformat(search["dob"]),
                      service_from=date.fromisoformat(search["from"]), service_to=date.fromisoformat(search["to"]))
