"""leases: one table of per-tenant leases (initial sync, realtime, hours export, ...)

Replaces the initial sync's lease columns on ``integrations``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "purpose", name=op.f("pk_leases")),
    )
    op.execute(
        "INSERT INTO leases (tenant, purpose, holder, heartbeat_at) "
        "SELECT tenant, 'initial-sync', sync_run_id, sync_heartbeat_at FROM integrations "
        "WHERE sync_run_id IS NOT NULL"
    )
    # "never": SQLite drops the columns in place; recreating the table would cascade-delete
    # the audit trail that references it.
    with op.batch_alter_table("integrations", recreate="never") as batch:
        batch.drop_column("sync_heartbeat_at")
        batch.drop_column("sync_run_id")


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("sync_run_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("sync_heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_table("leases")
