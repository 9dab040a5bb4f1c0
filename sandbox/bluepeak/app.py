"""BluePeak Health "Provider Connect": a single-page app over its own JSON API (FastAPI).

Every `/app/...` URL serves the same nearly empty shell; `/static/app.js` draws every screen from
`/api/...` calls, showing spinners while it waits (plus a small random render delay of its own). Login
is scripted (`POST /api/auth/login` -> `/api/auth/mfa` TOTP -> `/api/auth/captcha` when that fault is
on); a terms-of-use modal must be accepted once per session (`POST /api/terms/accept`); a new login of
the same account ends its other sessions. Data comes from the state's current dataset via
`sandbox.ground_truth` and `api_views` (formatting only).

Faults: maintenance is an HTML page for `/app` URLs (200, recognised by content) and a JSON 503 for the
API; injected 5xx are the unbranded proxy pages for both; rate limiting is 429 (JSON for the API).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from aggregator.models import EligibilityQuery, MemberNotFound, RejectReason, normalize_member_id
from aggregator.models.claims import ClaimQuery, ClaimStatus
from sandbox import ground_truth
from sandbox.bluepeak import api_views
from sandbox.bluepeak import vocabulary as v
from sandbox.control import control_router, install_faults
from sandbox.dataset import Dataset, MemberData
from sandbox.portal_state import PortalState, Session

CARRIER = "bluepeak"
STATIC = Path(__file__).parent / "static"
REFUSALS = {RejectReason.NOT_FOUND: v.ERROR_NOT_FOUND, RejectReason.DOB_MISMATCH: v.ERROR_DOB,
            RejectReason.INVALID_NAME: v.ERROR_NAME}

_SERVER_ERRORS = {  # what the layers in front of the app send, for pages and API calls alike
    500: ("500 Internal Server Error", "<h1>Internal Server Error</h1><p>upstream application error</p>"),
    502: ("502 Bad Gateway", "<center><h1>502 Bad Gateway</h1></center><hr><center>cloudfront</center>"),
    503: ("503 Service Unavailable", "<h1>503 Service Unavailable</h1><p>No healthy upstream.</p>"),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str) -> None:
        self.status, self.code = status, code


def error_body(code: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": v.DISPLAY["message"].get(code, code), **extra}}


def create_app(dataset: Dataset, state: PortalState | None = None) -> FastAPI:
    state = state or PortalState(dataset, CARRIER)
    if state.dataset is not dataset or state.carrier != CARRIER:
        raise ValueError("the portal state must belong to this dataset and to the bluepeak carrier")
    app = FastAPI(title="BluePeak Provider Connect (sandbox)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = state
    shell_template = (STATIC / "shell.html").read_text(encoding="utf-8")

    def shell(layout: str) -> HTMLResponse:
        config = json.dumps({"layout": layout, "termsVersion": v.TERMS_VERSION, "display": v.DISPLAY})
        return HTMLResponse(shell_template.replace("{{CONFIG}}", config.replace("</", "<\\/"))
                            .replace("{{TITLE}}", v.APP_TITLE))

    class Pages:
        def maintenance(self, request: Request, until: str) -> Response:
            if request.url.path.startswith("/api/"):
                return JSONResponse(error_body("MAINTENANCE", until=until), status_code=503)
            html = (STATIC / "maintenance.html").read_text(encoding="utf-8").replace("{{UNTIL}}", until)
            return HTMLResponse(html)  # 200: recognised by what it says, as many real portals serve it

        def server_error(self, request: Request, status: int) -> Response:
            title, body = _SERVER_ERRORS[status]
            return HTMLResponse(f"<html><head><title>{title}</title></head><body>{body}</body></html>",
                                status_code=status)

        def too_many_requests(self, request: Request) -> Response:
            if request.url.path.startswith("/api/"):
                response: Response = JSONResponse(error_body("TOO_MANY"), status_code=429)
            else:
                response = HTMLResponse(f"<html><head><title>{v.APP_TITLE}</title></head><body><p>"
                                        f"{v.DISPLAY['message']['TOO_MANY']}</p></body></html>", status_code=429)
            response.headers["Retry-After"] = "60"
            return response

    install_faults(app, state, Pages(), v.SESSION_COOKIE)
    app.include_router(control_router(state))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return JSONResponse(error_body(exc.code), status_code=exc.status)

    def session_for(request: Request, *stages: str) -> Session:
        sid = request.cookies.get(v.SESSION_COOKIE)
        session, expired = state.lookup(sid)
        if session is None:
            if sid and sid in state.ended_sessions:
                raise ApiError(401, "SESSION_ENDED")
            raise ApiError(401, "SESSION_EXPIRED" if expired else "NOT_SIGNED_IN")
        if session.stage not in stages:
            raise ApiError(401 if session.stage != "auth" else 409, "WRONG_STEP")
        return session

    def signed_in(request: Request) -> Session:
        session = session_for(request, "auth")
        if session.notes.get("terms") != v.TERMS_VERSION:
            raise ApiError(403, "TERMS_REQUIRED")
        return session

    def with_cookie(response: Response, session: Session) -> Response:
        response.set_cookie(v.SESSION_COOKIE, session.id, httponly=True, samesite="lax", path="/")
        return response

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "BAD_REQUEST") from None
        if not isinstance(body, dict):
            raise ApiError(400, "BAD_REQUEST")
        return body

    # --- the shell ---------------------------------------------------------------------------------

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/app/home", status_code=302)

    @app.get("/app")
    @app.get("/app/{route:path}")
    def app_shell(route: str = "") -> Response:
        return shell(state.faults.layout_version)

    @app.get("/static/app.js")
    def script() -> Response:
        return FileResponse(STATIC / "app.js", media_type="text/javascript")

    # --- login -------------------------------------------------------------------------------------

    @app.get("/api/session")
    def current_session(request: Request) -> dict[str, Any]:
        session = session_for(request, "mfa", "captcha", "auth")
        return {"stage": session.stage, "user": session.username if session.stage == "auth" else None,
                "termsAccepted": session.notes.get("terms") == v.TERMS_VERSION, "termsVersion": v.TERMS_VERSION}

    @app.post("/api/auth/login")
    async def login(request: Request) -> Response:
        body = await body_of(request)
        username = str(body.get("username") or "").strip()
        request.state.username = username or None
        result = state.check_password(username, str(body.get("password") or ""))
        if result != "ok":
            raise ApiError(423 if result == "locked" else 401,
                           "ACCOUNT_LOCKED" if result == "locked" else "INVALID_CREDENTIALS")
        state.drop_session(request.cookies.get(v.SESSION_COOKIE))
        return with_cookie(JSONResponse({"next": "mfa"}), state.new_session("mfa", username))

    def finish_login(session: Session) -> dict[str, Any]:
        if state.faults.captcha:
            state.set_stage(session, "captcha")
            return {"next": "captcha"}
        state.set_stage(session, "auth")
        state.end_other_sessions(session)  # one session per account: this login ends the others
        return {"next": "home"}

    @app.post("/api/auth/mfa")
    async def mfa(request: Request) -> dict[str, Any]:
        session = session_for(request, "mfa")
        body = await body_of(request)
        assert session.username is not None
        result = state.check_totp(session.username, str(body.get("code") or "").strip())
        if result != "ok":
            raise ApiError(401, "CODE_REUSED" if result == "reused" else "INVALID_CODE")
        return finish_login(session)

    @app.post("/api/auth/captcha")
    async def captcha(request: Request) -> dict[str, Any]:
        session = session_for(request, "captcha")
        body = await body_of(request)
        if body.get("notRobot") is not True:
            raise ApiError(422, "BAD_REQUEST")
        state.set_stage(session, "auth")
        state.end_other_sessions(session)
        return {"next": "home"}

    @app.post("/api/auth/logout")
    def logout(request: Request) -> Response:
        state.drop_session(request.cookies.get(v.SESSION_COOKIE))
        response = JSONResponse({"next": "login"})
        response.delete_cookie(v.SESSION_COOKIE, path="/")
        return response

    @app.post("/api/terms/accept")
    async def accept_terms(request: Request) -> dict[str, Any]:
        session = session_for(request, "auth")
        body = await body_of(request)
        if body.get("version") != v.TERMS_VERSION:
            raise ApiError(422, "BAD_REQUEST")
        session.notes["terms"] = v.TERMS_VERSION
        return {"accepted": v.TERMS_VERSION}

    # --- members -----------------------------------------------------------------------------------

    def member_check(member_id: str, dob_text: str, last_name: str | None = None) -> MemberData:
        """The member the query names, or the refusal ground truth gives (same rules as eligibility)."""
        dob = _iso_date(dob_text)
        try:
            member_id = normalize_member_id(member_id)
        except ValueError:
            raise ApiError(404, v.ERROR_NOT_FOUND) from None
        query = EligibilityQuery(member_id=member_id, date_of_birth=dob, service_date=state.today,
                                 last_name=last_name or None)
        answer = ground_truth.eligibility(state, CARRIER, query)
        if isinstance(answer, MemberNotFound):
            raise ApiError(404, REFUSALS[answer.reject_reason])
        member = state.current_dataset().carrier(CARRIER).member(member_id)
        assert member is not None
        return member

    @app.get("/api/members/search")
    def search(request: Request, dateOfBirth: str = "", memberId: str = "", lastName: str = "",  # noqa: N803
               firstName: str = "") -> dict[str, Any]:
        """By member id + DOB (+ last name): the whole family on that card, to choose from. By last
        name + DOB (+ first name): every member with that name and birth date."""
        signed_in(request)
        data = state.current_dataset().carrier(CARRIER)
        if memberId.strip():
            member = member_check(memberId, dateOfBirth, lastName.strip() or None)
            family = data.household(member)
            return {"searchType": "MEMBER_ID", "candidates": [api_views.candidate(m) for m in family]}
        dob = _iso_date(dateOfBirth)
        if not lastName.strip():
            raise ApiError(422, "BAD_REQUEST")
        found = [m for m in data.members.values() if m.date_of_birth == dob and _same(m.last_name, lastName)
                 and (not firstName.strip() or _same(m.first_name, firstName))]
        if not found:
            raise ApiError(404, "NO_NAME_MATCH")
        return {"searchType": "NAME_DOB", "candidates": [api_views.candidate(m) for m in found]}

    @app.get("/api/members/{member_id}/eligibility")
    def eligibility(request: Request, member_id: str, dateOfBirth: str = "", dateOfService: str = "",  # noqa: N803
                    lastName: str = "") -> dict[str, Any]:
        signed_in(request)
        member = member_check(member_id, dateOfBirth, lastName.strip() or None)
        service_date = _iso_date(dateOfService) if dateOfService else state.today
        query = EligibilityQuery(member_id=member.member_id, date_of_birth=member.date_of_birth,
                                 service_date=service_date, last_name=lastName.strip() or None)
        record = ground_truth.eligibility(state, CARRIER, query)
        assert not isinstance(record, MemberNotFound)
        return api_views.eligibility_json(record, state.current_dataset().carrier(CARRIER), state.faults.layout_version)

    @app.get("/api/members/{member_id}/authorizations")
    def authorizations(request: Request, member_id: str, dateOfBirth: str = "") -> dict[str, Any]:  # noqa: N803
        signed_in(request)
        member = member_check(member_id, dateOfBirth)
        answer = ground_truth.authorizations(state, CARRIER, member.member_id, member.date_of_birth)
        assert not isinstance(answer, RejectReason)
        layout = state.faults.layout_version
        ordered = sorted(answer.authorizations, key=lambda a: (a.last_updated, a.auth_number), reverse=True)
        return {"member": api_views.candidate(member),
                "authorizations": [api_views.authorization_json(a, layout) for a in ordered]}

    @app.get("/api/members/{member_id}/claims")
    def member_claims(request: Request, member_id: str, dateOfBirth: str = "", serviceFrom: str = "",  # noqa: N803
                      serviceTo: str = "") -> dict[str, Any]:  # noqa: N803
        signed_in(request)
        member = member_check(member_id, dateOfBirth)
        start, end = _iso_date(serviceFrom), _iso_date(serviceTo)
        if end < start:
            raise ApiError(422, "BAD_REQUEST")
        query = ClaimQuery(member_id=member.member_id, date_of_birth=member.date_of_birth, service_from=start,
                           service_to=end)
        answer = ground_truth.claims(state, CARRIER, query)
        assert not isinstance(answer, RejectReason)
        return claims_body(answer.claims, {"member": api_views.candidate(member), "serviceFrom": start.isoformat(),
                                           "serviceTo": end.isoformat()})

    @app.get("/api/claims/{claim_number}")
    def claim_by_number(request: Request, claim_number: str) -> dict[str, Any]:
        signed_in(request)
        number = re.sub(r"\s+", "", claim_number).upper()
        answer = ground_truth.claims(state, CARRIER, ClaimQuery(claim_number=number))
        assert not isinstance(answer, RejectReason)
        return claims_body(answer.claims, {"claimNumber": number})

    def claims_body(claims: tuple[ClaimStatus, ...], criteria: dict[str, Any]) -> dict[str, Any]:
        layout = state.faults.layout_version
        ordered = sorted(claims, key=lambda c: c.payer_claim_number)
        ordered.sort(key=lambda c: (c.service_from, c.service_to), reverse=True)  # newest first
        return {"criteria": criteria, "count": len(ordered), "claims": [api_views.claim_json(c, layout) for c in ordered]}

    @app.api_route("/api/{rest:path}", methods=["GET", "POST"])
    def unknown_api(rest: str) -> Response:
        return JSONResponse(error_body("NOT_FOUND"), status_code=404)

    return app


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ApiError(422, "BAD_REQUEST") from None
