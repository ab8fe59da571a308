"""Which event subscriptions a tenant needs, and what to change to get there (pure).

A tenant needs one subscription per event of :data:`sync.webhook_events.PUSHED_EVENTS`, all
pointing at its receiver URL, ``ACTIVE``, with the fields we sync. Ours are recognised by their
target URL's path (``/webhooks/tripletex/<tenant>``), so subscriptions the company made for
other purposes are never touched. Planning again after the plan was carried out plans nothing:
a rerun never makes a second subscription for the same event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sync.webhook_events import PUSHED_EVENTS

ACTIVE = "ACTIVE"
RECEIVER_PATH = "/webhooks/tripletex/"


def receiver_url(base_url: str, tenant: str) -> str:
    """Where Tripletex delivers a tenant's events."""
    return f"{base_url.rstrip('/')}{RECEIVER_PATH}{tenant}"


def is_ours(target_url: str, tenant: str) -> bool:
    """Whether a subscription delivers to this tenant's receiver (at any base URL)."""
    return target_url.endswith(f"{RECEIVER_PATH}{tenant}")


@dataclass(frozen=True)
class Seen:
    """A subscription as listed: its id, event, target, status and fields."""

    id: int
    event: str
    target_url: str
    status: str
    fields: str | None


@dataclass(frozen=True)
class SubscriptionPlan:
    """What to create and delete; ``disabled`` and ``gone`` name the events whose subscription
    was found disabled (with its status) or missing, so they are re-created and reported."""

    create: tuple[str, ...]
    delete: tuple[int, ...]
    disabled: tuple[tuple[str, str], ...] = ()
    gone: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        """Whether every event was subscribed, active and as wanted: nothing to change."""
        return not self.create and not self.delete


def plan_subscriptions(
    tenant: str, target_url: str, fields_of: Mapping[str, str], seen: Iterable[Seen]
) -> SubscriptionPlan:
    """The changes that leave exactly one active subscription per pushed event at
    ``target_url`` with ``fields_of[entity]``; every other one of ours is deleted."""
    ours = [s for s in seen if is_ours(s.target_url, tenant)]
    keep: dict[str, Seen] = {}
    delete: list[int] = []
    disabled: list[tuple[str, str]] = []
    for sub in sorted(ours, key=lambda s: s.id):
        entity = sub.event.split(".", 1)[0]
        wanted = (
            sub.event in PUSHED_EVENTS
            and sub.target_url == target_url
            and sub.fields == fields_of.get(entity)
        )
        if wanted and sub.status == ACTIVE and sub.event not in keep:
            keep[sub.event] = sub
            continue
        delete.append(sub.id)
        if wanted and sub.status != ACTIVE:
            disabled.append((sub.event, sub.status))
    create = tuple(e for e in PUSHED_EVENTS if e not in keep)
    found = {s.event for s in ours}
    gone = tuple(e for e in create if e not in found)
    return SubscriptionPlan(create, tuple(delete), tuple(disabled), gone)


def plan_unsubscribe(tenant: str, seen: Iterable[Seen]) -> tuple[int, ...]:
    """Every subscription of ours (the integration is turned off)."""
    return tuple(sorted(s.id for s in seen if is_ours(s.target_url, tenant)))
