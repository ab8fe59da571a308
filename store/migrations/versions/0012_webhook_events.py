"""webhook events: each tenant's HMAC secret, and the deliveries the receiver recorded

Revision ID: 0012_webhook_events
Revises: 0011_manual_decisions
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_webhook_events"
down_revision = "0011_manual_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("webhook_secret_encrypted", sa.Text(), nullable=True))
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("tenant", "idempotency_key", name="uq_webhook_events_delivery"),
    )
    op.create_index("ix_webhook_events_waiting", "webhook_events", ["taken_at", "tenant"])


def downgrade() -> None:
    op.drop_index("ix_webhook_events_waiting", table_name="webhook_events")
    op.drop_table("webhook_events")
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("webhook_secret_encrypted")
