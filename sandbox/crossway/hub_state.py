"""What the Crossway hub remembers: its sessions (with the sign-in `state`/`nonce` it sent to Crossway ID and
the organization / provider chosen), each user's searches per hub day, and its copy of the payers' data.

The hub's data is `crossway_dataset(dataset)` plus run-time changes per payer (`apply_data_change`), kept
apart from any carrier portal's state: a change applied to the Ridgeline portal does not reach the hub
and vice versa (a hub's copy of a payer's data can lag), so two portals of the same payer can disagree on
purpose. Pass the state to `sandbox.ground_truth` functions for the truth the hub shows now.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sandbox.crossway.directory import Directory
from sandbox.crossway.idp_state import IdpState, IdTokenClaims
from sandbox.crossway.payers import crossway_dataset
from sandbox.crossway.served import ServedState, SharedSettings
from sandbox.crossway.settings import SandboxCalendar
from sandbox.data_changes import DataChangeError, apply_change, normalize_change
from sandbox.dataset import Dataset

CLIENT_ID = "crossway-hub"
HubStage = Literal["signing_in", "auth"]


@dataclass
class HubSession:
    id: str
    csrf: str
    stage: HubStage
    created: float
    last_seen: float
    oidc_state: str  # what the callback's `state` must equal
    nonce: str  # what the redeemed code's nonce must equal
    username: str | None = None
    display_name: str = ""
    password_expires_on: date | None = None
    tax_id: str | None = None  # the organization chosen
    npi: str | None = None  # the provider chosen
    # Name searches with several candidates, by token: (payer, transaction, member ids, service form values).
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class SearchCounter:
    day: date
    today: int = 0  # searches on `day` (a new hub day starts at 0)
    total: int = 0
    limit_pages: int = 0  # "daily limit reached" pages served
    throttled: int = 0  # 429s for searching too fast
    last_search: float | None = None
    sign_ins: int = 0


class HubState(ServedState):
    def __init__(self, dataset: Dataset, directory: Directory, idp: IdpState, calendar: SandboxCalendar,
                 settings: SharedSettings) -> None:
        self.dataset = dataset
        self.directory = directory
        self.idp = idp
        self.idp_url = ""  # Crossway ID's origin, e.g. http://127.0.0.1:41235 (set when both are served)
        self._base = crossway_dataset(dataset)
        super().__init__("crossway", dataset.seed, calendar, settings)
        self.reset()

    def reset(self) -> None:
        """Sessions, search counts, faults and run-time data changes back to the start (the identity
        provider and the calendar have resets of their own)."""
        with self._lock:
            self.reset_served()
            self.sessions: dict[str, HubSession] = {}
            self.searches: dict[str, SearchCounter] = {}
            self.state_mismatches = 0
            self.code_exchange_failures = 0
            self._current = self._base
            self._changes: list[dict[str, Any]] = []

    def reset_all(self) -> None:
        """The whole Crossway sandbox back to the start: the hub, Crossway ID, the shared settings and the day."""
        self.shared.reset()
        self.calendar.reset()
        self.idp.reset()
        self.reset()

    # --- data ------------------------------------------------------------------------------------

    def current_dataset(self) -> Dataset:
        """The hub's payers' data now (`sandbox.ground_truth` functions accept this state)."""
        with self._lock:
            return self._current

    def apply_data_change(self, payer: str, change: object) -> dict[str, Any]:
        """One `sandbox.data_changes` change to the hub's copy of a payer's data (DataChangeError: refused)."""
        with self._lock:
            if payer not in self._current.carriers:
                raise DataChangeError(404, f"the hub lists no payer '{payer}'")
            normalized = normalize_change(change, self.calendar.today())
            self._current = apply_change(self._current, payer, normalized)
            self._changes.append({"payer": payer, **normalized})
            return normalized

    def data_changes(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._changes]

    # --- sessions --------------------------------------------------------------------------------

    def begin_sign_in(self) -> HubSession:
        now = self.calendar.now()
        session = HubSession(secrets.token_hex(16), secrets.token_urlsafe(24), "signing_in", now, now,
                             secrets.token_urlsafe(16), secrets.token_urlsafe(16))
        with self._lock:
            self.sessions[session.id] = session
        return session

    def lookup(self, session_id: str | None) -> tuple[HubSession | None, bool]:
        """(session, expired): a cookie naming no live session (idle timeout, reset) counts as expired."""
        if not session_id:
            return None, False
        now = self.calendar.now()
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                return None, True
            if now - session.last_seen > self.faults.idle_timeout_seconds:
                del self.sessions[session_id]
                return None, True
            session.last_seen = now
            return session, False

    def complete_sign_in(self, pending: HubSession, claims: IdTokenClaims) -> HubSession:
        """A new session id for the signed-in user (no session fixation)."""
        now = self.calendar.now()
        session = HubSession(secrets.token_hex(16), secrets.token_urlsafe(24), "auth", now, now, "", "",
                             username=claims.sub, display_name=claims.name,
                             password_expires_on=claims.password_expires_on)
        with self._lock:
            self.sessions.pop(pending.id, None)
            self.sessions[session.id] = session
            self._counter(claims.sub).sign_ins += 1
        return session

    def drop_session(self, session_id: str | None) -> None:
        with self._lock:
            self.sessions.pop(session_id or "", None)

    def expire_sessions(self) -> int:
        with self._lock:
            dropped = len(self.sessions)
            self.sessions.clear()
            return dropped

    def username_for(self, session_id: str | None) -> str | None:
        with self._lock:
            session = self.sessions.get(session_id or "")
            return session.username if session else None

    def note_state_mismatch(self) -> None:
        with self._lock:
            self.state_mismatches += 1

    def note_exchange_failure(self) -> None:
        with self._lock:
            self.code_exchange_failures += 1

    def exchange_code(self, code: str, redirect_uri: str) -> IdTokenClaims | str:
        """The back-channel token request to Crossway ID (in process: both apps live in one sandbox)."""
        return self.idp.redeem_code(code, CLIENT_ID, redirect_uri)

    # --- searches --------------------------------------------------------------------------------

    def _counter(self, username: str) -> SearchCounter:
        today = self.calendar.today()
        counter = self.searches.setdefault(username, SearchCounter(today))
        if counter.day != today:
            counter.day, counter.today = today, 0
        return counter

    def admit_search(self, username: str) -> tuple[Literal["ok", "limit", "slow"], int]:
        """Count one search, or refuse it: ("limit", 0) when the user has used the day's cap, ("slow",
        seconds to wait) when it comes sooner than `min_search_interval_seconds` after the last one.
        Refused searches are not counted as searches."""
        settings, now = self.settings, self.calendar.now()
        with self._lock:
            counter = self._counter(username)
            if counter.today >= settings.daily_search_cap:
                counter.limit_pages += 1
                return "limit", 0
            if counter.last_search is not None and now - counter.last_search < settings.min_search_interval_seconds:
                counter.throttled += 1
                wait = settings.min_search_interval_seconds - (now - counter.last_search)
                return "slow", max(1, math.ceil(wait))
            counter.today += 1
            counter.total += 1
            counter.last_search = now
            return "ok", 0

    def searches_left(self, username: str) -> int:
        with self._lock:
            return max(0, self.settings.daily_search_cap - self._counter(username).today)

    def set_searches_today(self, username: str, count: int) -> None:
        """For tests: as if the user had already searched `count` times today."""
        with self._lock:
            self._counter(username).today = count

    # --- observation -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._lock:
            users = {a.username: SearchCounter(self.calendar.today()) for a in self.directory.accounts}
            for name in list(self.searches):
                users[name] = self._counter(name)
            return {
                "app": self.name,
                "today": self.calendar.today().isoformat(),
                "settings": self.settings.model_dump(),
                "users": {name: {"day": c.day.isoformat(), "searches_today": c.today, "searches_total": c.total,
                                 "limit_pages": c.limit_pages, "throttled": c.throttled, "sign_ins": c.sign_ins,
                                 "searches_left": max(0, self.settings.daily_search_cap - c.today)}
                          for name, c in users.items()},
                "sessions": [{"username": s.username, "stage": s.stage, "tax_id": s.tax_id, "npi": s.npi}
                             for s in self.sessions.values()],
                "totals": {**self.request_totals(), "active_sessions": len(self.sessions),
                           "state_mismatches": self.state_mismatches,
                           "code_exchange_failures": self.code_exchange_failures},
                "requests": self.request_log(),
            }
