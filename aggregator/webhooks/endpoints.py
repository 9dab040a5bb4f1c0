"""Registered endpoints: URL checks, registration (with a secret shown once), removal, listing."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlmodel import col, select

from aggregator.store.batches import aware
from aggregator.store.repository import Repository, new_id, utcnow
from aggregator.store.tables import WebhookDeliveryRow, WebhookEndpointRow
from aggregator.webhooks.signing import new_secret

# The web app's roles (aggregator/web/auth.py), as the subscriber acts: they limit what a payload holds.
SUBSCRIBER_ROLES = ("staff", "auditor", "admin")
APPOINTMENT_CHECKED = "appointment.checked"
LOOKUP_COMPLETED = "lookup.completed"
EVENT_TYPES = (APPOINTMENT_CHECKED, LOOKUP_COMPLETED)
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 120


class InvalidEndpoint(ValueError):
    """What is wrong with a registration, in words that never repeat the URL (it may hold a credential)."""


@dataclass(frozen=True)
class Registered:
    endpoint: WebhookEndpointRow
    secret: str  # shown to the admin once, on the page that answers the registration


def check_url(url: str) -> str:
    """The URL, stripped, when it is an absolute http(s) URL with a host, without credentials, a fragment,
    spaces or control characters; else InvalidEndpoint."""
    url = url.strip()
    if not url:
        raise InvalidEndpoint("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidEndpoint(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidEndpoint("the URL contains a space or a control character")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidEndpoint("the URL cannot be read (check the host and port)") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidEndpoint("the URL must start with http:// or https://")
    if "@" in parts.netloc:
        # user:password@host would travel in every request and sit in the database: the secret signs instead.
        raise InvalidEndpoint("the URL must not contain a user name or password (the signature authenticates us)")
    if not parts.hostname:
        raise InvalidEndpoint("the URL has no host")
    if parts.fragment or url.endswith("#"):
        raise InvalidEndpoint("the URL must not have a #fragment")
    return url


def check_event_types(event_types: list[str]) -> list[str]:
    chosen = [t for t in EVENT_TYPES if t in event_types]
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise InvalidEndpoint(f"unknown event type(s): {', '.join(unknown)[:200]}")
    if not chosen:
        raise InvalidEndpoint("choose at least one event type")
    return chosen


def register(repository: Repository, *, url: str, role: str, event_types: list[str], description: str | None = None,
             created_by: str | None = None) -> Registered:
    """A new endpoint with a fresh secret. Raises InvalidEndpoint for a bad URL, role or event type."""
    if role not in SUBSCRIBER_ROLES:
        raise InvalidEndpoint(f"the role must be one of {', '.join(SUBSCRIBER_ROLES)}")
    description = (description or "").strip() or None
    if description and (len(description) > MAX_DESCRIPTION_LENGTH
                        or any(ord(ch) < 32 or ord(ch) == 127 for ch in description)):
        raise InvalidEndpoint(f"the description must be at most {MAX_DESCRIPTION_LENGTH} printable characters")
    secret = new_secret()
    row = WebhookEndpointRow(id=new_id(), url=check_url(url), description=description, role=role, secret=secret,
                             event_types=",".join(check_event_types(event_types)), created_at=utcnow(),
                             created_by=created_by)
    with repository.session() as session:
        session.add(row)
        session.commit()
    return Registered(_aware(row), secret)


def remove(repository: Repository, endpoint_id: str) -> WebhookEndpointRow | None:
    """Stop sending to it: no new deliveries, its pending ones cancelled; its delivery log stays."""
    now = utcnow()
    with repository.session() as session:
        row = session.get(WebhookEndpointRow, endpoint_id)
        if row is None or row.removed_at is not None:
            return None
        row.removed_at = now
        session.add(row)
        session.exec(update(WebhookDeliveryRow)
                     .where(col(WebhookDeliveryRow.endpoint_id) == endpoint_id,
                            col(WebhookDeliveryRow.status) == "pending")
                     .values(status="cancelled", finished_at=now))
        session.commit()
        session.refresh(row)
    return _aware(row)


def endpoints(repository: Repository, *, include_removed: bool = False) -> list[WebhookEndpointRow]:
    statement = select(WebhookEndpointRow)
    if not include_removed:
        statement = statement.where(col(WebhookEndpointRow.removed_at).is_(None))
    with repository.session() as session:
        rows = list(session.exec(statement.order_by(col(WebhookEndpointRow.created_at))))
    return [_aware(r) for r in rows]


def subscribed(repository: Repository, event_type: str) -> list[WebhookEndpointRow]:
    """The active endpoints that asked for this event type."""
    return [e for e in endpoints(repository) if event_type in e.event_types.split(",")]


def _aware(row: WebhookEndpointRow) -> WebhookEndpointRow:
    row.created_at = aware(row.created_at) or row.created_at
    row.removed_at = aware(row.removed_at)
    return row
