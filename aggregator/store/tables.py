"""Database tables (SQLModel). The schema itself is created and changed only by Alembic migrations
(`aggregator/store/migrations/`); these classes must match the latest migration, which a test checks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class LookupRow(SQLModel, table=True):
    """One question asked of a carrier (on demand or in a batch) and its terminal outcome."""

    __tablename__ = "lookups"

    id: str = Field(primary_key=True, max_length=32)
    flow: str = Field(index=True, max_length=32)
    carrier: str = Field(index=True, max_length=40)  # the payer asked about
    # The portal that answered when not the payer's own site (a hub); None: the payer's own portal, or
    # not chosen yet. Set with the account, once routing picked one.
    portal: str | None = Field(default=None, max_length=40)
    account_label: str | None = Field(default=None, max_length=120)
    member_id: str | None = Field(default=None, index=True, max_length=80)
    date_of_birth: date | None = None
    service_date: date | None = None
    query: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # the query model's JSON
    source: str = Field(default="cli", max_length=20)
    requested_at: datetime = Field(index=True)
    finished_at: datetime | None = None
    outcome: str | None = Field(default=None, index=True, max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    reason_code: str | None = Field(default=None, max_length=60)
    # What changed since the previous answer on the same subject (JSON list of flows.changes.Change).
    changes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The process running it ("host:pid:start time", store.repository.process_owner) while it has no
    # outcome: a later start closes it as interrupted when that process is gone. None: made before 0007.
    owner: str | None = Field(default=None, max_length=120)


class RecordRow(SQLModel, table=True):
    """A normalized record (eligibility, authorization list, claim list, or not-found) as JSON."""

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_subject", "carrier", "kind", "subject"),)

    id: str = Field(primary_key=True, max_length=32)
    lookup_id: str = Field(foreign_key="lookups.id", index=True, max_length=32)
    kind: str = Field(max_length=32)
    carrier: str = Field(index=True, max_length=40)
    member_id: str | None = Field(default=None, index=True, max_length=80)
    service_date: date | None = None
    # The natural key a later answer is compared with: a member id, or "claim:<number>".
    subject: str = Field(default="", max_length=120, sa_column_kwargs={"server_default": ""})
    fetched_at: datetime
    # The pydantic model's JSON; the model validates it again on the way out.
    payload: str = Field(sa_column=Column(Text, nullable=False))


class EvidenceRow(SQLModel, table=True):
    """One captured page: files are content-addressed on disk; this row chains it to the previous one."""

    __tablename__ = "evidence"

    id: str = Field(primary_key=True, max_length=32)
    seq: int = Field(unique=True, index=True)
    lookup_id: str | None = Field(default=None, foreign_key="lookups.id", index=True, max_length=32)
    carrier: str = Field(index=True, max_length=40)
    account_label: str = Field(max_length=120)
    flow: str = Field(max_length=32)
    label: str = Field(max_length=80)
    url: str = Field(max_length=2000)
    captured_at: datetime = Field(index=True)
    screenshot_sha256: str = Field(max_length=64)
    html_sha256: str = Field(max_length=64)
    screenshot_path: str = Field(max_length=300)
    html_path: str = Field(max_length=300)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(unique=True, max_length=64)
    # A downloaded document the page offered (e.g. an EOB PDF), kept beside the screenshot and HTML.
    document_path: str | None = Field(default=None, max_length=300)
    document_sha256: str | None = Field(default=None, max_length=64)
    document_media_type: str | None = Field(default=None, max_length=100)
    # Where the portal showed what non-admin viewers must not see (e.g. "Logged in as <portal user>"): a
    # JSON list of [x, y, width, height] boxes in screenshot pixels, found at capture from the carrier
    # manifest's evidence masks. None: not recorded (captured before masks existed).
    mask_boxes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RecordEvidenceRow(SQLModel, table=True):
    """Which evidence backs which record (many to many)."""

    __tablename__ = "record_evidence"

    record_id: str = Field(foreign_key="records.id", primary_key=True, max_length=32)
    evidence_id: str = Field(foreign_key="evidence.id", primary_key=True, max_length=32)


class AppointmentRow(SQLModel, table=True):
    """One appointment from the practice's list (CSV or FHIR); its id is the practice system's own."""

    __tablename__ = "appointments"

    id: str = Field(primary_key=True, max_length=80)
    starts_at: datetime  # practice-local wall time, stored labelled UTC (see store/appointments.py wall_time)
    service_date: date = Field(index=True)
    patient_last_name: str = Field(max_length=80)
    patient_first_name: str = Field(max_length=80)
    patient_dob: date
    carrier: str = Field(index=True, max_length=40)
    member_id: str = Field(max_length=80)
    provider_npi: str | None = Field(default=None, max_length=10)
    procedure_codes: str | None = Field(default=None, max_length=400)  # ";"-joined CPT/HCPCS codes
    service_type: str | None = Field(default=None, max_length=4)  # X12 EB03 code
    source: str = Field(max_length=300)  # file it came from (name only)
    fingerprint: str = Field(max_length=64)  # hash of the normalized fields: unchanged re-imports are no-ops
    imported_at: datetime
    updated_at: datetime


class BatchRunRow(SQLModel, table=True):
    """One start of the batch for a date (nightly, retry pass, CLI): several runs may share a date."""

    __tablename__ = "batch_runs"

    id: str = Field(primary_key=True, max_length=32)
    batch_date: date = Field(index=True)
    trigger: str = Field(max_length=20)  # cli / nightly / retry / web
    started_at: datetime
    finished_at: datetime | None = None
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON counts by state


class BatchItemRow(SQLModel, table=True):
    """One appointment's verification for one batch date; ends in exactly one terminal state."""

    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("batch_date", "appointment_id", name="uq_batch_items_date_appointment"),)

    id: str = Field(primary_key=True, max_length=32)
    batch_date: date = Field(index=True)
    appointment_id: str = Field(foreign_key="appointments.id", index=True, max_length=80)
    carrier: str = Field(max_length=40)
    account_label: str | None = Field(default=None, max_length=120)
    state: str = Field(index=True, max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    reason_code: str | None = Field(default=None, max_length=60)
    action: str | None = Field(default=None, max_length=500)  # what a person should do (needs_human)
    retryable: bool = False
    attempts: int = 0
    not_before: datetime | None = None  # deferred (maintenance, open circuit) until then
    eligibility_lookup_id: str | None = Field(default=None, foreign_key="lookups.id", max_length=32)
    authorization_lookup_id: str | None = Field(default=None, foreign_key="lookups.id", max_length=32)
    auth_answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON
    changes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON list of Change
    run_id: str | None = Field(default=None, max_length=32)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime



class CarrierBreakerRow(SQLModel, table=True):
    """One carrier's circuit breaker, shared by every worker of a scale-out run (aggregator/store/breakers.py):
    after `threshold` consecutive "portal down" answers nobody asks that portal until `open_until`; then
    one worker's probe (leased until `probe_until`) decides. Only the queue dispatch writes it."""

    __tablename__ = "carrier_breakers"

    carrier: str = Field(primary_key=True, max_length=40)
    failures: int = 0  # consecutive "portal down" answers
    openings: int = 0  # times it opened since the last success: each doubles the cool-down
    open_until: datetime | None = None
    probe_until: datetime | None = None  # a worker is probing the half-open portal until then
    updated_at: datetime


class PortalSearchCountRow(SQLModel, table=True):
    """Searches one portal account made on one day of the portal's calendar (aggregator/store/budgets.py):
    a portal that caps searches per user per day is never asked beyond its cap, across restarts and workers."""

    __tablename__ = "portal_search_counts"

    account_id: str = Field(primary_key=True, max_length=32)  # the vault's account id
    day: date = Field(primary_key=True)
    portal: str = Field(max_length=40)
    account_label: str = Field(max_length=120)
    searches: int = 0
    updated_at: datetime


class AccountNoticeRow(SQLModel, table=True):
    """The latest notice of one kind a portal gave one account (e.g. its password expires soon), for the
    worklist summary and the web admin page; replaced by the next one, cleared when the portal stops."""

    __tablename__ = "account_notices"

    account_id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=40)
    portal: str = Field(max_length=40)
    account_label: str = Field(max_length=120)
    message: str = Field(max_length=500)
    due: date | None = None
    seen_at: datetime


