"""evidence keeps the boxes masked for non-admin viewers; API tokens expire

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("mask_boxes", sa.Text(), nullable=True))
    with op.batch_alter_table("web_api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("mask_boxes")
