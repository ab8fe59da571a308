"""failed records: who resolved a row, and the analysts' per-tenant, per-reason daily count

Revision ID: 0005_failure_resolution
Revises: 0004_hours_export
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.models import DAILY_FAILURES_VIEW, OPEN_FAILURES_VIEW, OPEN_FAILURES_VIEW_SQL

revision = "0005_failure_resolution"
down_revision = "0004_hours_export"
branch_labels = None
depends_on = None


def _day(column: str) -> str:
    # The calendar day (UTC) of a timestamp, in each dialect's own words.
    if op.get_bind().dialect.name == "sqlite":
        return f"date({column})"
    return f"CAST({column} AT TIME ZONE 'UTC' AS DATE)"


def daily_view_sql() -> str:
    """Rows first seen and rows resolved, per tenant, reason and day."""
    # Fixed names only: nothing from outside reaches this text.
    return f"""
CREATE VIEW {DAILY_FAILURES_VIEW} AS
SELECT tenant, reason_code, day, SUM(opened) AS opened, SUM(resolved) AS resolved
FROM (
    SELECT tenant, reason_code, {_day("first_seen")} AS day, 1 AS opened, 0 AS resolved
    FROM failed_records
    UNION ALL
    SELECT tenant, reason_code, {_day("resolved_at")} AS day, 0 AS opened, 1 AS resolved
    FROM failed_records
    WHERE status = 'resolved' AND resolved_at IS NOT NULL
) AS events
GROUP BY tenant, reason_code, day
"""  # noqa: S608


def upgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {OPEN_FAILURES_VIEW}")  # SQLite: no view over a rebuilt table
    with op.batch_alter_table("failed_records") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(length=200), nullable=True))
    op.execute(OPEN_FAILURES_VIEW_SQL)
    op.execute(daily_view_sql())


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {DAILY_FAILURES_VIEW}")
    op.execute(f"DROP VIEW IF EXISTS {OPEN_FAILURES_VIEW}")
    with op.batch_alter_table("failed_records") as batch:
        batch.drop_column("resolved_by")
    op.execute(OPEN_FAILURES_VIEW_SQL)
