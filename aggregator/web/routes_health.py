"""`/healthz` (the process answers), `/readyz` (it can do its work) and `/metrics` (Prometheus).

- `/healthz`: liveness; touches nothing, so a slow database never gets a healthy process restarted.
- `/readyz`: the database reachable and at the latest migration, the data directory private, the vault
  readable with the master key when there is a vault; 503 with the failing check's reason otherwise.
  Both are public (a load balancer calls them) and so say nothing a stranger should learn: no path, no
  URL, no exception text.
- `/metrics`: aggregator.metrics' collectors plus the vault's frozen accounts (the vault is opened only
  here in the web layer, never below the runner). Who may scrape it is `metrics_access` (docs/metrics.md):
  `loopback` (default), `token` or `open`.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from aggregator.metrics import NOT_CONFIGURED, OK, Check, MetricsExposition, Readiness, process_metrics
from aggregator.web.auth import Rule, context_of, public, token_principal
from aggregator.web.context import WebContext
from vault import MasterKeyError, VaultError, WrongMasterKey
from vault.configured import vault_configured

router = APIRouter(include_in_schema=False)
# Headers a proxy adds when it relays a request: their presence says the peer is not the client.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


class MetricsAccess(Rule):
    """Who may scrape /metrics, read from the app's settings at each request (`metrics_access`)."""

    def __init__(self) -> None:
        super().__init__("metrics", frozenset())

    async def __call__(self, request: Request) -> None:
        settings = context_of(request).settings
        if settings.metrics_access == "open":
            return
        if settings.metrics_access == "token":
            principal = token_principal(request)
            if principal.role not in _roles(settings.metrics_token_roles):
                raise HTTPException(403, "this role may not read the metrics")
            return
        if not is_loopback(request.client.host if request.client else None):
            raise HTTPException(403, "the metrics are served to this machine only (metrics_access=loopback)")
        # The server already put the real client in request.client when a proxy is trusted
        # (web_forwarded_allow_ips). Without that setting a local proxy makes every request look local, so
        # a relayed request is refused rather than believed to come from this machine.
        if not (settings.web_forwarded_allow_ips or "").strip() and any(
                name in request.headers for name in FORWARDING_HEADERS):
            raise HTTPException(403, "a request relayed by a proxy is not local: name the proxy in "
                                     "web_forwarded_allow_ips, or scrape with metrics_access=token")


def _roles(value: str) -> frozenset[str]:
    return frozenset(role.strip() for role in value.split(",") if role.strip())


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name (a test client's "testclient") is not an address we can vouch for
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


metrics_access = MetricsAccess()


class _Health:
    """Per app: the readiness checks and the metrics registry (whose evidence tally keeps its place)."""

    def __init__(self, ctx: WebContext) -> None:
        self.readiness = Readiness(ctx.repository, ctx.settings.resolved_data_dir)
        self.exposition = MetricsExposition(ctx.settings, ctx.repository, process_metrics(),
                                            extra=[FrozenAccounts(ctx)])


_HEALTH_LOCK = threading.Lock()


def _health(request: Request) -> _Health:
    with _HEALTH_LOCK:
        health: _Health | None = getattr(request.app.state, "health", None)
        if health is None:
            health = request.app.state.health = _Health(context_of(request))
        return health


@router.get("/healthz", dependencies=[Depends(public)])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", dependencies=[Depends(public)])
def readyz(request: Request) -> JSONResponse:
    checks = [*_health(request).readiness.checks(), vault_check(context_of(request))]
    failed = [check for check in checks if not check.passed]
    body: dict[str, object] = {"status": "not ready" if failed else "ready",
                               "checks": {check.name: check.result for check in checks}}
    if failed:
        body["reason"] = failed[0].result
    return JSONResponse(body, status_code=503 if failed else 200, headers={"Cache-Control": "no-store"})


def vault_check(ctx: WebContext) -> Check:
    """The vault opens with the master key and verifies (key check, whole-file MAC). No vault file at the
    default place means the installation has none yet (fine for the web app); a vault_path set in the
    settings must exist. A vault in PostgreSQL (vault_url) is always expected."""
    if not vault_configured(ctx.settings):
        return Check("vault", "the vault file named by vault_path is missing" if ctx.settings.vault_path
                     else NOT_CONFIGURED)
    try:
        ctx.vault().accounts()  # re-read and verified when the file changed since the last call
    except WrongMasterKey:
        return Check("vault", "the master key does not open the vault")
    except MasterKeyError:
        return Check("vault", "no vault master key: set it or create the key file (docs/vault.md)")
    except VaultError:
        return Check("vault", "the vault file cannot be read or fails its integrity check")
    except OSError:
        return Check("vault", "the vault file cannot be read")
    return Check("vault", OK)


@router.get("/metrics", dependencies=[Depends(metrics_access)])
def metrics(request: Request) -> Response:
    body, content_type = _health(request).exposition.render(request.headers.get("accept"))
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


class FrozenAccounts:
    """Portal accounts per carrier and whether each is frozen (the vault knows; no process's memory does).
    Labels: carrier slug and account label, never the portal user name."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        frozen = GaugeMetricFamily(
            "aggregator_portal_account_frozen", "1 for a portal account the vault holds frozen (its portal refused "
            "the login or wanted a person; an admin updates its credentials to unfreeze it), else 0.",
            labels=("carrier", "account"))
        try:
            accounts = self.ctx.vault().accounts() if vault_configured(self.ctx.settings) else []
        except (VaultError, OSError):
            accounts = []  # /readyz says why
        for account in accounts:
            frozen.add_metric((account.carrier, account.label), 1.0 if account.is_frozen else 0.0)
        yield frozen
