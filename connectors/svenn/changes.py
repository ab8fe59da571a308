"""Svenn's change feed as data: events carry ids and versions, never the records themselves.

The feed is at-least-once: re-reading from a committed cursor returns the same events again,
so whoever applies them must be idempotent. Store ``ChangePage.next_cursor`` only after the
page's events are applied (or logged as failures).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sync.records import Entity

ChangeOperation = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class ChangeEvent:
    """One change to one record: fetch the record by ``id`` to see what it is now."""

    sequence: int
    entity: Entity
    id: str
    operation: ChangeOperation
    version: int
    occurred_at: dt.datetime


@dataclass(frozen=True)
class ChangePage:
    """One read of the feed; ``next_cursor`` continues after its last event."""

    events: list[ChangeEvent]
    next_cursor: str
    has_more: bool

    def ids_by_entity(self) -> dict[Entity, list[str]]:
        """Distinct record ids per entity, in feed order (what to fetch with ``ids=``)."""
        found: dict[Entity, dict[str, None]] = {}
        for event in self.events:
            found.setdefault(event.entity, {})[event.id] = None
        return {entity: list(ids) for entity, ids in found.items()}


def change_event_from_svenn(data: Mapping[str, Any]) -> ChangeEvent:
    """A feed event from its JSON."""
    return ChangeEvent(
        sequence=int(data["sequence"]),
        entity=Entity(data["entity"]),
        id=str(data["id"]),
        operation=data["operation"],
        version=int(data["version"]),
        occurred_at=dt.datetime.fromisoformat(str(data["occurredAt"]).replace("Z", "+00:00")),
    )


def change_page_from_svenn(data: Mapping[str, Any]) -> ChangePage:
    """A page of the feed from its JSON."""
    return ChangePage(
        events=[change_event_from_svenn(e) for e in data["events"]],
        next_cursor=str(data["nextCursor"]),
        has_more=bool(data["hasMore"]),
    )
