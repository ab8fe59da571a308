"""The initial sync's steps, which the reconciliation and the retry reuse: step 1 (Tripletex →
Svenn) links matches and creates Tripletex-only records in Svenn; step 2 (Svenn → Tripletex)
creates the Svenn-only records in Tripletex; step 3 aligns the pairs step 1 linked while they
differed. Each step logs one line per entity and moves the run's progress artifact.
"""

from __future__ import annotations

from collections.abc import Mapping

from prefect import get_run_logger

from connectors.svenn.client import SvennClient
from connectors.tripletex.client import TripletexClient
from store.integrations import release_sync
from store.state import StateStore
from sync.plan import EntityPlan, narrowed
from sync.records import SYNC_ORDER, Entity, Record
from tasks.apply import Applier
from tasks.extract import Excluded, Extracts
from tasks.planning import plan_one, resting_survivors
from tasks.reconcile import DriftReport, align_linked
from tasks.report import Progress


def release_initial_sync(store: StateStore, tenant: str, run_id: str) -> None:
    """Release the tenant's initial sync (done, or failed: a rerun may start at once)."""
    with store.sessions.begin() as session:
        release_sync(session, tenant, run_id)


async def step_one(
    applier: Applier,
    svenn: SvennClient,
    extracts: Extracts,
    excluded: Excluded,
    progress: Progress,
    only: Mapping[Entity, set[str]] | None = None,
) -> tuple[dict[Entity, EntityPlan], dict[Entity, list[Record]]]:
    """Tripletex → Svenn: log what fails, link what matches, create the rest in Svenn.

    ``only`` (a retry) keeps, per entity, the part of the plan that touches those record keys.
    """
    logger = get_run_logger()
    plans: dict[Entity, EntityPlan] = {}
    created: dict[Entity, list[Record]] = {}
    customer_links: dict[str, str] = {}
    for entity in SYNC_ORDER:
        resting = resting_survivors(applier.store, applier.tenant, entity, extracts)
        plan = plan_one(
            entity,
            extracts,
            excluded,
            applier.links(entity),
            customer_links,
            resting,
            applier.decisions(entity),
        )
        if only is not None:
            plan = narrowed(plan, only.get(entity, set()))
        applier.fail(plan.failures)
        applier.link(
            entity,
            plan.links,
            {str(r.id): r for r in extracts.tripletex[entity]},
            {str(r.id): r for r in extracts.svenn[entity]},
        )
        progress.advance(len(plan.failures) + plan.already_linked)
        created[entity] = await applier.create_in_svenn(
            svenn, entity, plan.create_in_svenn, existing=extracts.svenn[entity]
        )
        if entity is Entity.CUSTOMER:  # projects match on name + customer through these
            customer_links = applier.links(entity)
        plans[entity] = plan
        tally = applier.tally(entity)
        logger.info(
            "step 1 %s: %d linked, %d created in Svenn, %d failed",
            entity.value,
            tally.linked,
            tally.created_in_svenn,
            tally.failed,
        )
        await progress.flush(f"step 1 (Tripletex → Svenn): {entity.value}s done")
    return plans, created


async def step_two(
    applier: Applier,
    tripletex: TripletexClient,
    svenn: SvennClient,
    extracts: Extracts,
    plans: dict[Entity, EntityPlan],
    progress: Progress,
) -> dict[Entity, list[Record]]:
    """Svenn → Tripletex: create in Tripletex what step 1 did not touch; the numbers Tripletex
    assigns travel back to Svenn."""
    logger = get_run_logger()
    created: dict[Entity, list[Record]] = {}
    for entity in SYNC_ORDER:
        failed_before = applier.tally(entity).failed
        created[entity] = await applier.create_in_tripletex(
            tripletex,
            entity,
            plans[entity].create_in_tripletex,
            fallback_manager=extracts.tripletex_employee_id,
            existing=extracts.tripletex[entity],
            project_managers=extracts.tripletex_project_managers,
            numbers_back=svenn,
        )
        logger.info(
            "step 2 %s: %d created in Tripletex, %d failed",
            entity.value,
            len(created[entity]),
            applier.tally(entity).failed - failed_before,
        )
        await progress.flush(f"step 2 (Svenn → Tripletex): {entity.value}s done")
    return created


async def step_three(
    applier: Applier, tripletex: TripletexClient, svenn: SvennClient, extracts: Extracts
) -> None:
    """Align the pairs step 1 linked while they differed (a field one side lacks is copied, a
    difference keeps the precedence winner's value and logs the other as a FIELD_CONFLICT), so
    that every linked pair agrees on every synced field when realtime takes over."""
    report = DriftReport(applier.tenant)
    await align_linked(applier, tripletex, svenn, extracts, report)
    for entity, aligned in report.repaired_per_entity().items():
        applier.tally(Entity(entity)).aligned += aligned
    if report.rows:
        get_run_logger().info(
            "step 3: %d linked pair(s) differed, %d aligned", len(report.rows), report.repaired
        )
