"""Admin page for webhooks (docs/webhooks.md): register an endpoint (its secret is shown once, on the
answer to the registration), remove one, and read the delivery log.

Admins only, every form with the session's CSRF token. The secret never appears on the page again, nor in
any log; the delivery log shows status, error class and duration, never a body.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from aggregator.store.tables import WebhookEndpointRow
from aggregator.web import views
from aggregator.web.auth import ADMINS, Principal, context_of, form, page
from aggregator.webhooks import endpoints, outbox
from aggregator.webhooks.signing import HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, REPLAY_WINDOW_SECONDS

router = APIRouter(include_in_schema=False)
LOG_LINES = 100


@router.get("/admin/webhooks")
async def webhooks_page(request: Request, principal: Annotated[Principal, Depends(page(ADMINS))]) -> Response:
    return _page(request)


def _page(request: Request, status_code: int = 200, notice: str | None = None, *,
          new_secret: str | None = None, new_endpoint: WebhookEndpointRow | None = None) -> Response:
    repository = context_of(request).repository
    registered = endpoints.endpoints(repository, include_removed=True)
    return views.render(request, "admin_webhooks.html", status_code=status_code,
                        endpoints=[e for e in registered if e.removed_at is None],
                        removed=[e for e in registered if e.removed_at is not None],
                        counts=outbox.status_counts(repository), log=outbox.delivery_log(repository, limit=LOG_LINES),
                        roles=endpoints.SUBSCRIBER_ROLES, event_types=endpoints.EVENT_TYPES,
                        new_secret=new_secret, new_endpoint=new_endpoint,
                        headers=(HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE), window=REPLAY_WINDOW_SECONDS,
                        notice=notice or request.query_params.get("notice"))


@router.post("/admin/webhooks")
async def register_webhook(request: Request, principal: Annotated[Principal, Depends(form(ADMINS))],
                           url: Annotated[str, Form(max_length=4000)] = "",
                           role: Annotated[str, Form(max_length=20)] = "staff",
                           description: Annotated[str, Form(max_length=400)] = "") -> Response:
    # Checkboxes: one `event_types` field per ticked box (read from the form, as FastAPI's list form fields
    # would reject an empty selection before the page could say why).
    submitted = await request.form()
    chosen = [str(v) for v in submitted.getlist("event_types")]
    try:
        registered = endpoints.register(context_of(request).repository, url=url, role=role, event_types=chosen,
                                        description=description, created_by=principal.user.username)
    except endpoints.InvalidEndpoint as error:
        return _page(request, 422, f"not registered: {error}")
    # The answer itself shows the secret (no redirect: a URL would keep it in the history); never again.
    return _page(request, 200, "endpoint registered", new_secret=registered.secret, new_endpoint=registered.endpoint)


@router.post("/admin/webhooks/{endpoint_id}/remove")
async def remove_webhook(request: Request, endpoint_id: str,
                         principal: Annotated[Principal, Depends(form(ADMINS))]) -> Response:
    removed = endpoints.remove(context_of(request).repository, endpoint_id)
    if removed is None:
        raise HTTPException(404, "no such webhook endpoint")
    return RedirectResponse("/admin/webhooks?notice=endpoint removed; its pending deliveries were cancelled",
                            status_code=303)
