"""tripletex polled at: when a tenant's Tripletex checksums were last polled, shared by runs

Revision ID: 0014_tripletex_polled_at
Revises: 0013_push_status
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_tripletex_polled_at"
down_revision = "0013_push_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(
            sa.Column("tripletex_polled_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("tripletex_polled_at")
