"""Build the initial-sync plan (the same code serves the preview and the real run)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from store.decisions import decisions_for
from store.links import tripletex_to_svenn
from store.state import StateStore
from store.tombstones import tombstones_for
from sync.decisions import NO_DECISIONS, Decisions
from sync.initial_plan import plan_initial_sync
from sync.plan import EntityPlan, PlannedFailure, SyncPlan, plan_entity
from sync.records import SYNC_ORDER, Entity, System
from sync.tombstones import resting_keys
from tasks.extract import Extracts


def stored_links(store: StateStore, tenant: str, entity: Entity) -> dict[str, str]:
    """Tripletex id → Svenn id for one entity."""
    with store.sessions() as session:
        return tripletex_to_svenn(session, tenant, entity.value)


def resting_survivors(
    store: StateStore, tenant: str, entity: Entity, extracts: Extracts
) -> set[str]:
    """Keys of the survivors of deletes that nobody changed since (not new records)."""
    with store.sessions() as session:
        tombstones = tombstones_for(session, tenant, entity)
    if not tombstones:
        return set()
    records = {System.SVENN: extracts.svenn[entity], System.TRIPLETEX: extracts.tripletex[entity]}
    return resting_keys(tombstones, records)


def stored_decisions(store: StateStore, tenant: str, entity: Entity) -> Decisions:
    """What people decided about this entity's held-back records (standing decisions)."""
    with store.sessions() as session:
        return decisions_for(session, tenant, entity.value)


def all_decisions(store: StateStore, tenant: str) -> dict[Entity, Decisions]:
    """The standing decisions of every synced entity."""
    return {entity: stored_decisions(store, tenant, entity) for entity in SYNC_ORDER}


def plan_one(
    entity: Entity,
    extracts: Extracts,
    excluded: Mapping[Entity, Sequence[PlannedFailure]],
    linked: Mapping[str, str],
    customer_links: Mapping[str, str],
    resting: Collection[str] = (),
    decisions: Decisions = NO_DECISIONS,
) -> EntityPlan:
    """The plan for one entity given what is linked and decided now (``resting``: survivors
    of deletes nobody changed since)."""
    return plan_entity(
        entity,
        extracts.tripletex[entity],
        extracts.svenn[entity],
        linked=linked,
        customer_links=customer_links,
        excluded=excluded.get(entity, ()),
        unreadable=extracts.stand_ins(entity),
        resting=resting,
        decisions=decisions,
    )


@task(name="plan-initial-sync", cache_policy=NO_CACHE)
def preview_plan(
    store: StateStore,
    tenant: str,
    extracts: Extracts,
    excluded: Mapping[Entity, Sequence[PlannedFailure]],
) -> SyncPlan:
    """The whole plan as a dry run, including what each target would refuse
    (:func:`sync.initial_plan.plan_initial_sync` over what is linked now)."""
    return plan_initial_sync(
        extracts.tripletex,
        extracts.svenn,
        linked={entity: stored_links(store, tenant, entity) for entity in SYNC_ORDER},
        excluded=excluded,
        unreadable={entity: extracts.stand_ins(entity) for entity in SYNC_ORDER},
        fallback_manager=extracts.tripletex_employee_id,
        project_managers=frozenset(extracts.tripletex_project_managers),
        decisions=all_decisions(store, tenant),
    )
