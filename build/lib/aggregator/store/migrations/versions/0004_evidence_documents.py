"""evidence may keep a downloaded document (an EOB PDF) beside its screenshot and HTML

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("document_path", sa.String(300), nullable=True))
        batch.add_column(sa.Column("document_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("document_media_type", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("document_media_type")
        batch.drop_column("document_sha256")
        batch.drop_column("document_path")
