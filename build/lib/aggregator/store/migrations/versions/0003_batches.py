"""appointments, batch runs and batch items: the overnight pre-visit run

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("patient_last_name", sa.String(80), nullable=False),
        sa.Column("patient_first_name", sa.String(80), nullable=False),
        sa.Column("patient_dob", sa.Date(), nullable=False),
        sa.Column("carrier", sa.String(40), nullable=False),
        sa.Column("member_id", sa.String(80), nullable=False),
        sa.Column("provider_npi", sa.String(10), nullable=True),
        sa.Column("procedure_codes", sa.String(400), nullable=True),
        sa.Column("service_type", sa.String(4), nullable=True),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_appointments_service_date", "appointments", ["service_date"])
    op.create_index("ix_appointments_carrier", "appointments", ["carrier"])
    op.create_table(
        "batch_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("batch_date", sa.Date(), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
    )
    op.create_index("ix_batch_runs_batch_date", "batch_runs", ["batch_date"])
    op.create_table(
        "batch_items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("batch_date", sa.Date(), nullable=False),
        sa.Column("appointment_id", sa.String(80), sa.ForeignKey("appointments.id"), nullable=False),
        sa.Column("carrier", sa.String(40), nullable=False),
        sa.Column("account_label", sa.String(120), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("reason_code", sa.String(60), nullable=True),
        sa.Column("action", sa.String(500), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eligibility_lookup_id", sa.String(32), sa.ForeignKey("lookups.id"), nullable=True),
        sa.Column("authorization_lookup_id", sa.String(32), sa.ForeignKey("lookups.id"), nullable=True),
        sa.Column("auth_answer", sa.Text(), nullable=True),
        sa.Column("changes", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("batch_date", "appointment_id", name="uq_batch_items_date_appointment"),
    )
    op.create_index("ix_batch_items_batch_date", "batch_items", ["batch_date"])
    op.create_index("ix_batch_items_appointment_id", "batch_items", ["appointment_id"])
    op.create_index("ix_batch_items_state", "batch_items", ["state"])


def downgrade() -> None:
    op.drop_table("batch_items")
    op.drop_table("batch_runs")
    op.drop_table("appointments")
