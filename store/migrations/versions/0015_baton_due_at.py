"""baton due at: when the realtime window holding a shard's baton was due (the later outranks)

Revision ID: 0015_baton_due_at
Revises: 0014_tripletex_polled_at
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_baton_due_at"
down_revision = "0014_tripletex_polled_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("due_at")
