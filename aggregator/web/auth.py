"""Who is asking: passwords (scrypt), browser sessions (cookie), API tokens (bearer), roles.

Roles: `admin` (users, portal accounts, and everything staff and auditors do), `staff` (worklist,
appointments, on-demand lookups), `auditor` (evidence browser, verify, access log). Every route states
its roles with one of the dependencies below; `create_app` refuses to start if a route has none.

Cookies and tokens are random values; the database keeps only an HMAC of them under the web secret key,
so a copy of the database signs nobody in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import HTTPException, Request

from aggregator.store import web as store
from aggregator.store.tables import WebSessionRow, WebUserRow
from aggregator.web.context import context_of, keyed_hash
from aggregator.web.csrf import check_form_token

ADMIN, STAFF, AUDITOR = "admin", "staff", "auditor"
SESSION_COOKIE = "aggregator_session"
MIN_PASSWORD_LENGTH = 12
# scrypt at N=2^15, r=8, p=1 uses 32 MiB and ~0.1 s per hash: costly to guess, cheap to sign in once.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 2**15, 8, 1, 32
# Throttle: this many failures in the window stops further tries for that user name, or from that address.
FAILURES_PER_USER, FAILURES_PER_ADDRESS, FAILURE_WINDOW = 5, 20, timedelta(minutes=15)
TOUCH_EVERY = timedelta(seconds=30)  # last-seen is written at most this often


# --- passwords ---------------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash` (base64): parameters and the per-user salt travel with the hash."""
    check_password_policy(password)
    salt = os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


# A real hash of a random password: signing in as an unknown user costs the same time as a wrong password.
_DUMMY_HASH = None


def burn_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _DUMMY_HASH)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_DKLEN,
                          maxmem=128 * r * n * 2 + 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- the web secret key --------------------------------------------------------------------------------

def load_secret_key(path: Path) -> bytes:
    """32 random bytes in an owner-only file, made on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
    data = path.read_bytes()
    if len(data) < 32:
        raise RuntimeError(f"web secret key file {path} is too short; delete it to make a new one")
    return data


def new_api_token() -> str:
    return "agt_" + secrets.token_urlsafe(32)


# --- who is asking ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Principal:
    user: WebUserRow
    session: WebSessionRow | None  # None for API token requests
    client_ip: str | None

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""


class LoginRequired(Exception):
    """No valid session: HTML routes answer with a redirect to the sign-in page."""

    def __init__(self, expired: bool = False) -> None:
        self.expired = expired


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def session_principal(request: Request) -> Principal:
    """The signed-in user of this browser, or LoginRequired (idle or too old sessions end here)."""
    ctx = context_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise LoginRequired()
    session_hash = keyed_hash(ctx.secret_key, cookie)
    found = store.session_with_user(ctx.repository, session_hash)
    if found is None:
        raise LoginRequired()
    session, user = found
    now = ctx.now()
    idle = now - store.as_utc(session.last_seen_at)
    age = now - store.as_utc(session.created_at)
    if (user.disabled or idle > timedelta(minutes=ctx.settings.web_idle_timeout_minutes)
            or age > timedelta(hours=ctx.settings.web_session_max_hours)):
        store.end_session(ctx.repository, session_hash)
        raise LoginRequired(expired=not user.disabled)
    if idle > TOUCH_EVERY:
        store.touch_session(ctx.repository, session_hash, now)
    principal = Principal(user=user, session=session, client_ip=client_ip(request))
    request.state.principal = principal
    return principal


def token_principal(request: Request) -> Principal:
    ctx = context_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "an API token is needed: Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    user = store.user_for_token(ctx.repository, keyed_hash(ctx.secret_key, token.strip()), ctx.now())
    if user is None:
        raise HTTPException(401, "unknown, expired or revoked API token", headers={"WWW-Authenticate": "Bearer"})
    principal = Principal(user=user, session=None, client_ip=client_ip(request))
    request.state.principal = principal
    return principal


class Forbidden(Exception):
    """Signed in, but this role may not use this route."""


def _check_role(principal: Principal, roles: frozenset[str]) -> None:
    if principal.role not in roles:
        raise Forbidden()


class Rule:
    """Who may use a route, as a dependency; `create_app` and the role matrix test read `.roles`, `.kind`
    ("page", "form", "api" or "public") from each route's dependencies."""

    def __init__(self, kind: str, roles: frozenset[str]) -> None:
        self.kind = kind
        self.roles = roles

    def __repr__(self) -> str:
        return f"RoleRule({self.kind}, {sorted(self.roles)})"


class RoleRule(Rule):
    """Authenticates (session cookie, or API token for "api") and checks the role; forms check CSRF too."""

    async def __call__(self, request: Request) -> Principal:
        if self.kind == "api":
            principal = token_principal(request)
            if principal.role not in self.roles:
                raise HTTPException(403, "this role may not use this endpoint")
            return principal
        principal = session_principal(request)
        _check_role(principal, self.roles)
        if self.kind == "form":
            await check_form_token(request, principal.csrf_token)
        return principal


class PublicRule(Rule):
    """Routes anyone may reach: the sign-in page and the health probes (they still have a rule, so none is forgotten)."""

    def __init__(self) -> None:
        super().__init__("public", frozenset())

    async def __call__(self, request: Request) -> None:
        return None


public = PublicRule()
EVERYONE = frozenset({ADMIN, STAFF, AUDITOR})
DESK = frozenset({ADMIN, STAFF})  # front-desk work: worklist, appointments, lookups
AUDIT = frozenset({ADMIN, AUDITOR})  # evidence browser, verification, access log
ADMINS = frozenset({ADMIN})


def page(roles: frozenset[str]) -> RoleRule:
    """A GET page for these roles (session cookie)."""
    return RoleRule("page", roles)


def form(roles: frozenset[str]) -> RoleRule:
    """A form POST for these roles (session cookie + CSRF token)."""
    return RoleRule("form", roles)


def api(roles: frozenset[str]) -> RoleRule:
    """A JSON API endpoint for these roles (bearer API token)."""
    return RoleRule("api", roles)


def rule_of(route: object) -> Rule | None:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Rule):
            return dependency.call
    return None