class WebLookupJobRow(SQLModel, table=True):
    """An on-demand lookup asked from the web app or the API and run on the queue (aggregator/dispatch/
    lookup_jobs.py): who asked, where it is, and the job's own JSON (request, step, outcomes)."""

    __tablename__ = "web_lookup_jobs"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(index=True, max_length=32)
    state: str = Field(max_length=16)  # queued, running, done, failed
    started_at: datetime = Field(index=True)
    finished_at: datetime | None = None
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the LookupJob as JSON

# --- web app (aggregator/web/): people who sign in, their sessions and API tokens, and who saw what ---

class WebUserRow(SQLModel, table=True):
    """A person who signs in to the web app; `role` is admin, staff or auditor."""

    __tablename__ = "web_users"

    id: str = Field(primary_key=True, max_length=32)
    username: str = Field(unique=True, max_length=80)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=300)  # "scrypt$n$r$p$salt$hash": parameters travel with the hash
    disabled: bool = False
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = None


class WebSessionRow(SQLModel, table=True):
    """A signed-in browser. `id` is a keyed hash of the cookie value: the database never holds a usable cookie."""

    __tablename__ = "web_sessions"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="web_users.id", index=True, max_length=32)
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    last_seen_at: datetime
    client_ip: str | None = Field(default=None, max_length=64)


