"""manual decisions: links, keep-apart pairs, duplicates and kept values a person chose

Revision ID: 0011_manual_decisions
Revises: 0010_tombstones
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_manual_decisions"
down_revision = "0010_tombstones"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manual_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("svenn_id", sa.String(length=64), nullable=True),
        sa.Column("tripletex_id", sa.String(length=64), nullable=True),
        sa.Column("side", sa.String(length=20), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("other_id", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_by", sa.String(length=200), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_decisions")),
    )
    op.create_index(
        "ix_manual_decisions_standing",
        "manual_decisions",
        ["tenant", "entity", "undone_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_manual_decisions_standing", table_name="manual_decisions")
    op.drop_table("manual_decisions")
