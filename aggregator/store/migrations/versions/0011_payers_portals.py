"""payers and portals: lookups.portal (a hub that answered for a payer), portal_search_counts (daily search
budgets per portal account), account_notices (e.g. a password about to expire)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lookups") as batch:
        batch.add_column(sa.Column("portal", sa.String(40), nullable=True))
    op.create_table(
        "portal_search_counts",
        sa.Column("account_id", sa.String(32), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("portal", sa.String(40), nullable=False),
        sa.Column("account_label", sa.String(120), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "account_notices",
        sa.Column("account_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("portal", sa.String(40), nullable=False),
        sa.Column("account_label", sa.String(120), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("account_notices")
    op.drop_table("portal_search_counts")
    with op.batch_alter_table("lookups") as batch:
        batch.drop_column("portal")
