"""What every request of the web app reaches through `request.app.state.web`: settings, database, the web
secret key, evidence files, templates, lookup jobs. Below the routes, auth and CSRF, which all read it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request
from fastapi.templating import Jinja2Templates

from aggregator.evidence_files import EvidenceFiles
from aggregator.settings import Settings
from aggregator.store import Repository
from aggregator.web.lookups import LookupJobs, RunnerHolder
from vault import Vault
from vault.configured import open_vault


@dataclass
class WebContext:
    settings: Settings
    repository: Repository
    secret_key: bytes
    files: EvidenceFiles
    templates: Jinja2Templates
    jobs: LookupJobs
    runners: RunnerHolder
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _vault: Vault | None = None

    def vault(self) -> Vault:
        """The credential vault, opened on first use (admin pages and re-runs need it; most pages do not)."""
        if self._vault is None:
            self._vault = open_vault(self.settings)  # the file, or PostgreSQL (AGGREGATOR_VAULT_URL)
        return self._vault


def context_of(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 under the web secret key: what the database keeps of cookies, tokens and sign-in form pairs."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
