"""CSRF tokens on every form.

Signed-in forms carry the session's own random token (`csrf_token` field), compared in constant time.
The sign-in form has no session yet: it uses a double-submit pair, a random value in an HttpOnly,
SameSite=Strict cookie and its HMAC under the web secret key in the form, so a page on another site can
neither read nor forge the pair.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from aggregator.web.context import context_of, keyed_hash

FIELD = "csrf_token"
LOGIN_COOKIE = "aggregator_login_csrf"


class CsrfRejected(Exception):
    """A form post without the right token: answered with 403, nothing done."""


def new_session_token() -> str:
    return secrets.token_hex(32)


async def check_form_token(request: Request, expected: str) -> None:
    """`expected`: the signed-in session's token ("" for a request without a session, which is refused)."""
    form = await request.form()
    given = form.get(FIELD)
    if not isinstance(given, str) or not expected or not hmac.compare_digest(given, expected):
        raise CsrfRejected()


def login_pair(request: Request) -> tuple[str, str]:
    """(cookie value, form value) for the sign-in form; an existing cookie is kept."""
    cookie = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    return cookie, keyed_hash(context_of(request).secret_key, "login:" + cookie)


async def check_login_token(request: Request) -> None:
    cookie = request.cookies.get(LOGIN_COOKIE)
    form = await request.form()
    given = form.get(FIELD)
    expected = keyed_hash(context_of(request).secret_key, "login:" + cookie) if cookie else None
    if not isinstance(given, str) or expected is None or not hmac.compare_digest(given, expected):
        raise CsrfRejected()
