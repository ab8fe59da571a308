"""The whole initial-sync plan over every entity, as the preview shows it and the run applies it.

Pure: both sides' records, what is already linked and what sits out go in; the plan comes out.
Entities are planned in sync order; records a run would create stand in for their future ids
("new:<id>"), so projects see the customers and managers that steps 1 and 2 would create before
them, and each target's own refusals (:mod:`sync.target_rules`) are part of the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sync.decisions import NO_DECISIONS, Decisions
from sync.merge import agreed
from sync.plan import PlannedFailure, PlannedLink, SyncPlan, plan_entity
from sync.records import SYNC_ORDER, Direction, Entity, Record
from sync.target_rules import TargetFacts, prepare_creates


def plan_initial_sync(
    tripletex: Mapping[Entity, Sequence[Record]],
    svenn: Mapping[Entity, Sequence[Record]],
    *,
    linked: Mapping[Entity, Mapping[str, str]],
    excluded: Mapping[Entity, Sequence[PlannedFailure]] | None = None,
    unreadable: Mapping[Entity, Mapping[str, Sequence[Record]]] | None = None,
    fallback_manager: str | None = None,
    project_managers: frozenset[str] | None = None,
    decisions: Mapping[Entity, Decisions] | None = None,
) -> SyncPlan:
    """Plan every entity; ``linked`` maps Tripletex id → Svenn id per entity (earlier runs),
    ``unreadable`` the stand-ins of malformed records per entity and side (see
    :func:`sync.plan.plan_entity`), ``fallback_manager``/``project_managers`` the Tripletex
    facts for project creates, ``decisions`` what people decided per entity."""
    plan = SyncPlan()
    customer_links: dict[str, str] = {}
    to_svenn: dict[Entity, dict[str, str]] = {Entity.CUSTOMER: {}, Entity.EMPLOYEE: {}}
    to_tripletex: dict[Entity, dict[str, str]] = {Entity.CUSTOMER: {}, Entity.EMPLOYEE: {}}
    for entity in SYNC_ORDER:
        before = linked.get(entity, {})
        entity_plan = plan_entity(
            entity,
            tripletex.get(entity, ()),
            svenn.get(entity, ()),
            linked=before,
            customer_links=customer_links,
            excluded=(excluded or {}).get(entity, ()),
            unreadable=(unreadable or {}).get(entity),
            decisions=(decisions or {}).get(entity, NO_DECISIONS),
        )
        entity_plan.to_align = differing(
            entity, entity_plan.links, tripletex.get(entity, ()), svenn.get(entity, ())
        )
        pairs = dict(before) | {link.tripletex_id: link.svenn_id for link in entity_plan.links}
        if entity is Entity.CUSTOMER:
            customer_links = pairs
        step_one, refused_one = prepare_creates(
            entity_plan.create_in_svenn,
            Direction.TRIPLETEX_TO_SVENN,
            TargetFacts(
                existing=svenn.get(entity, ()),
                customers=to_svenn[Entity.CUSTOMER],
                employees=to_svenn[Entity.EMPLOYEE],
            ),
        )
        step_two, refused_two = prepare_creates(
            entity_plan.create_in_tripletex,
            Direction.SVENN_TO_TRIPLETEX,
            TargetFacts(
                existing=tripletex.get(entity, ()),
                customers=to_tripletex[Entity.CUSTOMER],
                employees=to_tripletex[Entity.EMPLOYEE],
                fallback_manager=fallback_manager,
                project_managers=project_managers,
            ),
        )
        entity_plan.create_in_svenn = [source for source, _ in step_one]
        entity_plan.create_in_tripletex = [source for source, _ in step_two]
        entity_plan.failures += refused_one + refused_two
        if entity in to_svenn:
            to_svenn[entity] = pairs | {str(s.id): f"new:{s.id}" for s, _ in step_one}
            to_tripletex[entity] = {
                svenn_id: tripletex_id for tripletex_id, svenn_id in pairs.items()
            } | {str(s.id): f"new:{s.id}" for s, _ in step_two}
        plan.entities[entity] = entity_plan
    return plan


def differing(
    entity: Entity,
    links: Sequence[PlannedLink],
    tripletex: Sequence[Record],
    svenn: Sequence[Record],
) -> int:
    """How many planned links join two records that differ in a synced field: the run aligns
    them after linking (a field one side lacks is copied, a difference keeps the precedence
    winner's value and logs the other as a ``FIELD_CONFLICT`` row)."""
    tripletex_by_id = {str(r.id): r for r in tripletex}
    svenn_by_id = {str(r.id): r for r in svenn}
    return sum(
        not agreed(
            entity,
            svenn_by_id[link.svenn_id].synced_fields(),
            tripletex_by_id[link.tripletex_id].synced_fields(),
        )
        for link in links
        if link.svenn_id in svenn_by_id and link.tripletex_id in tripletex_by_id
    )
