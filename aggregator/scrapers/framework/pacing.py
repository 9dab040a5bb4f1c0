"""Pacing an account's searches: a portal that refuses a search following the previous one too soon
(a hub answers 429) is never given the chance to.

The time of the session's previous search is kept on the `PortalSession` object itself, so every adapter
built on that session (one per lookup, a hub's adapter per payer) shares it, and a new session (a new
sign-in) starts without a wait. The event loop's clock is used: monotonic, and the one tests can drive.
"""

from __future__ import annotations

import asyncio
from typing import Any

_LAST_SEARCH = "_pacing_last_search_at"  # the attribute kept on the session
# A deployment's own pace for this portal (AGGREGATOR_SEARCH_PAUSE_SECONDS), set on the session by the runner.
SEARCH_PAUSE = "search_pause_seconds"


async def pace_searches(session: Any, seconds: float) -> None:
    """Wait until `seconds` (or the deployment's pace for the portal, when it set one) have passed since this
    session's previous search, then note now as the time of this one. With 0 only the time is noted."""
    configured = getattr(session, SEARCH_PAUSE, None)
    seconds = configured if configured is not None else seconds
    loop = asyncio.get_running_loop()
    last: float | None = getattr(session, _LAST_SEARCH, None)
    if last is not None and seconds > 0:
        wait = last + seconds - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
    setattr(session, _LAST_SEARCH, loop.time())


def search_answered(session: Any) -> None:
    """Note the time the portal answered the search just made. A portal times a search from when it
    received it, which the answer follows: pacing from the answer keeps the interval the portal measures
    at least as long as the one waited here (pacing from the send could fall short by a network delay)."""
    setattr(session, _LAST_SEARCH, asyncio.get_running_loop().time())


def searched_at(session: Any) -> float | None:
    """The event-loop time of the session's previous search, or None before its first."""
    return getattr(session, _LAST_SEARCH, None)
