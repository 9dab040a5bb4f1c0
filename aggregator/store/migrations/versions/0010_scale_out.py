"""scale-out: carrier_breakers (the circuit breaker the queue's workers share) and web_lookup_jobs (on-demand
lookups run on the queue)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_breakers",
        sa.Column("carrier", sa.String(40), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("openings", sa.Integer(), nullable=False),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("probe_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "web_lookup_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
    )
    op.create_index("ix_web_lookup_jobs_user_id", "web_lookup_jobs", ["user_id"])
    op.create_index("ix_web_lookup_jobs_started_at", "web_lookup_jobs", ["started_at"])


def downgrade() -> None:
    op.drop_table("web_lookup_jobs")
    op.drop_table("carrier_breakers")
