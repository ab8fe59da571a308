"""realtime ticks: when a tenant's last realtime tick succeeded

Revision ID: 0006_realtime_ticks
Revises: 0005_failure_resolution
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_realtime_ticks"
down_revision = "0005_failure_resolution"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("realtime_ok_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("realtime_failed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("realtime_failed_at")
        batch.drop_column("realtime_ok_at")
