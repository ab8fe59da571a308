"""Build the initial-sync plan (the same code serves the preview and the real run)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from store.links import tripletex_to_svenn
from store.state import StateStore
from sync.plan import EntityPlan, PlannedFailure, SyncPlan, plan_entity
from sync.records import SYNC_ORDER, Direction, Entity
from sync.target_rules import TargetFacts, prepare_creates
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
    """The whole plan as a dry run, including what each target would refuse.

    Records the run would create stand in for their future ids ("new:<id>"), so projects see
    the customers and managers that step 1 and step 2 would create before them.
    """
    plan = SyncPlan()
    customer_links: dict[str, str] = {}
    to_svenn: dict[Entity, dict[str, str]] = {Entity.CUSTOMER: {}, Entity.EMPLOYEE: {}}
    to_tripletex: dict[Entity, dict[str, str]] = {Entity.CUSTOMER: {}, Entity.EMPLOYEE: {}}
    for entity in SYNC_ORDER:
        linked = stored_links(store, tenant, entity)
        entity_plan = plan_one(entity, extracts, excluded, linked, customer_links)
        pairs = dict(linked) | {link.tripletex_id: link.svenn_id for link in entity_plan.links}
        if entity is Entity.CUSTOMER:
            customer_links = pairs
        step_one, refused_one = prepare_creates(
            entity_plan.create_in_svenn,
            Direction.TRIPLETEX_TO_SVENN,
            TargetFacts(
                existing=extracts.svenn[entity],
                customers=to_svenn[Entity.CUSTOMER],
                employees=to_svenn[Entity.EMPLOYEE],
            ),
        )
        step_two, refused_two = prepare_creates(
            entity_plan.create_in_tripletex,
            Direction.SVENN_TO_TRIPLETEX,
            TargetFacts(
                existing=extracts.tripletex[entity],
                customers=to_tripletex[Entity.CUSTOMER],
                employees=to_tripletex[Entity.EMPLOYEE],
                fallback_manager=extracts.tripletex_employee_id,
                project_managers=frozenset(extracts.tripletex_project_managers),
            ),
        )
        entity_plan.create_in_svenn = [source for source, _ in step_one]
        entity_plan.create_in_tripletex = [source for source, _ in step_two]
        entity_plan.failures += refused_one + refused_two
        if entity in to_svenn:
            to_svenn[entity] = pairs | {str(s.id): f"new:{s.id}" for s, _ in step_one}
            to_tripletex[entity] = {sv: tx for tx, sv in pairs.items()} | {
                str(s.id): f"new:{s.id}" for s, _ in step_two
            }
        plan.entities[entity] = entity_plan
    return plan
