"""Initial sync: link what overlaps, create what is missing on each side, validate, go active.

The runbook is :func:`tasks.initial_sync.sync_approved_tenant` (the activation runs it too,
once approved); this flow runs it for one tenant, on demand or from the CLI.
"""

from __future__ import annotations

import sys
from typing import Any

from prefect import flow

from tasks.initial_sync import sync_approved_tenant
from tasks.report import tenant_run_name


@flow(name="initial-sync", retries=0, flow_run_name=tenant_run_name("initial-sync"))
async def initial_sync(tenant: str) -> dict[str, Any]:
    """Two-step initial sync of one approved tenant, then validation, then active."""
    # A returned failed state (a refusal, a stop) becomes the run's state: one sentence, no
    # traceback; a direct caller gets it raised.
    return await sync_approved_tenant(tenant)  # type: ignore[return-value]


async def run_initial_sync(tenant: str) -> int:
    """Run the flow for ``tenant``; print its outcome in one line; the exit code (0: done)."""
    state = await initial_sync(tenant, return_state=True)
    if not state.is_completed():
        print(f"error: {state.message}", file=sys.stderr)
        return 1
    print(f"{tenant}: initial sync finished: {(await state.aresult())['status']}")
    return 0


if __name__ == "__main__":  # `python -m flows.initial_sync TENANT` (used by the crash tests)
    import asyncio

    sys.exit(asyncio.run(run_initial_sync(sys.argv[1])))
