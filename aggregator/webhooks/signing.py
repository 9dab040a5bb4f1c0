"""Signing: HMAC-SHA256 over `f"{timestamp}.{body}"` with the endpoint's secret (docs/webhooks.md).

The timestamp is signed with the body, so a captured request cannot be replayed outside the receiver's
replay window, nor its body swapped. Each attempt is signed anew (a retry hours later is still fresh);
`Webhook-Id` (the event id) stays the same across attempts, so a receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

HEADER_ID = "Webhook-Id"
HEADER_TIMESTAMP = "Webhook-Timestamp"
HEADER_SIGNATURE = "Webhook-Signature"
HEADER_EVENT = "Webhook-Event"
SCHEME = "v1"
REPLAY_WINDOW_SECONDS = 300
SECRET_PREFIX = "whsec_"  # tells a secret apart from other keys in a receiver's configuration


def new_secret() -> str:
    """A fresh endpoint secret: 256 random bits, hex, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_hex(32)


def signature(secret: str, timestamp: int, body: str) -> str:
    """The hex HMAC-SHA256 of `f"{timestamp}.{body}"` under the secret (its UTF-8 bytes)."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, *, event_id: str, event_type: str, body: str,
                   timestamp: int | None = None) -> dict[str, str]:
    """The headers of one attempt: id, timestamp (Unix seconds), `v1=<hex>` signature, event type."""
    moment = int(time.time()) if timestamp is None else timestamp
    return {HEADER_ID: event_id, HEADER_TIMESTAMP: str(moment), HEADER_EVENT: event_type,
            HEADER_SIGNATURE: f"{SCHEME}={signature(secret, moment, body)}",
            "Content-Type": "application/json"}


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None,
           window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """What a receiver checks (the snippet in docs/webhooks.md does the same): a `v1` signature that
    matches, and a timestamp within `window` seconds of now."""
    lower = {name.lower(): value for name, value in headers.items()}
    try:
        timestamp = int(lower[HEADER_TIMESTAMP.lower()])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > window:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    given = [part[len(SCHEME) + 1:] for part in lower.get(HEADER_SIGNATURE.lower(), "").split()
             if part.startswith(SCHEME + "=")]
    return any(hmac.compare_digest(expected, candidate) for candidate in given)
