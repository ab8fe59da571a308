"""tombstones: survivors of a delete, so they are not taken for new records

Revision ID: 0010_tombstones
Revises: 0009_alerts_sent
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_tombstones"
down_revision = "0009_alerts_sent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("deleted_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "entity", "system", "record_id", name=op.f("pk_tombstones")
        ),
    )


def downgrade() -> None:
    op.drop_table("tombstones")
