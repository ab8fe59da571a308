"""hours export: the ledger maps many Svenn hours to one Tripletex entry; written entries

The 0001 ``hours_ledger`` (one Svenn hour ↔ one entry, never used) is replaced: several Svenn
rows sum into one entry per employee/date/project/activity, so the ledger stores each row's
key, and ``hours_entries`` holds each entry we wrote with the intent of a write in flight.

Revision ID: 0004_hours_export
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_hours_export"
down_revision = "0003"
branch_labels = None
depends_on = None

KEY = ("employee_id", "entry_date", "project_id", "activity_id")


def _key_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    op.drop_table("hours_ledger")  # never written before this revision
    op.create_table(
        "hours_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("svenn_hour_id", sa.String(length=64), nullable=False),
        *_key_columns(),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hours_ledger")),
        sa.UniqueConstraint("tenant", "svenn_hour_id", name="uq_hours_ledger_svenn"),
    )
    op.create_index("ix_hours_ledger_date", "hours_ledger", ["tenant", "entry_date"])
    op.create_table(
        "hours_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=100), nullable=False),
        *_key_columns(),
        sa.Column("tripletex_entry_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("pending_op", sa.String(length=10), nullable=True),
        sa.Column("pending_hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("pending_comment", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hours_entries")),
        sa.UniqueConstraint("tenant", *KEY, name="uq_hours_entries_key"),
    )
    op.create_index("ix_hours_entries_date", "hours_entries", ["tenant", "entry_date"])


def downgrade() -> None:
    op.drop_index("ix_hours_entries_date", table_name="hours_entries")
    op.drop_table("hours_entries")
    op.drop_index("ix_hours_ledger_date", table_name="hours_ledger")
    op.drop_table("hours_ledger")
    op.create_table(
        "hours_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("svenn_hour_id", sa.String(length=64), nullable=False),
        sa.Column("svenn_version", sa.Integer(), nullable=True),
        sa.Column("tripletex_entry_id", sa.String(length=64), nullable=True),
        sa.Column("tripletex_version", sa.Integer(), nullable=True),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hours_ledger")),
        sa.UniqueConstraint("tenant", "svenn_hour_id", name="uq_hours_ledger_svenn"),
        sa.UniqueConstraint("tenant", "tripletex_entry_id", name="uq_hours_ledger_tripletex"),
    )
