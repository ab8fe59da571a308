"""push status: whether a tenant's webhook subscriptions are healthy, and why not

Revision ID: 0013_push_status
Revises: 0012_webhook_events
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_push_status"
down_revision = "0012_webhook_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("push_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("push_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("push_checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("push_checked_at")
        batch.drop_column("push_note")
        batch.drop_column("push_status")
