"""canary: the member each portal account's canary looks up, and the result of each canary check

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canary_members",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("carrier", sa.String(40), nullable=False),
        sa.Column("account_label", sa.String(120), nullable=False),
        sa.Column("member_id", sa.String(80), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("last_name", sa.String(80), nullable=True),
        sa.Column("configured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("configured_by", sa.String(80), nullable=True),
        sa.UniqueConstraint("carrier", "account_label", name="uq_canary_members_account"),
    )
    op.create_table(
        "canary_results",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("canary_member_id", sa.String(32), nullable=False),
        sa.Column("carrier", sa.String(40), nullable=False),
        sa.Column("account_label", sa.String(120), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("batch_date", sa.Date(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("reason_code", sa.String(60), nullable=True),
        sa.Column("lookup_id", sa.String(32), sa.ForeignKey("lookups.id"), nullable=True),
        sa.Column("differences", sa.Text(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_canary_results_canary_member_id", "canary_results", ["canary_member_id"])
    op.create_index("ix_canary_results_carrier", "canary_results", ["carrier"])
    op.create_index("ix_canary_results_started_at", "canary_results", ["started_at"])


def downgrade() -> None:
    op.drop_table("canary_results")
    op.drop_table("canary_members")
