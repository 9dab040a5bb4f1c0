"""The access log: every view of evidence or PHI, by page or API, is written before the answer goes out.

Who (user, role), what (action, object type, object id), when, from which address. Object ids only:
the log itself holds no member data. Only auditors and admins can read it (routes_audit.py).
"""

from __future__ import annotations

from fastapi import Request

from aggregator.store import web as store
from aggregator.web.auth import Principal, context_of


def record(request: Request, principal: Principal, action: str, object_type: str, object_id: str) -> None:
    store.log_access(context_of(request).repository, user=principal.user, action=action, object_type=object_type,
                     object_id=object_id, client_ip=principal.client_ip)
