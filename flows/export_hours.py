"""Hours export: approved Svenn hours become Tripletex timesheet entries, exactly once.

For every active tenant (or the one given): find the hours that changed, sum them into one
entry per employee/date/project/activity, write creates, updates and deletes in batches, log
what is held back, and leave an artifact with the totals payroll checks. One export per tenant
at a time (lease ``hours-export``); a tenant whose initial sync is running is skipped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger

from tasks.fleet import active_tenants, run_for_tenants
from tasks.hours_export import HoursReport, export_tenant
from tasks.hours_report import publish_hours_report
from tasks.report import tenant_run_name
from tasks.tenant import run_setup


class HoursExportError(RuntimeError):
    """At least one tenant's export failed (the others finished; see the run's artifacts)."""


@flow(name="export-hours", retries=0, flow_run_name=tenant_run_name("export-hours"))
async def export_hours(
    tenant: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    shard: int = 0,
    shards: int = 1,
) -> dict[str, Any]:
    """Export hours for every active tenant in the shard (or one tenant), optionally a period."""
    logger = get_run_logger()
    setup = run_setup()
    settings, store, run_id = setup.settings, setup.store, setup.run_id
    period = _period(date_from, date_to)
    tenants = [tenant] if tenant else active_tenants(store, shard=shard, shards=shards)

    async def export_one(name: str) -> HoursReport:
        report = await export_tenant(store, settings, name, run_id, period)
        await publish_hours_report(report)
        return report

    outcomes = await run_for_tenants(
        tenants, export_one, concurrency=settings.max_concurrent_tenants
    )
    result = {
        name: outcome.value.summary() if outcome.value else {"error": outcome.error}
        for name, outcome in outcomes.items()
    }
    failed = {name: o.error for name, o in outcomes.items() if not o.ok}
    logger.info("hours export: %d tenants, %d failed", len(outcomes), len(failed))
    if failed:
        raise HoursExportError(
            "; ".join(f"{name}: {error}" for name, error in sorted(failed.items()))
        )
    return result


def _period(first: dt.date | None, last: dt.date | None) -> tuple[dt.date, dt.date] | None:
    if first is None and last is None:
        return None
    if first is None or last is None or last < first:
        raise ValueError("give both date_from and date_to, with date_from <= date_to")
    return first, last


if __name__ == "__main__":  # `python -m flows.export_hours TENANT` (used by the crash tests)
    import asyncio
    import sys

    asyncio.run(export_hours(sys.argv[1] if len(sys.argv) > 1 else None))
