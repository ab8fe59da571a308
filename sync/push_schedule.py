"""When the realtime run ticks a tenant, and what it reads (pure): push and poll together.

The run wakes every few hundred milliseconds. A *regular* tick (every poll interval) ticks every
active tenant and reads Svenn's feed; a tenant whose webhook subscriptions are healthy has its
Tripletex checksum poll only every fallback interval (the webhooks tell us sooner). Between
regular ticks, a tenant with recorded webhook events is *woken*: ticked at once, reading only
the records the events name (one ``id=`` read per entity). A tenant whose tick failed is not
woken again before the next regular tick (a broken key is not retried every few hundred ms).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sync.records import Entity


@dataclass(frozen=True)
class TickPlan:
    """What one tenant's tick reads: the Tripletex checksum poll or not, and the ids that
    webhook events named (by entity)."""

    poll_tripletex: bool
    pushed: Mapping[Entity, frozenset[str]]


def tripletex_poll_due(
    *,
    healthy_push: bool,
    last_polled: float | None,
    now: float,
    fallback_seconds: float,
) -> bool:
    """Whether this tick polls the tenant's Tripletex checksums: always without healthy
    webhooks, otherwise once every ``fallback_seconds`` (and on the run's first tick)."""
    if not healthy_push or last_polled is None:
        return True
    return now - last_polled >= fallback_seconds


def tenants_to_wake(
    woken: Iterable[str], active: Iterable[str], failed_since_regular: Iterable[str]
) -> list[str]:
    """The tenants a wake-up ticks: those with waiting events that are active here and whose
    tick has not failed since the last regular tick."""
    skip = set(failed_since_regular)
    serving = set(active)
    return sorted(t for t in set(woken) if t in serving and t not in skip)


def pushed_ids(events: Iterable[tuple[str, str]]) -> dict[Entity, frozenset[str]]:
    """``(entity, id)`` of a tenant's waiting events → the ids to read, per entity (a record
    named by many events is read once)."""
    found: dict[Entity, set[str]] = {}
    for entity, record_id in events:
        found.setdefault(Entity(entity), set()).add(record_id)
    return {entity: frozenset(ids) for entity, ids in found.items()}


def plan_ticks(
    tenants: Iterable[str],
    *,
    healthy: Iterable[str],
    last_polled: Mapping[str, float],
    events: Mapping[str, Iterable[tuple[str, str]]],
    now: float,
    fallback_seconds: float,
    regular: bool,
) -> dict[str, TickPlan]:
    """Each tenant's :class:`TickPlan`. A wake-up between regular ticks never polls (the
    regular tick does it when it is due)."""
    pushed_ok = set(healthy)
    return {
        tenant: TickPlan(
            regular
            and tripletex_poll_due(
                healthy_push=tenant in pushed_ok,
                last_polled=last_polled.get(tenant),
                now=now,
                fallback_seconds=fallback_seconds,
            ),
            pushed_ids(events.get(tenant, ())),
        )
        for tenant in tenants
    }
