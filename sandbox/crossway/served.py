"""What both Crossway apps keep as served web apps: fault settings, shared settings, the calendar, the
request log and the rate windows.

The faults are the ones every sandbox portal has (`sandbox.faults.FaultSettings`: latency, 5xx,
maintenance, idle timeout, rate limit, layout version), drawn from a seeded stream per app so a run's
fault pattern is reproducible. `sandbox/crossway/controls.py` installs the middleware and the
`/_sandbox/*` endpoints on any `ServedState`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import deque
from typing import Any

from sandbox.crossway.settings import CrosswaySettings, SandboxCalendar
from sandbox.faults import FaultDraws, FaultSettings

REQUEST_LOG_LIMIT = 50_000


class SharedSettings:
    """One `CrosswaySettings` for both apps (a partial update on either changes both)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = CrosswaySettings()

    def update(self, patch: dict[str, Any]) -> CrosswaySettings:
        with self._lock:
            self.current = self.current.updated(patch)
            return self.current

    def reset(self) -> None:
        with self._lock:
            self.current = CrosswaySettings()


class ServedState(ABC):
    name: str  # "crossway" (the hub) or "crossway-id" (the identity provider): in stats and the fault stream

    def __init__(self, name: str, seed: int, calendar: SandboxCalendar, settings: SharedSettings) -> None:
        self.name = name
        self.seed = seed
        self.calendar = calendar
        self.shared = settings
        self._lock = threading.RLock()
        self.reset_served()

    @property
    def settings(self) -> CrosswaySettings:
        return self.shared.current

    def reset_served(self) -> None:
        with self._lock:
            self.faults = FaultSettings()
            self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)
            self.requests_total = 0
            self._draws = FaultDraws(f"{self.seed}:{self.name}:faults")

    def update_faults(self, patch: dict[str, Any]) -> FaultSettings:
        with self._lock:
            self.faults = self.faults.updated(patch)
            return self.faults

    def draw_latency_ms(self) -> int:
        with self._lock:
            return self._draws.latency_ms(self.faults)

    def draw_error_status(self) -> int | None:
        with self._lock:
            return self._draws.error_status(self.faults)

    def over_rate_limit(self, key: str) -> bool:
        """The `rate_limit` fault (sandbox.faults.FaultDraws.over_rate_limit)."""
        now = self.calendar.now()
        with self._lock:
            return self._draws.over_rate_limit(self.faults, key, now)

    @abstractmethod
    def username_for(self, session_id: str | None) -> str | None:
        """Implemented by each app's state."""

    def log_request(self, *, method: str, path: str, username: str | None, latency_ms: int, status: int,
                    session: str | None = None, new_session: str | None = None, client: str | None = None,
                    drawn_ms: int = 0) -> None:
        with self._lock:
            self.requests_total += 1
            self.requests.append({"time": self.calendar.now(), "method": method, "path": path, "username": username,
                                  "latency_ms": latency_ms, "status": status, "session": session,
                                  "new_session": new_session, "client": client, "drawn_ms": drawn_ms})

    def request_totals(self) -> dict[str, Any]:
        with self._lock:
            log = list(self.requests)
        by_status: dict[str, int] = {}
        for entry in log:
            by_status[str(entry["status"])] = by_status.get(str(entry["status"]), 0) + 1
        return {"requests": self.requests_total, "logged": len(log), "by_status": by_status,
                "added_latency_ms": sum(e["latency_ms"] for e in log)}

    def request_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.requests)

    @abstractmethod
    def reset(self) -> None:
        """Implemented by each app's state."""

    @abstractmethod
    def stats(self) -> dict[str, Any]:
        """Implemented by each app's state."""
