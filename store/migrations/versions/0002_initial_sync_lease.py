"""initial sync lease: which run holds a tenant's initial sync, and its last sign of life

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("sync_run_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("sync_heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("sync_heartbeat_at")
        batch.drop_column("sync_run_id")
