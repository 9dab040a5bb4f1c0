"""The `/_sandbox/*` controls and the fault middleware of both Crossway apps (hub and Crossway ID).

The same behaviour as every sandbox portal's (`sandbox/control.py`, written for `PortalState`): control
endpoints are never delayed, failed, rate-limited or logged; every other request gets, in order, added
latency, the maintenance page, an injected 5xx, the rate limit, then the app's own handler, and lands in
the request log. Besides the common endpoints (health, faults, reset, stats, settings, clock), each app
adds its own (the hub: data changes, searches, expire sessions; Crossway ID: password age, TOTP clock).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from sandbox.control import CONTROL_PREFIX
from sandbox.crossway.served import ServedState


async def json_body(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the 400 answer to send instead."""
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
    return body


def _invalid(exc: ValidationError, what: str) -> Response:
    errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
    return JSONResponse({"error": f"invalid {what}", "details": errors}, status_code=422)


def control_router(state: ServedState) -> APIRouter:
    router = APIRouter(prefix=CONTROL_PREFIX)

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"app": state.name, "ok": True}

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return state.faults.model_dump()

    @router.post("/faults")
    async def set_faults(request: Request) -> Response:
        patch = await json_body(request)
        if isinstance(patch, Response):
            return patch
        try:
            return JSONResponse(state.update_faults(patch).model_dump())
        except ValidationError as exc:
            return _invalid(exc, "fault settings")

    @router.get("/settings")
    def get_settings() -> dict[str, Any]:
        return state.settings.model_dump()

    @router.post("/settings")
    async def set_settings(request: Request) -> Response:
        """A partial update of the settings both apps share (sandbox.crossway.settings.CrosswaySettings)."""
        patch = await json_body(request)
        if isinstance(patch, Response):
            return patch
        try:
            return JSONResponse(state.shared.update(patch).model_dump())
        except ValidationError as exc:
            return _invalid(exc, "settings")

    @router.get("/clock")
    def get_clock() -> dict[str, Any]:
        return {"today": state.calendar.today().isoformat()}

    @router.post("/clock")
    async def set_clock(request: Request) -> Response:
        """`{"today": "YYYY-MM-DD"}` or `{"advance_days": N}`: the hub's day (daily caps, password ages)."""
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        try:
            if "today" in body:
                state.calendar.set_today(date.fromisoformat(str(body["today"])))
            elif isinstance(body.get("advance_days"), int) and not isinstance(body.get("advance_days"), bool):
                state.calendar.advance_days(body["advance_days"])
            else:
                raise ValueError("no day")
        except ValueError:
            return JSONResponse({"error": 'body must be {"today": "YYYY-MM-DD"} or {"advance_days": N}'},
                                status_code=422)
        return JSONResponse({"today": state.calendar.today().isoformat()})

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        state.reset()
        return {"reset": True, "faults": state.faults.model_dump()}

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        return state.stats()

    return router
