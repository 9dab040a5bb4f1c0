"""Sign in, sign out, and the home page (which sends each role to its own start page)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from aggregator.store import web as store
from aggregator.web import views
from aggregator.web.auth import (
    AUDITOR,
    EVERYONE,
    FAILURE_WINDOW,
    FAILURES_PER_ADDRESS,
    FAILURES_PER_USER,
    SESSION_COOKIE,
    Principal,
    burn_time,
    client_ip,
    context_of,
    form,
    keyed_hash,
    page,
    public,
    verify_password,
)
from aggregator.web.csrf import LOGIN_COOKIE, check_login_token, login_pair, new_session_token

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only paths on this site: "//evil.example" or "https://..." would make the login an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, status_code: int = 200, message: str | None = None) -> Response:
    cookie, token = login_pair(request)
    response = views.render(request, "login.html", status_code=status_code, login_token=token, message=message,
                            next=_safe_next(request.query_params.get("next")),
                            expired=request.query_params.get("expired") == "1")
    response.set_cookie(LOGIN_COOKIE, cookie, httponly=True, samesite="strict", path="/login",
                        secure=context_of(request).settings.web_cookie_secure)
    return response


@router.get("/login", dependencies=[Depends(public)])
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", dependencies=[Depends(public)])
async def login(request: Request, username: Annotated[str, Form(max_length=80)],
                password: Annotated[str, Form(max_length=200)], next: Annotated[str, Form()] = "/") -> Response:
    await check_login_token(request)
    ctx = context_of(request)
    address = client_ip(request)
    username = username.strip()
    by_user, by_address = store.recent_login_failures(ctx.repository, username=username, client_ip=address,
                                                      since=ctx.now() - FAILURE_WINDOW)
    if by_user >= FAILURES_PER_USER or by_address >= FAILURES_PER_ADDRESS:
        # No password check at all while throttled: guessing gains nothing, and the account is not locked
        # for good (the window slides), so an attacker cannot lock staff out for longer than that.
        return _login_page(request, 429, f"Too many failed sign-ins. Try again in {FAILURE_WINDOW.seconds // 60} minutes.")
    user = store.user_by_name(ctx.repository, username)
    # scrypt takes ~0.1 s of CPU by design: in a worker thread, so other requests go on meanwhile.
    if user is None:
        await run_in_threadpool(burn_time, password)
        verified = False
    else:
        verified = await run_in_threadpool(verify_password, password, user.password_hash)
    if user is None or user.disabled or not verified:
        store.record_login_failure(ctx.repository, username, address)
        return _login_page(request, 401, "Wrong user name or password.")
    store.clear_login_failures(ctx.repository, username)
    token = secrets.token_urlsafe(32)  # a new session every sign-in: no fixation
    store.create_session(ctx.repository, session_hash=keyed_hash(ctx.secret_key, token), user_id=user.id,
                         csrf_token=new_session_token(), client_ip=address)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=ctx.settings.web_cookie_secure)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, principal: Annotated[Principal, Depends(form(EVERYONE))]) -> Response:
    ctx = context_of(request)
    store.end_session(ctx.repository, principal.session.id)  # type: ignore[union-attr]
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def home(principal: Annotated[Principal, Depends(page(EVERYONE))]) -> Response:
    return RedirectResponse("/audit/evidence" if principal.role == AUDITOR else "/worklist", status_code=303)
