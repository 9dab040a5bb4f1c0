"""The control surface every sandbox portal shares: `/_sandbox/*` endpoints and the fault middleware.

Control endpoints are never delayed, failed, rate-limited or logged: they are the test bench, not the
portal. Everything else goes through `install_faults`, in this order: added latency, maintenance page,
injected 5xx, rate limit, then the portal's own handler; the outcome lands in the request log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from sandbox.data_changes import DataChangeError
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

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        return state.stats()

    return router


def install_faults(app: FastAPI, state: PortalState, pages: FaultPages, cookie_name: str) -> None:
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
                          latency_ms=delay_ms, status=response.status_code)
        return response
