"""alerts sent: which alert ops were sent for which tenant and occurrence (each goes out once)

Revision ID: 0009_alerts_sent
Revises: 0008_failure_search
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_alerts_sent"
down_revision = "0008_failure_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts_sent",
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("occurrence", sa.String(120), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "kind", "occurrence", name="pk_alerts_sent"),
    )


def downgrade() -> None:
    op.drop_table("alerts_sent")
