"""The staff and auditor web app: FastAPI + Jinja2, server-rendered, a little JavaScript for progress.

`create_app(settings)` is what `aggregator serve` runs (with the scheduler) on settings.web_host/web_port.
Every route declares who may use it (auth.page/form/api/public); the app refuses to start when one does
not, and tests/web/test_role_matrix.py checks each role against each route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator.evidence_files import EvidenceStoreMisconfigured, EvidenceStoreUnavailable, evidence_files
from aggregator.logging import get_logger
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.web import views
from aggregator.web.auth import Forbidden, LoginRequired, load_secret_key, rule_of
from aggregator.web.context import WebContext
from aggregator.web.csrf import CsrfRejected
from aggregator.web.lookups import RunnerHolder, RunnerProvider, lookup_jobs_for

if TYPE_CHECKING:
    from aggregator.runner import Runner, RunnerOptions

HERE = Path(__file__).parent
log = get_logger(__name__)
# Pages carry PHI: nothing is cached, nothing is framed, only our own scripts and styles run.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_app(settings: Settings, *, base_urls: dict[str, str] | None = None,
               clock: Callable[[], datetime] | None = None, runner_provider: RunnerProvider | None = None,
               respect_maintenance_windows: bool | None = None) -> FastAPI:
    """The web app on this data directory. `base_urls`/`clock`/`respect_maintenance_windows` go to the
    runner the app opens for on-demand lookups (the sandbox needs them). With `runner_provider` (an
    async function returning a runner the caller owns, as `aggregator serve` passes) the app opens none."""
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    repository = Repository.open(settings.resolved_database_url)

    def default_runner() -> AbstractAsyncContextManager[Runner]:
        from aggregator.runner import Runner

        options: RunnerOptions = {"base_urls": base_urls}
        if clock is not None:
            options["clock"] = clock
        respect = respect_maintenance_windows
        if respect is None:
            respect = getattr(settings, "respect_maintenance_windows", True)
        options["respect_maintenance_windows"] = respect
        return Runner.open(settings, **options)

    runners = RunnerHolder(default_runner, runner_provider)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    views.install_filters(templates.env)
    from aggregator.web.routes_admin import canary_alerts  # the failed-canary banner on staff and admin pages

    templates.env.globals["canary_alerts"] = canary_alerts
    ctx = WebContext(settings=settings, repository=repository,
                     secret_key=load_secret_key(settings.resolved_web_secret_key_file),
                     files=evidence_files(settings), templates=templates,
                     jobs=lookup_jobs_for(settings, repository, runners), runners=runners)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await ctx.jobs.wait_all()
            await runners.close()

    app = _SecuredApp(title="Carrier portal aggregator", version="1", lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None,
                  description="JSON API of the carrier portal aggregator. Authenticate with a per-user API token "
                              "(`aggregator users token NAME`) as `Authorization: Bearer <token>`.")
    app.state.web = ctx
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from aggregator.web import api, routes_admin, routes_audit, routes_auth, routes_staff, routes_webhooks

    for module in (routes_auth, routes_staff, routes_audit, routes_admin, routes_webhooks, api):
        # The routes themselves, not an included router: `app.routes` then lists every route with its
        # rule, which the start-up check and the role matrix test enumerate.
        app.router.routes.extend(module.router.routes)
    from aggregator.web import routes_health  # /healthz, /readyz, /metrics (docs/metrics.md)

    app.router.routes.extend(routes_health.router.routes)
    from aggregator.web import api_exports  # /api/exports (docs/exports.md)

    app.router.routes.extend(api_exports.router.routes)
    _refuse_unruled_routes(app)
    _install_handlers(app, templates)
    return app


class _SecuredApp(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's own error middleware, so its 500s (and every 404/405 the router makes) carry the
        # headers too; a middleware added with add_middleware sits inside it and never sees those answers.
        return SecurityHeaders(super().build_middleware_stack())


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP answer that does not set its own value (the evidence HTML sets
    a stricter CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _refuse_unruled_routes(app: FastAPI) -> None:
    missing = [f"{sorted(r.methods or ())} {r.path}" for r in app.routes if isinstance(r, APIRoute) and rule_of(r) is None]
    if missing:
        raise RuntimeError(f"routes without a role rule: {', '.join(missing)}")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _install_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        # The route template, not the URL: a query string may hold a member id.
        route = getattr(request.scope.get("route"), "path", None)
        log.error("web_request_crashed", method=request.method, route=route, error=type(exc).__name__)
        if _wants_json(request):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        try:
            return views.error_page(request, 500, "Something went wrong on our side; the error was logged.")
        except Exception:  # noqa: BLE001 - the error page itself failed (a template bug): still answer
            return PlainTextResponse("internal error", status_code=500)

    async def evidence_store_down(request: Request, exc: Exception) -> Response:
        # The store's reason names the bucket and endpoint, for the operator's log; people get a plain sentence.
        log.error("evidence_store_failed", route=getattr(request.scope.get("route"), "path", None),
                  error=type(exc).__name__, reason=getattr(exc, "reason", ""))
        message = "The evidence store cannot be read right now; the error was logged. Try again later."
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=503)
        return views.error_page(request, 503, message)

    app.add_exception_handler(EvidenceStoreUnavailable, evidence_store_down)
    app.add_exception_handler(EvidenceStoreMisconfigured, evidence_store_down)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        suffix = "&expired=1" if exc.expired else ""
        if request.method != "GET":
            target = "/"
        return RedirectResponse(f"/login?next={quote(target, safe='')}{suffix}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return views.error_page(request, 403, "Your role does not give access to this page.")

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return views.error_page(request, 403, "This form has expired or did not come from this site. "
                                              "Go back, reload the page and try again.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return views.error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # Never echo the input back: it may be a member id or a password.
        errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        return views.error_page(request, 422, "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors))


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"no such {what}")
