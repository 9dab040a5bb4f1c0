"""What a running sandbox portal remembers: sessions, per-account counters, faults, a request log.

One `PortalState` per portal. Handlers run on the server's event loop while tests and the control API
read it from other threads, so every mutation and snapshot takes the lock. The clock is injectable so
tests can step over TOTP windows and idle timeouts without sleeping. TOTP codes are checked against the
clock plus a forward-only offset (`advance_totp_clock`, also `POST /_sandbox/totp-clock`): a test whose
runner would wait for the next 30-second step moves both their TOTP clocks there instead. The offset
only moves time for codes, so a used step stays used: a reused code is still refused and counted.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

import pyotp

from sandbox.accounts import ProviderAccount
from sandbox.data_changes import apply_change, normalize_change
from sandbox.dataset import Dataset
from sandbox.faults import FaultDraws, FaultSettings

REQUEST_LOG_LIMIT = 50_000
LOCKOUT_AFTER = 3  # consecutive failed password attempts

# "interstitial": logged in, but the portal still shows notices (announcements, password expiry) first.
Stage = Literal["anonymous", "mfa", "captcha", "interstitial", "auth"]


@dataclass
class Session:
    id: str
    csrf: str
    stage: Stage
    username: str | None
    created: float
    last_seen: float
    # Claim searches of this session by search id (result pages are `?sid=<id>&page=N`), newest last.
    searches: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Whatever else a portal keeps per session (the security question asked, notices still to show...).
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class AccountCounters:
    login_attempts: int = 0  # password form posts that passed the CSRF check
    failed_logins: int = 0
    consecutive_failures: int = 0
    locked: bool = False
    locked_attempts: int = 0  # attempts refused because the account was already locked
    successful_logins: int = 0  # completed MFA (and CAPTCHA, when on)
    mfa_attempts: int = 0
    mfa_failures: int = 0  # wrong codes
    mfa_reused: int = 0  # right code, but already used (or older than the last used one)
    captcha_challenges: int = 0
    sessions_ended_by_new_login: int = 0  # portals where a second login ends the first session
    last_totp_step: int | None = field(default=None, repr=False)  # not reported: internal bookkeeping

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("last_totp_step")
        return data


TotpCheck = Literal["ok", "invalid", "reused"]


def check_totp_code(counters: AccountCounters, secret: str | None, code: str, now: float) -> TotpCheck:
    """RFC 6238 with one step of drift either way, single use: a code whose time step is not newer than the
    last accepted one for this account is refused, as strict portals do. Counts the attempt and its result
    in `counters`; the caller holds its state's lock. Shared by the portals and Crossway ID."""
    counters.mfa_attempts += 1
    if secret is None or not (code.isdigit() and len(code) == 6):
        counters.mfa_failures += 1
        return "invalid"
    totp = pyotp.TOTP(secret)
    current = int(now) // totp.interval
    step = next((s for s in (current - 1, current, current + 1)
                 if secrets.compare_digest(totp.generate_otp(s), code)), None)
    if step is None:
        counters.mfa_failures += 1
        return "invalid"
    if counters.last_totp_step is not None and step <= counters.last_totp_step:
        counters.mfa_reused += 1
        return "reused"
    counters.last_totp_step = step
    return "ok"


