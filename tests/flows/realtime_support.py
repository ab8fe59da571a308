"""Shared steps of the realtime flow tests: one initial sync, then ticks in this process."""

from __future__ import annotations

import asyncio

from cli.operate import decide
from sandboxes.pair import SandboxPair
from store.links import created_pairs
from store.state import StateStore
from tasks.realtime_tick import TenantTick, TickReport
from tasks.tenant import tenant_clients
from tests.flows.conftest import run_activation


def tick(pair: SandboxPair, store: StateStore) -> TickReport:
    """One realtime tick of the seeded tenant, in this process."""

    async def run() -> TickReport:
        async with tenant_clients(pair.tenant) as (tx, sv):
            return await TenantTick(store, pair.tenant, tx, sv, "test-run").run()

    return asyncio.run(run())


def synced_once(pair: SandboxPair, store: StateStore) -> list[tuple[str, str]]:
    """Activate, approve (initial sync) and tick once, the first time only (hypothesis runs
    many examples on one pair); the customer pairs whose two sides agree."""
    if not getattr(pair, "realtime_ready", False):
        run_activation(pair)
        decide(store, pair.tenant, "approve", "kari@ops", "ok")
        tick(pair, store)
        pair.realtime_ready = True  # type: ignore[attr-defined]
    with store.sessions() as session:
        return created_pairs(session, pair.tenant, "customer")