class WebApiTokenRow(SQLModel, table=True):
    """A per-user API token; only its keyed hash is stored, the value is shown once when it is made."""

    __tablename__ = "web_api_tokens"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="web_users.id", index=True, max_length=32)
    name: str = Field(max_length=80)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    expires_at: datetime | None = None  # None: made before tokens expired; then created_at + the default lifetime


class WebLoginFailureRow(SQLModel, table=True):
    """A failed sign-in, kept for a while to throttle password guessing by user name and by address."""

    __tablename__ = "web_login_failures"

    id: str = Field(primary_key=True, max_length=32)
    username: str = Field(index=True, max_length=80)
    client_ip: str | None = Field(default=None, index=True, max_length=64)
    failed_at: datetime = Field(index=True)


class AccessLogRow(SQLModel, table=True):
    """One view of evidence or PHI (page or API), by whom, from where, when. Append-only."""

    __tablename__ = "access_log"

    id: str = Field(primary_key=True, max_length=32)
    at: datetime = Field(index=True)
    user_id: str = Field(foreign_key="web_users.id", index=True, max_length=32)
    username: str = Field(max_length=80)
    role: str = Field(max_length=20)
    action: str = Field(max_length=40)  # view, download, verify, api_read, ...
    object_type: str = Field(max_length=40)  # evidence, lookup, appointment, worklist, ...
    object_id: str = Field(max_length=120)
    client_ip: str | None = Field(default=None, max_length=64)


# --- canary (aggregator/overnight/canary.py): one known lookup per portal account before the batch ---

class CanaryMemberRow(SQLModel, table=True):
    """The member an admin chose for one portal account's canary lookup. Member id and date of birth are
    PHI-like: they are never logged and the web page shows only the id's last characters."""

    __tablename__ = "canary_members"
    __table_args__ = (UniqueConstraint("carrier", "account_label", name="uq_canary_members_account"),)

    id: str = Field(primary_key=True, max_length=32)
    carrier: str = Field(max_length=40)
    account_label: str = Field(max_length=120)
    member_id: str = Field(max_length=80)
    date_of_birth: date
    last_name: str | None = Field(default=None, max_length=80)
    # When the member was (re)configured: only canary answers since then are a baseline for comparison.
    configured_at: datetime
    configured_by: str | None = Field(default=None, max_length=80)


