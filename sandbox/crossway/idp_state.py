"""What Crossway ID (the identity provider) remembers: its sessions, the pending authorization requests,
the codes it issued, who consented to which client, passwords and their age, lockouts and used TOTP steps.

Authorization codes are single use, expire after `code_lifetime_seconds`, and are bound to the client
and the redirect URI they were issued for (`redeem_code`). A Crossway ID session lives
`idp_session_seconds` (absolute), independent of the hub's session: a browser whose hub session expired
but whose Crossway ID session lives is sent back to the hub with a new code without a password.

Second factors: each user has one (`second_factor`: TOTP by default; a control switches it). A texted or
e-mailed code is issued when the password is accepted, lands in the outbox (a control reads it) and lives
`mfa_code_seconds` on the sandbox clock; only the newest unexpired code is accepted, once. A push request
is decided by a control. LOCKOUT_AFTER consecutive wrong codes (any kind, TOTP too) lock the user as wrong
passwords do. A right code with "remember this device" gives the browser a device token (kept here only as
its SHA-256) that skips the second factor for that user until its day, counted on the sandbox calendar.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from sandbox.crossway.directory import Directory, HubAccount
from sandbox.crossway.served import ServedState, SharedSettings
from sandbox.crossway.settings import SandboxCalendar
from sandbox.portal_state import LOCKOUT_AFTER, AccountCounters, check_totp_code
from sandbox.rng import rng_for

IdpStage = Literal["anonymous", "mfa", "password_change", "auth"]
SecondFactor = Literal["totp", "sms", "email", "push"]
SECOND_FACTORS: tuple[SecondFactor, ...] = ("totp", "sms", "email", "push")
CodeCheck = Literal["ok", "invalid", "reused", "expired", "locked"]
PushStatus = Literal["pending", "approved", "denied", "expired"]
REMEMBER_DEVICE_DAYS = 30
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
    push_id: str | None = None  # the push request this sign-in waits for (push users)


@dataclass
class IssuedCode:
    client_id: str
    redirect_uri: str
    username: str
    nonce: str
    issued: float
    redeemed: bool = False


@dataclass
class SentCode:
    """A code texted or e-mailed to a user (the sandbox's outbox)."""

    username: str
    channel: Literal["sms", "email"]
    code: str
    sent_at: float
    expires_at: float
    used: bool = False

    def public(self) -> dict[str, Any]:
        return {"username": self.username, "channel": self.channel, "code": self.code, "sent_at": self.sent_at,
                "expires_at": self.expires_at}


@dataclass
class PushRequest:
    id: str
    username: str
    status: PushStatus
    created: float
    expires_at: float


@dataclass(frozen=True)
class RememberedDevice:
    username: str
    expires_on: date  # recognised while the sandbox calendar's today is before this day


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
    codes_sent: int = 0  # texted or e-mailed codes
    codes_wrong: int = 0  # wrong second-factor codes of any kind (TOTP too)
    codes_expired: int = 0  # a texted/e-mailed code entered after it expired
    push_requests: int = 0
    devices_remembered: int = 0
    devices_recognised: int = 0  # sign-ins whose device cookie skipped the second factor
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
            self.second_factor: dict[str, SecondFactor] = {a.username: "totp" for a in self.directory.accounts}
            self.mfa_failures_in_a_row: dict[str, int] = {}
            self.outbox: list[SentCode] = []
            self.push: list[PushRequest] = []
            self.devices: dict[str, RememberedDevice] = {}  # SHA-256 of the cookie's token -> device
            self.password_change_count: dict[str, int] = {}

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

    def check_totp(self, username: str, code: str) -> CodeCheck:
        """The user's second-factor code, whatever its kind (the name is older than the other kinds).

        TOTP: RFC 6238, one step of drift either way, single use (like `PortalState.check_totp`); sms/email:
        the newest code sent, once, before it expires ("expired" when the newest outstanding one has: not
        counted as wrong). The LOCKOUT_AFTER-th wrong code in a row locks the user ("locked")."""
        account = self.account(username)
        with self._lock:
            counters = self.counters_for(username)
            kind = self.second_factor.get(username, "totp")
            if kind == "totp":
                result: CodeCheck = check_totp_code(counters, account.totp_secret if account else None, code,
                                                    self.calendar.now() + self.totp_offset)
            else:
                result = self._check_sent_code(counters, username, code)
            if result == "ok":
                self.mfa_failures_in_a_row[username] = 0
            elif result == "invalid":
                self.totals.codes_wrong += 1
                failures = self.mfa_failures_in_a_row.get(username, 0) + 1
                self.mfa_failures_in_a_row[username] = failures
                if failures >= LOCKOUT_AFTER:
                    counters.locked = True
                    return "locked"
            return result

    def mfa_attempts_left(self, username: str) -> int:
        with self._lock:
            return max(0, LOCKOUT_AFTER - self.mfa_failures_in_a_row.get(username, 0))

    def _check_sent_code(self, counters: AccountCounters, username: str, code: str) -> CodeCheck:
        counters.mfa_attempts += 1
        newest = next((c for c in reversed(self.outbox) if c.username == username), None)
        if newest is None or newest.used:
            counters.mfa_failures += 1
            return "invalid"
        if self.calendar.now() >= newest.expires_at:
            self.totals.codes_expired += 1
            return "expired"
        if not secrets.compare_digest(code.encode(), newest.code.encode()):
            counters.mfa_failures += 1
            return "invalid"
        newest.used = True
        return "ok"

    # --- second factors -------------------------------------------------------------------------

    def set_second_factor(self, username: str, kind: str) -> SecondFactor:
        """KeyError for an unknown user, ValueError for an unknown kind."""
        chosen = next((k for k in SECOND_FACTORS if k == kind), None)
        if chosen is None:
            raise ValueError(kind)
        with self._lock:
            if username not in self.second_factor:
                raise KeyError(username)
            self.second_factor[username] = chosen
            return chosen

    def second_factor_of(self, username: str) -> SecondFactor:
        with self._lock:
            return self.second_factor.get(username, "totp")

    def masked_contact(self, username: str) -> str:
        """Where a code goes, masked as the page shows it: a phone for sms, an e-mail address otherwise.
        Deterministic per user (the directory has no phone or e-mail)."""
        account = self.account(username)
        if self.second_factor_of(username) == "sms":
            last4 = rng_for(self.seed, "crossway", "phone", username).randint(0, 9999)
            return f"(•••) •••-{last4:04d}"
        initial = (account.role if account else username)[:1].lower()
        return f"{initial}•••@example.test"

    def begin_second_factor(self, session: IdpSession) -> None:
        """The password was accepted and no remembered device spoke for the user: send a code (sms, email)
        or a push request (push), as the user's second factor asks; nothing for TOTP."""
        assert session.username is not None
        username = session.username
        now = self.calendar.now()
        lifetime = self.settings.mfa_code_seconds
        with self._lock:
            kind = self.second_factor.get(username, "totp")
            if kind in ("sms", "email"):
                code = f"{secrets.randbelow(10**6):06d}"
                self.outbox.append(SentCode(username, "sms" if kind == "sms" else "email", code, now, now + lifetime))
                self.totals.codes_sent += 1
            elif kind == "push":
                request = PushRequest(secrets.token_hex(8), username, "pending", now, now + lifetime)
                self.push.append(request)
                session.push_id = request.id
                self.totals.push_requests += 1

    def outbox_for(self, username: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c.public() for c in self.outbox if c.username == username]

    def expire_outstanding(self, username: str) -> int:
        """The user's unused codes and pending push requests expire now (tests do not wait 5 minutes)."""
        now = self.calendar.now()
        with self._lock:
            outstanding = [c for c in self.outbox if c.username == username and not c.used and c.expires_at > now]
            for code in outstanding:
                code.expires_at = now
            pending = [p for p in self.push if p.username == username and self._push_status(p) == "pending"]
            for request in pending:
                request.expires_at = now
            return len(outstanding) + len(pending)

    def _push_status(self, request: PushRequest) -> PushStatus:
        if request.status == "pending" and self.calendar.now() >= request.expires_at:
            request.status = "expired"
        return request.status

    def push_requests_for(self, username: str) -> list[dict[str, Any]]:
        with self._lock:
            return [{"id": p.id, "status": self._push_status(p), "created": p.created}
                    for p in self.push if p.username == username]

    def decide_push(self, username: str, decision: Literal["approve", "deny"]) -> PushRequest | None:
        """Approve or deny the user's newest pending request (None when there is none)."""
        with self._lock:
            request = next((p for p in reversed(self.push)
                            if p.username == username and self._push_status(p) == "pending"), None)
            if request is not None:
                request.status = "approved" if decision == "approve" else "denied"
            return request

    def push_status(self, session: IdpSession) -> PushStatus:
        """The state of the push request this session waits for ("expired" when it has none)."""
        with self._lock:
            request = next((p for p in self.push if p.id == session.push_id), None)
            if request is None:
                return "expired"
            status = self._push_status(request)
            if status == "approved" and session.username:
                self.mfa_failures_in_a_row[session.username] = 0
            return status

    # --- remembered devices ---------------------------------------------------------------------

    @staticmethod
    def _device_key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def remember_device(self, username: str) -> str:
        """A new device token for the browser's cookie; recognised for REMEMBER_DEVICE_DAYS calendar days."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            expires_on = self.calendar.today() + timedelta(days=REMEMBER_DEVICE_DAYS)
            self.devices[self._device_key(token)] = RememberedDevice(username, expires_on)
            self.totals.devices_remembered += 1
        return token

    def recognises_device(self, token: str | None, username: str) -> bool:
        """A remembered, unexpired device of this user (counted as recognised)."""
        if not token:
            return False
        with self._lock:
            device = self.devices.get(self._device_key(token))
            if device is None or device.username != username or self.calendar.today() >= device.expires_on:
                return False
            self.totals.devices_recognised += 1
            return True

    def devices_of(self, username: str) -> list[dict[str, Any]]:
        with self._lock:
            return [{"expires_on": d.expires_on.isoformat()} for d in self.devices.values() if d.username == username]

    def forget_devices(self, username: str) -> int:
        with self._lock:
            keys = [k for k, d in self.devices.items() if d.username == username]
            for key in keys:
                del self.devices[key]
            return len(keys)

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
            self.password_change_count[username] = self.password_change_count.get(username, 0) + 1

    def password_changes_of(self, username: str) -> int:
        with self._lock:
            return self.password_change_count.get(username, 0)

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
                "accounts": {name: {**c.public(), "password_days_left": self.password_days_left(name),
                                    "second_factor": self.second_factor.get(name, "totp")}
                             for name, c in accounts.items()},
                "consents": sorted(f"{user} -> {client}" for user, client in self.consents),
                "totals": {**self.request_totals(), **{k: v for k, v in vars(self.totals).items() if k != "by_user"},
                           "codes_issued_by_user": dict(self.totals.by_user),
                           "active_sessions": len(self.sessions)},
                "requests": self.request_log(),
            }
