"""Fault settings every sandbox portal understands, switchable at run time via `/_sandbox/faults`."""

from __future__ import annotations

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