class CanaryResultRow(SQLModel, table=True):
    """One canary check of one portal account: passed, failed (the portal's batch items are held) or
    inconclusive (the portal did not answer; the batch's own retries handle it)."""

    __tablename__ = "canary_results"

    id: str = Field(primary_key=True, max_length=32)
    canary_member_id: str = Field(index=True, max_length=32)
    carrier: str = Field(index=True, max_length=40)
    account_label: str = Field(max_length=120)
    trigger: str = Field(max_length=20)  # nightly / retry / resume / cli / web
    batch_date: date | None = None
    started_at: datetime = Field(index=True)
    finished_at: datetime
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    reason_code: str | None = Field(default=None, max_length=60)
    lookup_id: str | None = Field(default=None, foreign_key="lookups.id", max_length=32)
    # What differs from the baseline answer (JSON list of sentences), when that is why it failed.
    differences: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # An admin confirmed a changed answer is right (e.g. the plan renewed): it becomes the new baseline.
    accepted_at: datetime | None = None
    accepted_by: str | None = Field(default=None, max_length=80)


# --- webhooks (aggregator/webhooks/): URLs an admin registered, the events for them, and every attempt ---

class WebhookEndpointRow(SQLModel, table=True):
    """A URL events are POSTed to, signed with its own secret (shown once when it is registered). The
    subscriber acts as `role` (staff, auditor or admin), which limits what its payloads contain."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(primary_key=True, max_length=32)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=120)
    role: str = Field(max_length=20)
    # The HMAC key. Kept as is (signing needs the value itself, a hash would not do); the database file is
    # its owner's alone, and no page, API answer or log line shows it after the registration page.
    secret: str = Field(max_length=80)
    event_types: str = Field(max_length=200)  # comma-separated, e.g. "appointment.checked,lookup.completed"
    created_at: datetime
    created_by: str | None = Field(default=None, max_length=80)
    removed_at: datetime | None = None  # removed: no new deliveries; its delivery log stays


class WebhookEventRow(SQLModel, table=True):
    """Something a subscriber may want to hear about (an appointment checked, a lookup job ended)."""

    __tablename__ = "webhook_events"

    id: str = Field(primary_key=True, max_length=32)
    event_type: str = Field(index=True, max_length=40)
    subject_id: str = Field(max_length=120)  # the batch item or lookup job the event is about
    created_at: datetime = Field(index=True)


class WebhookDeliveryRow(SQLModel, table=True):
    """The outbox: one event for one endpoint, with the exact body to send (already limited to what the
    endpoint's role may see). Pending until a 2xx answer, or until the attempts run out (failed)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),)

    id: str = Field(primary_key=True, max_length=32)
    event_id: str = Field(foreign_key="webhook_events.id", index=True, max_length=32)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", index=True, max_length=32)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(index=True, max_length=20)  # pending, delivered, failed, cancelled
    attempts: int = 0
    # When it may be tried next; a deliverer that takes it moves this forward by a lease, so a second
    # process skips it and a crashed one's delivery is tried again once the lease has passed.
    next_attempt_at: datetime = Field(index=True)
    created_at: datetime
    finished_at: datetime | None = None


class WebhookAttemptRow(SQLModel, table=True):
    """One POST of one delivery (the delivery log on the admin page): never the body, never the secret."""

    __tablename__ = "webhook_attempts"

    id: str = Field(primary_key=True, max_length=32)
    delivery_id: str = Field(foreign_key="webhook_deliveries.id", index=True, max_length=32)
    attempt: int
    at: datetime = Field(index=True)
    status_code: int | None = None  # the receiver's HTTP status; None when no answer came
    error_class: str | None = Field(default=None, max_length=80)  # e.g. ConnectError, ReadTimeout, http_status
    duration_ms: int
