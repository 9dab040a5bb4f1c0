"""lookups remember which process runs them, so a later start can close those a dead process left open

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lookups") as batch:
        batch.add_column(sa.Column("owner", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lookups") as batch:
        batch.drop_column("owner")
