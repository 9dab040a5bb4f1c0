"""What the Crossway hub and Crossway ID share: their settings (limits, password policy, lifetimes) and
their calendar (the hub's "today", which the daily search cap and the password age count in).

The settings are switchable at run time (`POST /_sandbox/settings` on either app, a partial update), like
the fault settings every sandbox portal has (`sandbox.faults.FaultSettings`, `POST /_sandbox/faults`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CrosswaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    daily_search_cap: int = Field(300, ge=1, description="searches per user per hub day, then the limit page")
    min_search_interval_seconds: float = Field(
        1.0, ge=0, description="a search sooner than this after the user's previous one gets 429 + Retry-After")
    password_max_age_days: int = Field(60, ge=1, description="a password this old must be changed at sign-in")
    password_warning_days: int = Field(14, ge=0, description="the expiry banner shows from this many days before")
    code_lifetime_seconds: float = Field(60.0, gt=0, description="an authorization code is redeemable this long")
    idp_session_seconds: float = Field(8 * 3600.0, gt=0, description="Crossway ID session lifetime (absolute)")
    mfa_code_seconds: float = Field(300.0, gt=0, description="a texted/e-mailed code or a push request lives this long")

    def updated(self, patch: dict[str, Any]) -> CrosswaySettings:
        return CrosswaySettings.model_validate({**self.model_dump(), **patch})


class SandboxCalendar:
    """The hub's clock (seconds, for sessions, codes and search pacing; injectable so tests never sleep)
    and its day (`today`: the dataset's `as_of` unless a test moves it; the daily cap and password ages
    count in it). One calendar is shared by the hub and Crossway ID."""

    def __init__(self, as_of: date, clock: Callable[[], float] = time.time) -> None:
        self.as_of = as_of
        self.clock = clock
        self._lock = threading.Lock()
        self._today = as_of

    def now(self) -> float:
        return self.clock()

    def today(self) -> date:
        with self._lock:
            return self._today

    def set_today(self, day: date) -> None:
        with self._lock:
            self._today = day

    def advance_days(self, days: int) -> date:
        with self._lock:
            self._today += timedelta(days=days)
            return self._today

    def reset(self) -> None:
        with self._lock:
            self._today = self.as_of
