"""failure search: the record's name, number and search text on each failed-record row

Revision ID: 0008_failure_search
Revises: 0007_tenancy
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sync.record_label import label_record

revision = "0008_failure_search"
down_revision = "0007_tenancy"
branch_labels = None
depends_on = None


def _label_existing_rows() -> None:
    """Rows written before this revision get their label from the payload they kept."""
    rows = sa.table(
        "failed_records",
        sa.column("id", sa.Integer),
        sa.column("entity", sa.String),
        sa.column("svenn_id", sa.String),
        sa.column("tripletex_id", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("record_name", sa.String),
        sa.column("record_number", sa.String),
        sa.column("search_text", sa.Text),
    )
    bind = op.get_bind()
    found = bind.execute(
        sa.select(rows.c.id, rows.c.entity, rows.c.payload, rows.c.svenn_id, rows.c.tripletex_id)
    )
    for row_id, entity, payload, svenn_id, tripletex_id in found.all():
        label = label_record(entity, payload, svenn_id, tripletex_id)
        bind.execute(
            rows.update()
            .where(rows.c.id == row_id)
            .values(
                record_name=label.name, record_number=label.number, search_text=label.search_text
            )
        )


# Plain ADD/DROP COLUMN (SQLite has both): no table rebuild, so the views over the table stay.
def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("record_name", sa.String(length=255), nullable=True),
        sa.Column("record_number", sa.String(length=64), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    for column in _columns():
        op.add_column("failed_records", column)
    _label_existing_rows()


def downgrade() -> None:
    for column in reversed(_columns()):
        op.drop_column("failed_records", column.name)
