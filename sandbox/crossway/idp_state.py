"""What Crossway ID (the identity provider) remembers: its sessions, the pending authorization requests,
the codes it issued, who consented to which client, passwords and their age, lockouts and used TOTP steps.

Authorization codes are single use, expire after `code_lifetime_seconds`, and are bound to the client
and the redirect URI they were issued for (`redeem_code`). A Crossway ID session lives
`idp_session_seconds` (absolute), independent of the hub's session: a browser whose hub session expired
but whose Crossway ID session lives is sent back to the hub with a new code without a password.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from sandbox.crossway.directory import Directory, HubAccount
from sandbox.crossway.served import ServedState, SharedSettings
from sandbox.crossway.settings import SandboxCalendar
from sandbox.portal_state import LOCKOUT_AFTER, AccountCounters, TotpCheck, check_totp_code

IdpStage = Literal["anonymous", "mfa", "password_change", "auth"]
PASSWORD_RULES = (
    "At least 12 characters.",
    "At least one uppercase letter, one lowercase letter, one digit and one symbol.",
    "Must not contain your username.",
    "Must not be your current password or one of your last 3 passwords.",
)
PASSWORD_HISTORY = 3
# Password age at the dataset's as_of, by role: frontdesk's password nears expiry (the warning banner
# shows on every sign-in with the default settings), billing's is fresh.
DEFAULT_PASSWORD_AGE_DAYS = {"frontdesk": 50, "billing": 5}


@dataclass(frozen=True)
class AuthRequest:
    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    scope: str


@dataclass
class IdpSession:
    id: str
    csrf: str
    stage: IdpStage
    username: str | None
    created: float
    pending: AuthRequest | None = None  # the authorization request waiting for sign-in or consent


@dataclass
class IssuedCode:
    client_id: str
    redirect_uri: str
    username: str
    nonce: str
    issued: float
    redeemed: bool = False


@dataclass(frozen=True)
class IdTokenClaims:
    """What the hub learns from a redeemed code (an ID token's claims, unsigned: it never leaves the process)."""

    sub: str  # the username
    name: str
    nonce: str
    aud: str
    password_expires_on: date


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    redirect_uris: frozenset[str]


@dataclass
class IdpCounters:
    codes_issued: int = 0
    codes_redeemed: int = 0
    codes_refused: int = 0  # unknown, reused, expired, or for another client / redirect URI
    silent_authorizations: int = 0  # a live session answered /authorize without asking anything
    consents_given: int = 0
    consents_refused: int = 0
    password_changes: int = 0
    refused_requests: int = 0  # /authorize with an unknown client, redirect URI, or no state/nonce
    by_user: dict[str, int] = field(default_factory=dict)  # sign-ins completed (codes issued) per user


class IdpState(ServedState):
    def __init__(self, directory: Directory, seed: int, calendar: SandboxCalendar, settings: SharedSettings) -> None:
        self.directory = directory
        self.clients: dict[str, Client] = {}
        super().__init__("crossway-id", seed, calendar, settings)
        self.reset()

    # --- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Sessions, codes, consents, counters, lockouts, passwords and their ages back to the start
        (registered clients stay)."""
        with self._lock:
            self.reset_served()
            self.sessions: dict[str, IdpSession] = {}
            self.codes: dict[str, IssuedCode] = {}
            self.consents: set[tuple[str, str]] = set()  # (username, client_id)
            self.counters: dict[str, AccountCounters] = {}
            self.totals = IdpCounters()
            self.passwords = {a.username: a.password for a in self.directory.accounts}
            self.password_history: dict[str, list[str]] = {a.username: [] for a in self.directory.accounts}
            as_of = self.calendar.as_of
            self.password_changed_on = {a.username: as_of - timedelta(days=DEFAULT_PASSWORD_AGE_DAYS.get(a.role, 0))
                                        for a in self.directory.accounts}
            self.totp_offset = 0.0

    def register_client(self, client_id: str, name: str, redirect_uri: str) -> None:
        with self._lock:
            known = self.clients.get(client_id)
            uris = (known.redirect_uris if known else frozenset()) | {redirect_uri}
            self.clients[client_id] = Client(client_id, name, uris)

    # --- accounts -------------------------------------------------------------------------------

    def account(self, username: str) -> HubAccount | None:
        return self.directory.account(username)

    def counters_for(self, username: str) -> AccountCounters:
        with self._lock:
            return self.counters.setdefault(username, AccountCounters())

    def check_password(self, username: str, password: str) -> Literal["ok", "invalid", "locked"]:
        """Lockout after LOCKOUT_AFTER consecutive failures, as every sandbox portal (sandbox.portal_state)."""
        with self._lock:
            counters = self.counters_for(username)
            counters.login_attempts += 1
            if counters.locked:
                counters.locked_attempts += 1
                return "locked"
            current = self.passwords.get(username)
            if current is None or not secrets.compare_digest(password.encode(), current.encode()):
                counters.failed_logins += 1
                counters.consecutive_failures += 1
                if counters.consecutive_failures >= LOCKOUT_AFTER:
                    counters.locked = True
                    return "locked"
                return "invalid"
            counters.consecutive_failures = 0
            return "ok"

    def advance_totp_clock(self, *, to_offset: float) -> float:
        with self._lock:
            self.totp_offset = max(self.totp_offset, float(to_offset))
            return self.totp_offset

    def check_totp(self, username: str, code: str) -> TotpCheck:
        """RFC 6238, one step of drift either way, single use (like `PortalState.check_totp`)."""
        account = self.account(username)
        with self._lock:
            counters = self.counters_for(username)
            return check_totp_code(counters, account.totp_secret if account else None, code,
                                   self.calendar.now() + self.totp_offset)

    # --- passwords ------------------------------------------------------------------------------

    def password_expires_on(self, username: str) -> date:
        with self._lock:
            changed = self.password_changed_on.get(username, self.calendar.as_of)
        return changed + timedelta(days=self.settings.password_max_age_days)

    def password_days_left(self, username: str) -> int:
        """Days until the password expires (0 or less: expired), counted in the hub's calendar."""
        return (self.password_expires_on(username) - self.calendar.today()).days

    def set_password_age(self, username: str, age_days: int) -> None:
        with self._lock:
            if username not in self.passwords:
                raise KeyError(username)
            self.password_changed_on[username] = self.calendar.today() - timedelta(days=age_days)

    def password_problems(self, username: str, current: str, new: str, confirm: str) -> list[str]:
        """Why a password change is refused (empty: accepted)."""
        with self._lock:
            stored = self.passwords.get(username, "")
            history = list(self.password_history.get(username, []))
        problems = []
        if not secrets.compare_digest(current.encode(), stored.encode()):
            problems.append("The current password is not correct.")
        if new != confirm:
            problems.append("The new passwords do not match.")
        if len(new) < 12:
            problems.append(PASSWORD_RULES[0])
        if not (re.search(r"[A-Z]", new) and re.search(r"[a-z]", new) and re.search(r"\d", new)
                and re.search(r"[^A-Za-z0-9]", new)):
            problems.append(PASSWORD_RULES[1])
        if username.split("@")[0].casefold() in new.casefold():
            problems.append(PASSWORD_RULES[2])
        if new == stored or new in history:
            problems.append(PASSWORD_RULES[3])
        return problems

    def change_password(self, username: str, new: str) -> None:
        with self._lock:
            history = self.password_history.setdefault(username, [])
            history.append(self.passwords[username])
            del history[:-PASSWORD_HISTORY]
            self.passwords[username] = new
            self.password_changed_on[username] = self.calendar.today()
            self.totals.password_changes += 1

    # --- sessions -------------------------------------------------------------------------------

    def new_session(self) -> IdpSession:
        session = IdpSession(secrets.token_hex(16), secrets.token_urlsafe(24), "anonymous", None, self.calendar.now())
        with self._lock:
            self.sessions[session.id] = session
        return session

    def lookup(self, session_id: str | None) -> IdpSession | None:
        if not session_id:
            return None
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                return None
            if self.calendar.now() - session.created > self.settings.idp_session_seconds:
                del self.sessions[session_id]
                return None
            return session

    def drop_session(self, session_id: str | None) -> None:
        with self._lock:
            self.sessions.pop(session_id or "", None)

    def signed_in(self, previous: IdpSession, username: str) -> IdpSession:
        """A new session id once the password is right (no session fixation); the pending request moves over."""
        with self._lock:
            self.sessions.pop(previous.id, None)
            session = IdpSession(secrets.token_hex(16), secrets.token_urlsafe(24), "mfa", username,
                                 self.calendar.now(), previous.pending)
            self.sessions[session.id] = session
            return session

    def set_stage(self, session: IdpSession, stage: IdpStage) -> None:
        with self._lock:
            session.stage = stage
            if stage == "auth" and session.username:
                self.counters_for(session.username).successful_logins += 1

    def expire_sessions(self) -> int:
        with self._lock:
            dropped = len(self.sessions)
            self.sessions.clear()
            return dropped

    def username_for(self, session_id: str | None) -> str | None:
        with self._lock:
            session = self.sessions.get(session_id or "")
            return session.username if session else None

    # --- authorization requests, consent, codes --------------------------------------------------

    def check_request(self, client_id: str, redirect_uri: str) -> Client | None:
        with self._lock:
            client = self.clients.get(client_id)
            if client is None or redirect_uri not in client.redirect_uris:
                self.totals.refused_requests += 1
                return None
            return client

    def note_refused_request(self) -> None:
        with self._lock:
            self.totals.refused_requests += 1

    def has_consent(self, username: str, client_id: str) -> bool:
        with self._lock:
            return (username, client_id) in self.consents

    def record_consent(self, username: str, client_id: str, given: bool) -> None:
        with self._lock:
            if given:
                self.consents.add((username, client_id))
                self.totals.consents_given += 1
            else:
                self.totals.consents_refused += 1

    def issue_code(self, username: str, request: AuthRequest, *, silent: bool) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = IssuedCode(request.client_id, request.redirect_uri, username, request.nonce,
                                          self.calendar.now())
            self.totals.codes_issued += 1
            self.totals.by_user[username] = self.totals.by_user.get(username, 0) + 1
            if silent:
                self.totals.silent_authorizations += 1
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str) -> IdTokenClaims | str:
        """The token endpoint's check: the claims, or an OAuth error code (`invalid_grant`)."""
        with self._lock:
            issued = self.codes.get(code)
            fresh = issued is not None and self.calendar.now() - issued.issued <= self.settings.code_lifetime_seconds
            if (issued is None or issued.redeemed or not fresh or issued.client_id != client_id
                    or issued.redirect_uri != redirect_uri):
                self.totals.codes_refused += 1
                return "invalid_grant"
            issued.redeemed = True
            self.totals.codes_redeemed += 1
            account = self.account(issued.username)
            name = account.display_name if account else issued.username
        return IdTokenClaims(sub=issued.username, name=name, nonce=issued.nonce, aud=client_id,
                             password_expires_on=self.password_expires_on(issued.username))

    # --- observation ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._lock:
            accounts = {a.username: AccountCounters() for a in self.directory.accounts}
            accounts.update(self.counters)
            return {
                "app": self.name,
                "accounts": {name: {**c.public(), "password_days_left": self.password_days_left(name)}
                             for name, c in accounts.items()},
                "consents": sorted(f"{user} -> {client}" for user, client in self.consents),
                "totals": {**self.request_totals(), **{k: v for k, v in vars(self.totals).items() if k != "by_user"},
                           "codes_issued_by_user": dict(self.totals.by_user),
                           "active_sessions": len(self.sessions)},
                "requests": self.request_log(),
            }
