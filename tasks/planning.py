"""Build the initial-sync plan (the same code serves the preview and the real run)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from store.links import tripletex_to_svenn
from store.state import StateStore
from sync.plan import EntityPlan, PlannedFailure, SyncPlan, plan_entity
from sync.records import SYNC_ORDER, Entity
from tasks.extract import Extracts


def stored_links(store: StateStore, tenant: str, entity: Entity) -> dict[str, str]:
    """Tripletex id → Svenn id for one entity."""
    with store.sessions() as session:
        return tripletex_to_svenn(session, tenant, entity.value)


def plan_one(
    entity: Entity,
    extracts: Extracts,
    excluded: Mapping[Entity, Sequence[PlannedFailure]],
    linked: Mapping[str, str],
    customer_links: Mapping[str, str],
) -> EntityPlan:
    """The plan for one entity given what is linked now."""
    return plan_entity(
        entity,
        extracts.tripletex[entity],
        extracts.svenn[entity],
        linked=linked,
        customer_links=customer_links,
        excluded=excluded.get(entity, ()),
    )


@task(name="plan-initial-sync", cache_policy=NO_CACHE)
def preview_plan(
    store: StateStore,
    tenant: str,
    extracts: Extracts,
    excluded: Mapping[Entity, Sequence[PlannedFailure]],
) -> SyncPlan:
    """The whole plan as a dry run: projects see the customer links the plan would make."""
    plan = SyncPlan()
    customer_links: dict[str, str] = {}
    for entity in SYNC_ORDER:
        linked = stored_links(store, tenant, entity)
        entity_plan = plan_one(entity, extracts, excluded, linked, customer_links)
        if entity is Entity.CUSTOMER:
            customer_links = dict(linked) | {
                link.tripletex_id: link.svenn_id for link in entity_plan.links
            }
        plan.entities[entity] = entity_plan
    return plan