class PortalState:
    def __init__(self, dataset: Dataset, carrier: str, *, today: date | None = None,
                 faults: FaultSettings | None = None, clock: Callable[[], float] = time.time) -> None:
        self.dataset = dataset
        self.carrier = carrier
        self.data = dataset.carrier(carrier)
        # "Today" of the portal (the default date of service) is the dataset's reference date, so a
        # search without a date of service and ground truth agree on any machine on any day.
        self.today = today or dataset.as_of
        self.clock = clock
        self._lock = threading.RLock()
        self.reset()
        if faults is not None:
            self.faults = faults

    # --- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget sessions, counters, lockouts, the request log and run-time data changes, and set
        every fault back to off."""
        with self._lock:
            self.faults = getattr(self, "_default_faults", None) or FaultSettings()
            # Days until each account's password expires (0 or less: expired); absent: no notice.
            self.password_days: dict[str, int] = dict(getattr(self, "_default_password_days", {}))
            self._challenge_rng = random.Random(f"{self.dataset.seed}:{self.carrier}:challenges")
            self.sessions: dict[str, Session] = {}
            self.counters: dict[str, AccountCounters] = {}
            self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)
            self.requests_total = 0
            self.csrf_rejections = 0
            self.ended_sessions: set[str] = set()  # ids ended by a newer login of the same account
            # Faults draw from their own seeded stream so a run's fault pattern is reproducible.
            self._draws = FaultDraws(f"{self.dataset.seed}:{self.carrier}:faults")
            # Run-time data changes start over from the generated dataset.
            self._current = self.dataset
            self._changes: list[dict[str, Any]] = []
            self.totp_offset = 0.0  # seconds the TOTP clock is ahead of `clock` (see advance_totp_clock)
            # Passwords changed at run time (a portal's change-password page), newest last; none: the dataset's.
            self.changed_passwords: dict[str, list[str]] = {}

    def set_portal_defaults(self, *, faults: dict[str, Any] | None = None,
                            password_days: dict[str, int] | None = None) -> None:
        """What this portal starts with and returns to on every reset (e.g. a shorter idle timeout than
        the common default, an account whose password nears expiry). Applies at once."""
        with self._lock:
            self._default_faults = FaultSettings().updated(faults or {})
            self._default_password_days = dict(password_days or {})
            self.reset()

    def set_password_days(self, username: str, days: int | None) -> None:
        """Days until `username`'s password expires (<= 0: expired now); None: no expiry notice."""
        with self._lock:
            if days is None:
                self.password_days.pop(username, None)
            else:
                self.password_days[username] = days

    def password_days_left(self, username: str) -> int | None:
        with self._lock:
            return self.password_days.get(username)

    def choose_challenge(self, options: tuple[str, ...]) -> str:
        """One of `options` (e.g. which security question to ask), from a seeded stream of its own."""
        with self._lock:
            return self._challenge_rng.choice(options)

    def check_secret_answer(self, username: str, expected: str, given: str) -> bool:
        """A security-question answer: compared case- and space-insensitively, counted as an MFA attempt."""
        with self._lock:
            counters = self.counters_for(username)
            counters.mfa_attempts += 1
            ok = secrets.compare_digest(" ".join(given.split()).casefold().encode(),
                                        " ".join(expected.split()).casefold().encode())
            if not ok:
                counters.mfa_failures += 1
            return ok

    def update_faults(self, patch: dict[str, Any]) -> FaultSettings:
        with self._lock:
            self.faults = self.faults.updated(patch)
            return self.faults

    # --- data ------------------------------------------------------------------------------------

    def current_dataset(self) -> Dataset:
        """The data this portal renders now: the generated dataset plus the run-time changes. Pass the
        state itself to `sandbox.ground_truth` functions to get the truth the portal shows now."""
        with self._lock:
            return self._current

    def apply_data_change(self, change: object) -> dict[str, Any]:
        """Validate, apply and record one change (see sandbox.data_changes); returns it normalized.
        Raises `DataChangeError` (nothing changes then)."""
        with self._lock:
            normalized = normalize_change(change, self.today)
            self._current = apply_change(self._current, self.carrier, normalized)
            self._changes.append(normalized)
            return normalized

    def data_changes(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._changes]

    # --- accounts --------------------------------------------------------------------------------

    def account(self, username: str) -> ProviderAccount | None:
        return next((a for a in self.data.accounts if a.username == username), None)

    def counters_for(self, username: str) -> AccountCounters:
        with self._lock:
            return self.counters.setdefault(username, AccountCounters())

    def check_password(self, username: str, password: str) -> Literal["ok", "invalid", "locked"]:
        """One password post. The attempt that reaches LOCKOUT_AFTER consecutive failures already
        answers "locked"; a locked account stays locked (even for the right password) until reset."""
        with self._lock:
            counters = self.counters_for(username)
            counters.login_attempts += 1
            if counters.locked:
                counters.locked_attempts += 1
                return "locked"
            current = self.current_password(username)
            if current is None or not secrets.compare_digest(password.encode(), current.encode()):
                counters.failed_logins += 1
                counters.consecutive_failures += 1
                if counters.consecutive_failures >= LOCKOUT_AFTER:
                    counters.locked = True
                    return "locked"
                return "invalid"
            counters.consecutive_failures = 0
            return "ok"

    def current_password(self, username: str) -> str | None:
        """The account's password now: the last one changed at run time, else the dataset's."""
        account = self.account(username)
        with self._lock:
            changed = self.changed_passwords.get(username)
            return changed[-1] if changed else (account.password if account else None)

    def recent_passwords(self, username: str, count: int) -> list[str]:
        """The account's last `count` passwords, the current one included, newest last."""
        account = self.account(username)
        with self._lock:
            history = ([account.password] if account else []) + self.changed_passwords.get(username, [])
            return history[-count:]

    def change_password(self, username: str, new: str) -> None:
        with self._lock:
            self.changed_passwords.setdefault(username, []).append(new)

    def totp_time(self) -> float:
        """The time TOTP codes are checked against: the portal's clock plus the offset tests moved it by."""
        with self._lock:
            return self.clock() + self.totp_offset

    def advance_totp_clock(self, *, to_offset: float) -> float:
        """Move the TOTP clock forward to `to_offset` seconds ahead of the portal's clock (never back: an
        earlier offset is ignored); returns the offset in force. Only codes see it: sessions, idle timeouts
        and the request log keep the portal's clock. `reset` sets it back to 0."""
        with self._lock:
            self.totp_offset = max(self.totp_offset, float(to_offset))
            return self.totp_offset

    def check_totp(self, username: str, code: str) -> TotpCheck:
        """RFC 6238 with one step of drift either way, single use: a code whose time step is not newer
        than the last accepted one for this account is refused, as strict portals do."""
        account = self.account(username)
        with self._lock:
            counters = self.counters_for(username)
            return check_totp_code(counters, account.totp_secret if account else None, code, self.totp_time())

    def set_stage(self, session: Session, stage: Stage) -> None:
        with self._lock:
            session.stage = stage
            if stage == "captcha" and session.username:
                self.counters_for(session.username).captcha_challenges += 1
            if stage == "auth" and session.username:
                self.counters_for(session.username).successful_logins += 1

    def note_csrf_rejection(self) -> None:
        with self._lock:
            self.csrf_rejections += 1

    # --- sessions --------------------------------------------------------------------------------

    def new_session(self, stage: Stage = "anonymous", username: str | None = None) -> Session:
        now = self.clock()
        session = Session(secrets.token_hex(16), secrets.token_urlsafe(24), stage, username, now, now)
        with self._lock:
            self.sessions[session.id] = session
        return session

    def remember_search(self, session: Session, sid: str, search: dict[str, Any], keep: int = 20) -> None:
        """Keep a claim search on the session (result pages name it by `sid`); the oldest go first."""
        with self._lock:
            session.searches[sid] = search
            while len(session.searches) > keep:
                session.searches.pop(next(iter(session.searches)))

    def drop_session(self, session_id: str | None) -> None:
        with self._lock:
            self.sessions.pop(session_id or "", None)

    def expire_sessions(self) -> int:
        """Forget every live session now (a server restart, or an idle timeout for everyone): the next
        request of each logged-in client finds its session expired. Returns how many were dropped."""
        with self._lock:
            dropped = len(self.sessions)
            self.sessions.clear()
            return dropped

    def end_other_sessions(self, keep: Session) -> int:
        """For portals that allow one session per account: a login ends the account's other sessions
        (their cookies then name no live session). Returns how many were ended."""
        with self._lock:
            others = [s.id for s in self.sessions.values() if s.username == keep.username and s.id != keep.id]
            for session_id in others:
                del self.sessions[session_id]
                self.ended_sessions.add(session_id)
            if others and keep.username:
                self.counters_for(keep.username).sessions_ended_by_new_login += len(others)
            return len(others)

    def lookup(self, session_id: str | None) -> tuple[Session | None, bool]:
        """(session, expired). A cookie naming no live session counts as expired, like a server that
        forgot it (timeout, restart, reset); no cookie at all is simply no session."""
        if not session_id:
            return None, False
        now = self.clock()
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                return None, True
            if now - session.last_seen > self.faults.idle_timeout_seconds:
                del self.sessions[session_id]
                return None, True
            session.last_seen = now
            return session, False

    def username_for(self, session_id: str | None) -> str | None:
        with self._lock:
            session = self.sessions.get(session_id or "")
            return session.username if session else None

    # --- faults ----------------------------------------------------------------------------------

    def draw_latency_ms(self) -> int:
        with self._lock:
            return self._draws.latency_ms(self.faults)

    def draw_error_status(self) -> int | None:
        with self._lock:
            return self._draws.error_status(self.faults)

    def over_rate_limit(self, key: str) -> bool:
        """The `rate_limit` fault (sandbox.faults.FaultDraws.over_rate_limit)."""
        now = self.clock()
        with self._lock:
            return self._draws.over_rate_limit(self.faults, key, now)

    # --- observation -----------------------------------------------------------------------------

    def log_request(self, *, method: str, path: str, username: str | None, latency_ms: int, status: int,
                    session: str | None = None, new_session: str | None = None, client: str | None = None,
                    drawn_ms: int = 0) -> None:
        with self._lock:
            self.requests_total += 1
            self.requests.append({"time": self.clock(), "method": method, "path": path, "username": username,
                                  "latency_ms": latency_ms, "status": status,
                                  # Which session (a digest, never the cookie) and connection a request came on,
                                  # and the session its answer started: the benchmark charges the requests made
                                  # before login to the account that then logged in on that session.
                                  "session": session, "new_session": new_session, "client": client,
                                  # What a single-page app reports its own drawing kept the user waiting since
                                  # its previous request (0 for a page that reports nothing).
                                  "drawn_ms": drawn_ms})

    def stats(self) -> dict[str, Any]:
        with self._lock:
            accounts = {a.username: AccountCounters() for a in self.data.accounts}
            accounts.update(self.counters)
            log = list(self.requests)
            by_status: dict[str, int] = {}
            for entry in log:
                by_status[str(entry["status"])] = by_status.get(str(entry["status"]), 0) + 1
            return {
                "carrier": self.carrier,
                "accounts": {name: c.public() for name, c in accounts.items()},
                "requests": log,
                "totals": {
                    "requests": self.requests_total,
                    "logged": len(log),
                    "added_latency_ms": sum(e["latency_ms"] for e in log),
                    "by_status": by_status,
                    "csrf_rejections": self.csrf_rejections,
                    "active_sessions": len(self.sessions),
                },
            }
