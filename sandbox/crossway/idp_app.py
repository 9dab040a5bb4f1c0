"""Crossway ID: the identity provider in front of the Crossway hub, on an origin of its own (FastAPI).

An OpenID Connect-style authorization-code flow:

    GET /authorize?client_id&redirect_uri&state&nonce&response_type=code[&scope]
      -> /login (username + password, lockout after 3 consecutive failures)
      -> /mfa (the user's second factor: TOTP from an authenticator app, a texted or e-mailed code, or a
         push request approved on the phone at /mfa/push; skipped when the browser's remembered-device
         cookie CWIDDEVICE is this user's and unexpired; 3 wrong codes in a row lock the user)
      -> /password (only when the password has expired: the forced change, rules stated on the page)
      -> /consent (once per user and client, remembered)
      -> 302 <redirect_uri>?code=...&state=...   (or ?error=access_denied&state=... when consent is refused)
    POST /token (grant_type=authorization_code, code, redirect_uri, client_id): the ID token's claims as JSON

A live Crossway ID session (cookie CWIDSESSION, `idp_session_seconds`) answers /authorize at once with a
new code: the hub re-enters without a password (silent re-authorization). An unknown client, a redirect
URI not registered for it, a response_type other than `code`, or a missing state or nonce is refused on
Crossway ID's own error page (never redirected).

Signed in, `/account` links to `/account/password`, the voluntary password change (the forced change's
form and rules, without the expiry notice). Controls besides the common ones (`/_sandbox/...`): password
(age, days left), totp-clock, expire-sessions, second-factor, outbox (+ /expire), push, devices (+ /forget).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.control import install_faults
from sandbox.crossway import vocabulary as v
from sandbox.crossway.controls import control_router, json_body
from sandbox.crossway.html import checkbox, e, field, form, hidden, idp_page, message
from sandbox.crossway.idp_state import PASSWORD_RULES, REMEMBER_DEVICE_DAYS, AuthRequest, IdpSession, IdpState


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

    def known(username: str | None) -> str | None:
        return username if username and state.account(username) is not None else None

    def unknown_user() -> Response:
        return JSONResponse({"error": "unknown username"}, status_code=404)

    async def user_of(request: Request) -> tuple[str, dict[str, Any]] | Response:
        """The known user a control's JSON body names (`{"username", ...}`) and the body, or the answer to send."""
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        username = known(str(body.get("username")))
        return unknown_user() if username is None else (username, body)

    def user_view(username: str, key: str, read: Callable[[str], Any]) -> Response:
        """A control's answer about one known user (`?username=`), or 404."""
        return unknown_user() if known(username) is None else JSONResponse({key: read(username)})

    async def user_action(request: Request, key: str, act: Callable[[str], Any]) -> Response:
        """A control's change to the user its body names (`{"username"}`), or the error answer."""
        named = await user_of(request)
        return named if isinstance(named, Response) else JSONResponse({key: act(named[0])})

    @router.get("/password")
    def password_info(username: str = "") -> Response:
        if known(username) is None:
            return unknown_user()
        return JSONResponse({"days_left": state.password_days_left(username),
                             "changes": state.password_changes_of(username)})

    @router.post("/second-factor")
    async def set_second_factor(request: Request) -> Response:
        """`{"username", "kind": "totp"|"sms"|"email"|"push"}`."""
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        try:
            kind = state.set_second_factor(str(body.get("username")), str(body.get("kind")))
        except ValueError:
            return JSONResponse({"error": 'kind must be "totp", "sms", "email" or "push"'}, status_code=422)
        except KeyError:
            return unknown_user()
        return JSONResponse({"username": body["username"], "kind": kind})

    @router.get("/outbox")
    def outbox(username: str = "") -> Response:
        """The codes texted or e-mailed to the user, oldest first."""
        return user_view(username, "messages", state.outbox_for)

    @router.post("/outbox/expire")
    async def expire_outbox(request: Request) -> Response:
        """`{"username"}`: the user's outstanding codes (and pending push requests) expire now."""
        return await user_action(request, "expired", state.expire_outstanding)

    @router.get("/push")
    def push_requests(username: str = "") -> Response:
        return user_view(username, "requests", state.push_requests_for)

    @router.post("/push")
    async def decide_push(request: Request) -> Response:
        """`{"username", "decision": "approve"|"deny"}`: decides the user's newest pending request."""
        named = await user_of(request)
        if isinstance(named, Response):
            return named
        username, body = named
        decision = body.get("decision")
        if decision not in ("approve", "deny"):
            return JSONResponse({"error": 'decision must be "approve" or "deny"'}, status_code=422)
        decided = state.decide_push(username, "approve" if decision == "approve" else "deny")
        if decided is None:
            return JSONResponse({"error": "no pending sign-in request"}, status_code=404)
        return JSONResponse({"id": decided.id, "status": decided.status, "created": decided.created})

    @router.get("/devices")
    def devices(username: str = "") -> Response:
        return user_view(username, "devices", state.devices_of)

    @router.post("/devices/forget")
    async def forget_devices(request: Request) -> Response:
        """`{"username"}`: the user's remembered devices are forgotten (a new device, an unusual hour)."""
        return await user_action(request, "forgotten", state.forget_devices)

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

    def second_factor_passed(session: IdpSession) -> Response:
        """The password change when the password has expired, else signed in: consent, then the client."""
        assert session.username is not None
        if state.password_days_left(session.username) <= 0:
            state.set_stage(session, "password_change")
            return RedirectResponse("/password", status_code=302)
        state.set_stage(session, "auth")
        try:
            return proceed(session)
        except _Redirect as redirect:  # the response must keep the cookies set on it
            return RedirectResponse(redirect.location, status_code=302)

    def remembering(response: Response, session: IdpSession, form_data: Any) -> Response:
        """Sets the remembered-device cookie when the user ticked the box."""
        if form_data.get("remember") == "1" and session.username:
            response.set_cookie(v.DEVICE_COOKIE, state.remember_device(session.username), httponly=True,
                                samesite="lax", path="/", max_age=REMEMBER_DEVICE_DAYS * 24 * 3600)
        return response

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
        session = state.signed_in(session, username)
        if state.recognises_device(request.cookies.get(v.DEVICE_COOKIE), username):
            return with_cookie(second_factor_passed(session), session)
        state.begin_second_factor(session)
        return with_cookie(RedirectResponse("/mfa", status_code=302), session)

    def channel(session: IdpSession) -> str:
        assert session.username is not None
        kind = state.second_factor_of(session.username)
        said = {"totp": v.MSG_CHANNEL_TOTP, "sms": v.MSG_CHANNEL_SMS, "email": v.MSG_CHANNEL_EMAIL,
                "push": v.MSG_CHANNEL_PUSH}[kind].format(to=state.masked_contact(session.username))
        return f'<p id="mfa-channel" data-channel="{e(kind)}">{e(said)}</p>'

    def remember_box() -> str:
        return checkbox(v.MSG_REMEMBER_DEVICE, "remember", "1", box_id="remember-device")

    def mfa_page(session: IdpSession, said: str | None, *, attempts_left: int | None = None) -> Response:
        assert session.username is not None
        if state.second_factor_of(session.username) == "push":
            return push_page(session, waiting=False)
        left = ""
        if attempts_left is not None:
            said_left = v.MSG_ATTEMPTS_LEFT.format(n=attempts_left, s="" if attempts_left == 1 else "s")
            left = f'<p id="attempts-left">{e(said_left)}</p>'
        body = (channel(session) + message(said) + left
                + form("/mfa", field("Verification code", "code", autocomplete="one-time-code") + remember_box(),
                       ("verify", "Verify"), csrf=session.csrf, form_id="mfa-form"))
        return page("Verify it's you", body)

    def push_page(session: IdpSession, *, waiting: bool) -> Response:
        status = f'<p id="push-status" data-status="waiting">{e(v.MSG_PUSH_WAITING)}</p>' if waiting else ""
        body = (channel(session) + status + form("/mfa/push", remember_box(), ("push-check", "I approved it"),
                                                 csrf=session.csrf, form_id="push-form"))
        return page("Verify it's you", body)

    def signed_out_to_login(session: IdpSession, said: str, *, keep_request: bool) -> Response:
        """The sign-in ends at the second factor: the login page on a new anonymous session (which keeps the
        client's request when the user may simply sign in again)."""
        state.drop_session(session.id)
        fresh = state.new_session()
        if keep_request:
            fresh.pending = session.pending
        return login_page(fresh, said)

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
        kind = state.second_factor_of(session.username)
        if kind == "push":
            return push_page(session, waiting=False)
        result = state.check_totp(session.username, str(data.get("code") or "").strip())
        if result == "locked":
            return signed_out_to_login(session, v.MSG_LOCKED, keep_request=False)
        if result == "expired":
            return mfa_page(session, v.MSG_CODE_EXPIRED)
        if result == "reused":
            return mfa_page(session, v.MSG_CODE_REUSED)
        if result == "invalid":
            return mfa_page(session, v.MSG_CODE_INVALID if kind == "totp" else v.MSG_CODE_WRONG,
                            attempts_left=state.mfa_attempts_left(session.username))
        return remembering(second_factor_passed(session), session, data)

    @app.post("/mfa/push")
    async def push_submit(request: Request) -> Response:
        session = require(request, "mfa")
        data = await request.form()
        if not csrf_ok(session, data):
            return refused(v.MSG_SESSION_GONE)
        assert session.username is not None
        if state.second_factor_of(session.username) != "push":
            raise _Redirect("/mfa")
        status = state.push_status(session)
        if status == "pending":
            return push_page(session, waiting=True)
        if status == "denied":
            return signed_out_to_login(session, v.MSG_PUSH_DENIED, keep_request=True)
        if status == "expired":
            return signed_out_to_login(session, v.MSG_PUSH_EXPIRED, keep_request=True)
        return remembering(second_factor_passed(session), session, data)

    def password_page(session: IdpSession, problems: list[str], *, voluntary: bool = False) -> Response:
        rules = "".join(f"<li>{e(rule)}</li>" for rule in PASSWORD_RULES)
        errors = "".join(message(p) for p in problems)
        notice = "" if voluntary else message(v.MSG_PASSWORD_EXPIRED, "notice")
        body = (notice + f'<ul id="password-rules">{rules}</ul>' + errors
                + form("/account/password" if voluntary else "/password",
                       field("Current password", "currentPassword", kind="password")
                       + field("New password", "newPassword", kind="password")
                       + field("Confirm new password", "confirmPassword", kind="password"),
                       ("change-password", "Change password"), csrf=session.csrf, form_id="password-form"))
        return page("Change your password", body)

    @app.get("/password")
    def password_form(request: Request) -> Response:
        return password_page(require(request, "password_change"), [])

    async def changed_password(request: Request, session: IdpSession, *, voluntary: bool) -> Response | None:
        """Both change forms' post: the three fields checked against the rules; the form again with what is
        wrong, a refusal for a stale form, or None once the password was changed."""
        data = await request.form()
        if not csrf_ok(session, data):
            return refused(v.MSG_SESSION_GONE)
        assert session.username is not None
        fields = {k: str(data.get(k) or "") for k in ("currentPassword", "newPassword", "confirmPassword")}
        problems = state.password_problems(session.username, fields["currentPassword"], fields["newPassword"],
                                           fields["confirmPassword"])
        if problems:
            return password_page(session, problems, voluntary=voluntary)
        state.change_password(session.username, fields["newPassword"])
        return None

    @app.post("/password")
    async def password_submit(request: Request) -> Response:
        session = require(request, "password_change")
        if (answer := await changed_password(request, session, voluntary=False)) is not None:
            return answer
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
                                        '</p><p><a href="/account/password" id="change-password-link">Change '
                                        'password</a></p><p><a href="/logout" id="idp-signout">Sign out</a></p>')

    @app.get("/account/password")
    def account_password_form(request: Request) -> Response:
        return password_page(require(request, "auth"), [], voluntary=True)

    @app.post("/account/password")
    async def account_password_submit(request: Request) -> Response:
        """The voluntary change: the forced change's rules; the user stays signed in."""
        session = require(request, "auth")
        if (answer := await changed_password(request, session, voluntary=True)) is not None:
            return answer
        return page("Password changed", f'<p class="notice" id="password-changed">{e(v.MSG_PASSWORD_CHANGED)}</p>'
                                        '<p><a href="/account" id="idp-account">Back to your Crossway ID</a></p>')

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
