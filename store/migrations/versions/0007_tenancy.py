"""tenancy: the Svenn tenant behind the stored key, one integration per company and tenant

Revision ID: 0007_tenancy
Revises: 0006_realtime_ticks
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.models import NOT_HOLDING, TENANCY_COLUMNS

revision = "0007_tenancy"
down_revision = "0006_realtime_ticks"
branch_labels = None
depends_on = None

HOLDING = sa.text("status NOT IN (" + ", ".join(f"'{s}'" for s in NOT_HOLDING) + ")")


def _refuse_existing_doubles() -> None:
    """Two live integrations for one Tripletex company: say which, rather than fail obscurely."""
    integrations = sa.table("integrations", sa.column("tripletex_company_id"), sa.column("status"))
    company = integrations.c.tripletex_company_id
    doubles = (
        sa.select(company)
        .where(company.is_not(None), integrations.c.status.not_in(NOT_HOLDING))
        .group_by(company)
        .having(sa.func.count() > 1)
    )
    companies = [str(row[0]) for row in op.get_bind().execute(doubles)]
    if companies:
        raise RuntimeError(
            f"Tripletex companies {', '.join(companies)} each have more than one live "
            "integration; disable all but one of them, then migrate again"
        )


def upgrade() -> None:
    _refuse_existing_doubles()
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("svenn_tenant_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("svenn_tenant_name", sa.String(length=255), nullable=True))
    for column in TENANCY_COLUMNS:
        op.create_index(
            f"uq_integrations_{column}",
            "integrations",
            [column],
            unique=True,
            sqlite_where=HOLDING,
            postgresql_where=HOLDING,
        )


def downgrade() -> None:
    for column in TENANCY_COLUMNS:
        op.drop_index(f"uq_integrations_{column}", table_name="integrations")
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("svenn_tenant_name")
        batch.drop_column("svenn_tenant_id")
