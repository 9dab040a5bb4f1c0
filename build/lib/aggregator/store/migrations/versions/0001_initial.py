"""lookups, records, evidence chain

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookups",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("flow", sa.String(32), nullable=False, index=True),
        sa.Column("carrier", sa.String(40), nullable=False, index=True),
        sa.Column("account_label", sa.String(120)),
        sa.Column("member_id", sa.String(80), nullable=False, index=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(32), index=True),
        sa.Column("reason", sa.String(500)),
        sa.Column("reason_code", sa.String(60)),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("lookup_id", sa.String(32), sa.ForeignKey("lookups.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("carrier", sa.String(40), nullable=False, index=True),
        sa.Column("member_id", sa.String(80), nullable=False, index=True),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True, index=True),
        sa.Column("lookup_id", sa.String(32), sa.ForeignKey("lookups.id"), index=True),
        sa.Column("carrier", sa.String(40), nullable=False, index=True),
        sa.Column("account_label", sa.String(120), nullable=False),
        sa.Column("flow", sa.String(32), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("screenshot_sha256", sa.String(64), nullable=False),
        sa.Column("html_sha256", sa.String(64), nullable=False),
        sa.Column("screenshot_path", sa.String(300), nullable=False),
        sa.Column("html_path", sa.String(300), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "record_evidence",
        sa.Column("record_id", sa.String(32), sa.ForeignKey("records.id"), primary_key=True),
        sa.Column("evidence_id", sa.String(32), sa.ForeignKey("evidence.id"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("record_evidence")
    op.drop_table("evidence")
    op.drop_table("records")
    op.drop_table("lookups")
