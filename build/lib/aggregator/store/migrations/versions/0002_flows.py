"""lookups and records for every flow: authorization and claim status besides eligibility

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lookups") as batch:
        batch.alter_column("member_id", existing_type=sa.String(80), nullable=True)
        batch.alter_column("date_of_birth", existing_type=sa.Date(), nullable=True)
        batch.alter_column("service_date", existing_type=sa.Date(), nullable=True)
        batch.add_column(sa.Column("query", sa.Text(), nullable=True))
        batch.add_column(sa.Column("changes", sa.Text(), nullable=True))
    with op.batch_alter_table("records") as batch:
        batch.alter_column("member_id", existing_type=sa.String(80), nullable=True)
        batch.alter_column("service_date", existing_type=sa.Date(), nullable=True)
        batch.add_column(sa.Column("subject", sa.String(120), nullable=False, server_default=""))
        batch.create_index("ix_records_subject", ["carrier", "kind", "subject"])


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_index("ix_records_subject")
        batch.drop_column("subject")
    with op.batch_alter_table("lookups") as batch:
        batch.drop_column("changes")
        batch.drop_column("query")
