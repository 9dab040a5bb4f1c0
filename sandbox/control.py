"""The control surface every sandbox portal shares: `/_sandbox/*` endpoints and the fault middleware.

Control endpoints are never delayed, failed, rate-limited or logged: they are the test bench, not the
portal. Everything else goes through `install_faults`, in this order: added latency, maintenance page,
injected 5xx, rate limit, then the portal's own handler; the outcome lands in the request log.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from sandbox.data_changes import DataChangeError
from sandbox.faults import FaultSettings
from sandbox.portal_state import PortalState

CONTROL_PREFIX = "/_sandbox"


class FaultPages(Protocol):
    """How a portal draws the pages faults produce, in its own look."""

    def maintenance(self, request: Request, until: str) -> Response: ...

    def server_error(self, request: Request, status: int) -> Response: ...

    def too_many_requests(self, request: Request) -> Response: ...


def control_router(state: PortalState) -> APIRouter:
    router = APIRouter(prefix=CONTROL_PREFIX)

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"carrier": state.carrier, "ok": True}

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return state.faults.model_dump()

    @router.post("/faults")
    async def set_faults(request: Request) -> Response:
        try:
            patch = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        if not isinstance(patch, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        try:
            faults = state.update_faults(patch)
        except ValidationError as exc:
            errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
            return JSONResponse({"error": "invalid fault settings", "details": errors}, status_code=422)
        return JSONResponse(faults.model_dump())

    @router.get("/data")
    def get_data() -> dict[str, Any]:
        return {"carrier": state.carrier, "changes": state.data_changes()}

    @router.post("/data")
    async def change_data(request: Request) -> Response:
        try:
            change = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        try:
            applied = state.apply_data_change(change)
        except DataChangeError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse({"applied": applied, "changes": len(state.data_changes())})

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        state.reset()
        return {"reset": True, "faults": state.faults.model_dump()}

    @router.get("/totp-clock")
    def get_totp_clock() -> dict[str, Any]:
        return {"offset": state.totp_offset}

    @router.post("/totp-clock")
    async def set_totp_clock(request: Request) -> Response:
        """`{"offset": seconds}`: the TOTP clock runs that far ahead of the portal's (forward only)."""
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        offset = body.get("offset") if isinstance(body, dict) else None
        if isinstance(offset, bool) or not isinstance(offset, int | float) or not 0 <= offset < 10**9:
            return JSONResponse({"error": 'body must be {"offset": seconds}, 0 or more'}, status_code=422)
        return JSONResponse({"offset": state.advance_totp_clock(to_offset=offset)})

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        return state.stats()

    return router


class FaultedState(Protocol):
    """What the fault middleware needs of a portal's state: `PortalState`, and the Crossway hub's and
    identity provider's states (sandbox/crossway/served.py)."""

    @property
    def faults(self) -> FaultSettings: ...
    def draw_latency_ms(self) -> int: ...
    def draw_error_status(self) -> int | None: ...
    def over_rate_limit(self, key: str) -> bool: ...
    def username_for(self, session_id: str | None) -> str | None: ...
    def log_request(self, *, method: str, path: str, username: str | None, latency_ms: int, status: int,
                    session: str | None = None, new_session: str | None = None, client: str | None = None,
                    drawn_ms: int = 0) -> None: ...


def install_faults(app: FastAPI, state: FaultedState, pages: FaultPages, cookie_name: str) -> None:
    @app.middleware("http")
    async def faults(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith(CONTROL_PREFIX):
            return await call_next(request)
        delay_ms = state.draw_latency_ms()
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        session_id = request.cookies.get(cookie_name)
        settings = state.faults
        error_status = None if settings.maintenance else state.draw_error_status()
        client = request.client.host if request.client else "unknown"
        if settings.maintenance:
            response = pages.maintenance(request, settings.maintenance_until)
        elif error_status:
            response = pages.server_error(request, error_status)
        elif state.over_rate_limit(session_id or f"client:{client}"):
            response = pages.too_many_requests(request)
        else:
            response = await call_next(request)
        # Handlers that learn the username (the password post) leave it on request.state.
        username = getattr(request.state, "username", None) or state.username_for(session_id)
        state.log_request(method=request.method, path=request.url.path, username=username,
                          latency_ms=delay_ms, status=response.status_code, session=_session_tag(session_id),
                          new_session=_session_tag(_cookie_set_by(response, cookie_name)),
                          client=f"{request.client.host}:{request.client.port}" if request.client else None,
                          drawn_ms=_drawn_ms(request.headers.get("x-drawn-ms")))
        return response


def _drawn_ms(header: str | None) -> int:
    """The drawing time a page's script reports with a request (`X-Drawn-Ms`, whole ms up to a minute); what is
    absent or not such a number counts 0."""
    if header is None or not header.isascii() or not header.isdigit() or len(header) > 5:
        return 0
    value = int(header)
    return value if value <= 60_000 else 0


def _session_tag(session_id: str | None) -> str | None:
    """A session named in the request log by a digest, never by its cookie value."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12] if session_id else None


def _cookie_set_by(response: Response, cookie_name: str) -> str | None:
    for header in response.headers.getlist("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == cookie_name:
            return rest.split(";", 1)[0] or None
    return None
