"""Fault settings every sandbox portal understands, switchable at run time via `/_sandbox/faults`."""

from __future__ import annotations

import random
from collections import deque
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class FaultSettings(BaseModel):
    """All off by default. `POST /_sandbox/faults` takes any subset of these fields (partial update)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: int = Field(0, ge=0, le=120_000, description="added to every portal request")
    jitter_ms: int = Field(0, ge=0, le=120_000, description="plus a uniform random 0..jitter_ms")
    error_rate: float = Field(0.0, ge=0.0, le=1.0, description="probability of an HTTP 500/502/503 page")
    maintenance: bool = Field(False, description="every page is the scheduled-maintenance page")
    maintenance_until: str = Field("06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM ET shown")
    idle_timeout_seconds: float = Field(900.0, gt=0, description="server-side session idle timeout")
    captcha: bool = Field(False, description="an 'I'm not a robot' interstitial after login")
    rate_limit: int | None = Field(None, ge=1, description="requests per minute per session, then 429")
    layout_version: Literal["v1", "v2"] = Field("v1", description="markup generation of key pages")

    def updated(self, patch: dict[str, Any]) -> FaultSettings:
        """A validated copy with `patch` applied; unknown fields or bad values raise ValidationError."""
        return FaultSettings.model_validate({**self.model_dump(), **patch})


class FaultDraws:
    """The random side of a served app's faults, from a seeded stream (a run's fault pattern is reproducible),
    and the rate-limit windows. Shared by the carrier portals (`PortalState`) and Crossway's two apps; the
    caller holds its state's lock and passes its current `FaultSettings`."""

    def __init__(self, seed: str) -> None:
        self._rng = random.Random(seed)
        self._rate_windows: dict[str, deque[float]] = {}

    def latency_ms(self, faults: FaultSettings) -> int:
        jitter = self._rng.randint(0, faults.jitter_ms) if faults.jitter_ms else 0
        return faults.latency_ms + jitter

    def error_status(self, faults: FaultSettings) -> int | None:
        if faults.error_rate and self._rng.random() < faults.error_rate:
            return self._rng.choice((500, 502, 503))
        return None

    def over_rate_limit(self, faults: FaultSettings, key: str, now: float) -> bool:
        """Sliding one-minute window per key (a session); refused requests count too, as on real portals."""
        if not faults.rate_limit:
            return False
        window = self._rate_windows.setdefault(key, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        window.append(now)
        return len(window) > faults.rate_limit
