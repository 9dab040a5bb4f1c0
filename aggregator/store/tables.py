"""Database tables (SQLModel). The schema itself is created and changed only by Alembic migrations
(`aggregator/store/migrations/`); these classes must match the latest migration, which a test checks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class LookupRow(SQLModel, table=True):
    """One question asked of a carrier (on demand or in a batch) and its terminal outcome."""

    __tablename__ = "lookups"

    id: str = Field(primary_key=True, max_length=32)
    flow: str = Field(index=True, max_length=32)
    carrier: str = Field(index=True, max_length=40)
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


class RecordEvidenceRow(SQLModel, table=True):
    """Which evidence backs which record (many to many)."""

    __tablename__ = "record_evidence"

    record_id: str = Field(foreign_key="records.id", primary_key=True, max_length=32)
    evidence_id: str = Field(foreign_key="evidence.id", primary_key=True, max_length=32)
