"""Crossway ID: the identity provider in front of the Crossway hub, on an origin of its own (FastAPI).

An OpenID Connect-style authorization-code flow:

    GET /authorize?client_id&redirect_uri&state&nonce&response_type=code[&scope]
      -> /login (username + password, lockout after 3 consecutive failures)
      -> /mfa (TOTP from an authenticator app, each code once)
      -> /password (only when the password has expired: the forced change, rules stated on the page)
      -> /consent (once per user and client, remembered)
      -> 302 <redirect_uri>?code=...&state=...   (or ?error=access_denied&state=... when consent is refused)
    POST /token (grant_type=authorization_code, code, redirect_uri, client_id): the ID token's claims as JSON

A live Crossway ID session (cookie CWIDSESSION, `idp_session_seconds`) answers /authorize at once with a
new code: the hub re-enters without a password (silent re-authorization). An unknown client, a redirect
URI not registered for it, a response_type other than `code`, or a missing state or nonce is refused on
Crossway ID's own error page (never redirected).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.control import install_faults
from sandbox.crossway import vocabulary as v
from sandbox.crossway.controls import control_router, json_body
from sandbox.crossway.html import e, field, form, hidden, idp_page, message
from sandbox.crossway.idp_state import PASSWORD_RULES, AuthRequest, IdpSession, IdpState


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


def with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def create_idp_app(state: IdpState) -> FastAPI:
    app = FastAPI(title="Crossway ID (sandbox)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.idp = state

    def page(title: str, body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(idp_page(title, body), status_code=status)

    class Pages:
        def maintenance(self, request: Request, until: str) -> Response:
            return page("Scheduled maintenance", f"<p>Crossway ID is unavailable for scheduled maintenance until "
                                                 f"{e(until)} ET. Please try again later.</p>")

        def server_error(self, request: Request, status: int) -> Response:
            return page("Something went wrong", "<p>Crossway ID could not complete your request.</p>", status)

        def too_many_requests(self, request: Request) -> Response:
            response = page("Too many requests", f"<p>{e(v.MSG_TOO_MANY)}</p>", 429)
            response.headers["Retry-After"] = "60"
            return response

    install_faults(app, state, Pages(), v.IDP_COOKIE)
    router = control_router(state)

    @router.post("/password")
    async def set_password_age(request: Request) -> Response:
        """`{"username", "age_days": N}`: the password was changed N days before the hub's today."""
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        age = body.get("age_days")
        if not isinstance(age, int) or isinstance(age, bool):
            return JSONResponse({"error": 'body must be {"username": ..., "age_days": N}'}, status_code=422)
        try:
            state.set_password_age(str(body.get("username")), age)
        except KeyError:
            return JSONResponse({"error": "unknown username"}, status_code=404)
        return JSONResponse({"days_left": state.password_days_left(str(body["username"]))})

    @router.post("/totp-clock")
    async def set_totp_clock(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        offset = body.get("offset")
        if isinstance(offset, bool) or not isinstance(offset, int | float) or not 0 <= offset < 10**9:
            return JSONResponse({"error": 'body must be {"offset": seconds}, 0 or more'}, status_code=422)
        return JSONResponse({"offset": state.advance_totp_clock(to_offset=offset)})

    @router.post("/expire-sessions")
    def expire_sessions() -> dict[str, Any]:
        return {"expired": state.expire_sessions()}

    app.include_router(router)

    @app.exception_handler(_Redirect)
    async def redirect(request: Request, exc: _Redirect) -> Response:
        return RedirectResponse(exc.location, status_code=302)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return page("Page not found" if exc.status_code == 404 else "Request error",
                    "<p>The page you asked for does not exist.</p>", exc.status_code)

    def with_cookie(response: Response, session: IdpSession) -> Response:
        response.set_cookie(v.IDP_COOKIE, session.id, httponly=True, samesite="lax", path="/")
        return response

    def current(request: Request) -> IdpSession | None:
        return state.lookup(request.cookies.get(v.IDP_COOKIE))

    def require(request: Request, stage: str) -> IdpSession:
        session = current(request)
        if session is None:
            raise _Redirect("/login")
        if session.stage != stage:
            raise _Redirect({"anonymous": "/login", "mfa": "/mfa", "password_change": "/password",
                             "auth": "/consent" if session.pending else "/account"}[session.stage])
        return session

    def csrf_ok(session: IdpSession, form_data: Any) -> bool:
        token = form_data.get("_csrf")
        return isinstance(token, str) and secrets.compare_digest(token.encode(), session.csrf.encode())

    def refused(text: str = v.MSG_BAD_REQUEST, status: int = 400) -> Response:
        return page("Sign-in error", message(text), status)

    def proceed(session: IdpSession) -> Response:
        """After sign-in: the consent page once, then back to the client with a code."""
        pending = session.pending
        if pending is None:
            raise _Redirect("/account")
        assert session.username is not None
        if not state.has_consent(session.username, pending.client_id):
            raise _Redirect("/consent")
        return back_to_client(session, pending, silent=False)

    def back_to_client(session: IdpSession, pending: AuthRequest, *, silent: bool) -> Response:
        assert session.username is not None
        session.pending = None
        code = state.issue_code(session.username, pending, silent=silent)
        return RedirectResponse(with_query(pending.redirect_uri, {"code": code, "state": pending.state}),
                                status_code=302)

    # --- authorization endpoint --------------------------------------------------------------------

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        q = {k: request.query_params.get(k, "") for k in
             ("client_id", "redirect_uri", "state", "nonce", "response_type", "scope")}
        client = state.check_request(q["client_id"], q["redirect_uri"])
        if client is None:
            return refused()
        if q["response_type"] != "code" or not q["state"] or not q["nonce"]:
            state.note_refused_request()
            return refused()
        pending = AuthRequest(q["client_id"], q["redirect_uri"], q["state"], q["nonce"], q["scope"] or "openid")
        session = current(request)
        if session is not None and session.stage == "auth" and session.username:
            if state.password_days_left(session.username) <= 0:  # expired while the session lived
                session.pending = pending
                state.set_stage(session, "password_change")
                raise _Redirect("/password")
            if state.has_consent(session.username, pending.client_id):
                return back_to_client(session, pending, silent=True)
            session.pending = pending
            raise _Redirect("/consent")
        if session is None or session.stage != "anonymous":
            state.drop_session(session.id if session else None)  # a half-finished sign-in starts over
            session = state.new_session()
        session.pending = pending
        return with_cookie(RedirectResponse("/login", status_code=302), session)

    # --- sign-in -----------------------------------------------------------------------------------

    def login_page(session: IdpSession, said: str | None) -> Response:
        body = message(said) + form("/login", field("Username", "username", autocomplete="username")
                                    + field("Password", "password", kind="password"),
                                    ("signin", "Sign in"), csrf=session.csrf, form_id="login-form")
        return with_cookie(page("Sign in", body), session)

    @app.get("/login")
    def login_form(request: Request) -> Response:
        session = current(request)
        if session is None or session.stage != "anonymous":
            session = state.new_session()
        return login_page(session, None)

    @app.post("/login")
    async def login_submit(request: Request) -> Response:
        session = current(request)
        data = await request.form()
        if session is None or session.stage != "anonymous" or not csrf_ok(session, data):
            return refused(v.MSG_SESSION_GONE)
        username = str(data.get("username") or "").strip()
        request.state.username = username or None
        result = state.check_password(username, str(data.get("password") or ""))
        if result != "ok":
            return login_page(session, v.MSG_LOCKED if result == "locked" else v.MSG_INVALID_LOGIN)
        return with_cookie(RedirectResponse("/mfa", status_code=302), state.signed_in(session, username))

    def mfa_page(session: IdpSession, said: str | None) -> Response:
        body = ("<p>Enter the 6-digit code from your authenticator app.</p>" + message(said)
                + form("/mfa", field("Verification code", "code", autocomplete="one-time-code"),
                       ("verify", "Verify"), csrf=session.csrf, form_id="mfa-form"))
        return page("Verify it's you", body)

    @app.get("/mfa")
    def mfa_form(request: Request) -> Response:
        return mfa_page(require(request, "mfa"), None)

    @app.post("/mfa")
    async def mfa_submit(request: Request) -> Response:
        session = require(request, "mfa")
        data = await request.form()
        if not csrf_ok(session, data):
            return refused(v.MSG_SESSION_GONE)
        assert session.username is not None
        result = state.check_totp(session.username, str(data.get("code") or "").strip())
        if result != "ok":
            return mfa_page(session, v.MSG_CODE_REUSED if result == "reused" else v.MSG_CODE_INVALID)
        if state.password_days_left(session.username) <= 0:
            state.set_stage(session, "password_change")
            raise _Redirect("/password")
        state.set_stage(session, "auth")
        return proceed(session)

    def password_page(session: IdpSession, problems: list[str]) -> Response:
        rules = "".join(f"<li>{e(rule)}</li>" for rule in PASSWORD_RULES)
        errors = "".join(message(p) for p in problems)
        body = (message(v.MSG_PASSWORD_EXPIRED, "notice") + f'<ul id="password-rules">{rules}</ul>' + errors
                + form("/password", field("Current password", "currentPassword", kind="password")
                       + field("New password", "newPassword", kind="password")
                       + field("Confirm new password", "confirmPassword", kind="password"),
                       ("change-password", "Change password"), csrf=session.csrf, form_id="password-form"))
        return page("Change your password", body)

    @app.get("/password")
    def password_form(request: Request) -> Response:
        return password_page(require(request, "password_change"), [])

    @app.post("/password")
    async def password_submit(request: Request) -> Response:
        session = require(request, "password_change")
        data = await request.form()
        if not csrf_ok(session, data):
            return refused(v.MSG_SESSION_GONE)
        assert session.username is not None
        fields = {k: str(data.get(k) or "") for k in ("currentPassword", "newPassword", "confirmPassword")}
        problems = state.password_problems(session.username, fields["currentPassword"], fields["newPassword"],
                                           fields["confirmPassword"])
        if problems:
            return password_page(session, problems)
        state.change_password(session.username, fields["newPassword"])
        state.set_stage(session, "auth")
        return proceed(session)

    @app.get("/consent")
    def consent_form(request: Request) -> Response:
        session = require(request, "auth")
        if session.pending is None:
            raise _Redirect("/account")
        client = state.clients[session.pending.client_id]
        body = (f'<p id="consent-client"><b>{e(client.name)}</b> would like to:</p><ul id="consent-scopes">'
                "<li>Know your name and username</li><li>See the organizations and providers you act for</li>"
                "</ul><p>You will only be asked once.</p>"
                f'<form method="post" action="/consent">{hidden("_csrf", session.csrf)}'
                '<button type="submit" name="decision" value="allow" id="consent-allow">Allow</button> '
                '<button type="submit" name="decision" value="deny" id="consent-deny">Deny</button></form>')
        return page("Allow access", body)

    @app.post("/consent")
    async def consent_submit(request: Request) -> Response:
        session = require(request, "auth")
        data = await request.form()
        pending = session.pending
        if pending is None or not csrf_ok(session, data):
            return refused(v.MSG_SESSION_GONE)
        assert session.username is not None
        allowed = data.get("decision") == "allow"
        state.record_consent(session.username, pending.client_id, allowed)
        if not allowed:
            session.pending = None
            return RedirectResponse(with_query(pending.redirect_uri, {"error": "access_denied",
                                                                      "state": pending.state}), status_code=302)
        return back_to_client(session, pending, silent=False)

    @app.get("/account")
    def account(request: Request) -> Response:
        session = require(request, "auth")
        return page("Your Crossway ID", f'<p>You are signed in as <span id="idp-user">{e(session.username)}</span>.'
                                        '</p><p><a href="/logout" id="idp-signout">Sign out</a></p>')

    @app.get("/logout")
    def logout(request: Request) -> Response:
        state.drop_session(request.cookies.get(v.IDP_COOKIE))
        response = page("Signed out", message(v.MSG_SIGNED_OUT, "notice"))
        response.delete_cookie(v.IDP_COOKIE, path="/")
        return response

    # --- token endpoint (back channel) -------------------------------------------------------------

    @app.post("/token")
    async def token(request: Request) -> Response:
        data = await request.form()
        if data.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        claims = state.redeem_code(str(data.get("code") or ""), str(data.get("client_id") or ""),
                                   str(data.get("redirect_uri") or ""))
        if isinstance(claims, str):
            return JSONResponse({"error": claims}, status_code=400)
        return JSONResponse({"token_type": "Bearer", "access_token": secrets.token_urlsafe(24), "expires_in": 3600,
                             "id_token_claims": {"sub": claims.sub, "name": claims.name, "nonce": claims.nonce,
                                                 "aud": claims.aud,
                                                 "password_expires_on": claims.password_expires_on.isoformat()}})

    return app
