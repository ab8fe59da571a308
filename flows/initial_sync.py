"""Initial sync: link what overlaps, create what is missing on each side, validate, go active.

Step 1 (Tripletex → Svenn) links matches and creates Tripletex-only records in Svenn; step 2
(Svenn → Tripletex) creates the Svenn-only records in Tripletex. The run refuses to start for a
tenant no person approved, and can be rerun after a crash at any point.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from config.settings import load_settings
from store.failures import open_failures
from store.integrations import require_approved, transition
from store.models import IntegrationStatus
from store.state import StateStore
from sync.records import SYNC_ORDER, Entity, Record
from tasks.apply import Applier
from tasks.extract import check_extracts, extract_both_sides
from tasks.planning import plan_one, stored_links
from tasks.report import Progress, publish_summary
from tasks.tenant import state_store, tenant_clients
from tasks.verify import verify_after_sync


@task(name="start-initial-sync", cache_policy=NO_CACHE)
def start_initial_sync(store: StateStore, tenant: str, run_id: str | None) -> None:
    """The gate: only an approved tenant syncs. A run that died mid-way resumes from syncing."""
    with store.sessions.begin() as session:
        integration = require_approved(session, tenant)
        if integration.status != IntegrationStatus.SYNCING.value:
            transition(session, tenant, IntegrationStatus.SYNCING, flow_run_id=run_id)


@task(name="finish-initial-sync", cache_policy=NO_CACHE)
def finish_initial_sync(store: StateStore, tenant: str, ok: bool, run_id: str | None) -> str:
    """Active when the checks after the sync passed, failed (with the reason) otherwise."""
    status = IntegrationStatus.ACTIVE if ok else IntegrationStatus.FAILED
    reason = None if ok else "validation after the initial sync found problems (see artifacts)"
    with store.sessions.begin() as session:
        transition(session, tenant, status, reason=reason, flow_run_id=run_id)
    return status.value


@flow(name="initial-sync", retries=0)
async def initial_sync(tenant: str) -> dict[str, Any]:
    """Two-step initial sync of one approved tenant, then validation, then active."""
    logger = get_run_logger()
    settings = load_settings()
    store = state_store(settings)
    run_id = flow_run.get_id()
    start_initial_sync(store, tenant, run_id)
    applier = Applier(store, tenant, run_id)
    async with tenant_clients(tenant, settings) as (tx, sv):
        extracts = await extract_both_sides(tx, sv)
        logger.info("read %s", extracts.counts())
        excluded = check_extracts(extracts)
        total = sum(len(r) for side in (extracts.tripletex, extracts.svenn) for r in side.values())
        progress = await Progress.start(tenant, total)
        applier.on_progress = progress.advance
        plans = {}
        created_in_svenn: dict[Entity, list[Record]] = {}
        customer_links: dict[str, str] = {}
        for entity in SYNC_ORDER:  # step 1: Tripletex → Svenn
            linked = stored_links(store, tenant, entity)
            plan = plan_one(entity, extracts, excluded, linked, customer_links)
            logger.info("step 1 %s: %s", entity.value, plan.counts())
            applier.fail(plan.failures)
            applier.link(
                entity,
                plan.links,
                {str(r.id): r for r in extracts.tripletex[entity]},
                {str(r.id): r for r in extracts.svenn[entity]},
            )
            progress.advance(len(plan.failures) + plan.already_linked)
            created_in_svenn[entity] = await applier.create_in_svenn(
                sv, entity, plan.create_in_svenn, existing=extracts.svenn[entity]
            )
            if entity is Entity.CUSTOMER:
                customer_links = stored_links(store, tenant, entity)
            plans[entity] = plan
            await progress.flush()
        created_in_tripletex: dict[Entity, list[Record]] = {}
        for entity in SYNC_ORDER:  # step 2: Svenn → Tripletex
            created_in_tripletex[entity] = await applier.create_in_tripletex(
                tx,
                entity,
                plans[entity].create_in_tripletex,
                fallback_manager=extracts.tripletex_employee_id,
                existing=extracts.tripletex[entity],
                project_managers=extracts.tripletex_project_managers,
            )
            logger.info("step 2 %s: created %d", entity.value, len(created_in_tripletex[entity]))
            await progress.flush()
    verification = verify_after_sync(
        store,
        tenant,
        {e: extracts.tripletex[e] + created_in_tripletex[e] for e in SYNC_ORDER},
        {e: extracts.svenn[e] + created_in_svenn[e] for e in SYNC_ORDER},
    )
    applier.fail(verification.failures)
    status = finish_initial_sync(store, tenant, verification.ok, run_id)
    progress.done = progress.total
    await progress.flush()
    rows = [{"entity": e.value, **vars(applier.tally(e))} for e in SYNC_ORDER]
    with store.sessions() as session:
        failures = [
            {
                "entity": f.entity,
                "direction": f.direction,
                "svenn_id": f.svenn_id,
                "tripletex_id": f.tripletex_id,
                "reason_code": f.reason_code,
                "message": f.message_en,
                "attempts": f.attempts,
            }
            for f in open_failures(session, tenant)
        ]
    await publish_summary(tenant, rows, failures, "\n\n".join(verification.markdown), status)
    logger.info(
        "initial sync of %s finished: %s, %d open failed records", tenant, status, len(failures)
    )
    return {"status": status, "entities": rows, "open_failures": len(failures)}


if __name__ == "__main__":  # `python -m flows.initial_sync TENANT` (used by the crash tests)
    import asyncio
    import sys

    asyncio.run(initial_sync(sys.argv[1]))
