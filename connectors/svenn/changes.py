"""Svenn's change feed as data: events carry ids and versions, never the records themselves.

The feed is at-least-once: re-reading from a committed cursor returns the same events again,
so whoever applies them must be idempotent. Store ``ChangePage.next_cursor`` only after the
page's events are applied (or logged as failures).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

from connectors.fields import Fields
from connectors.records import malformed_record
from sync.malformed import MalformedFieldError, MalformedRecord, Problem
from sync.records import Entity, System

ChangeOperation = Literal["create", "update", "delete"]
OPERATIONS = ("create", "update", "delete")
ENTITY_NAMES = tuple(e.value for e in Entity)
T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChangeEvent:
    """One change to one record: fetch the record by ``id`` to see what it is now.

    Only ``entity`` and ``id`` are needed to sync; the rest is ``None`` when it cannot be read.
    """

    sequence: int | None
    entity: Entity
    id: str
    operation: ChangeOperation
    version: int | None
    occurred_at: dt.datetime | None


@dataclass(frozen=True)
class ChangePage:
    """One read of the feed; ``next_cursor`` continues after its last event."""

    events: list[ChangeEvent]
    next_cursor: str
    has_more: bool
    # Events whose entity is known but whose record id cannot be read (each a failed record).
    malformed: list[MalformedRecord] = field(default_factory=list)

    def ids_by_entity(self) -> dict[Entity, list[str]]:
        """Distinct record ids per entity, in feed order (what to fetch with ``ids=``)."""
        found: dict[Entity, dict[str, None]] = {}
        for event in self.events:
            found.setdefault(event.entity, {})[event.id] = None
        return {entity: list(ids) for entity, ids in found.items()}


def _or_none(read: Callable[[str], T], key: str) -> T | None:
    try:
        return read(key)
    except MalformedFieldError:
        return None


def change_event_from_svenn(data: Any) -> ChangeEvent:
    """A feed event from its JSON; raises :class:`MalformedFieldError` when its entity or its
    record id cannot be read."""
    fields = Fields(data)
    entity = fields.choice("entity", ENTITY_NAMES, "")
    if not entity:
        raise MalformedFieldError("entity", None, Problem.MISSING)
    record_id = fields.text("id", required=True)
    if not record_id:
        raise MalformedFieldError("id", record_id, Problem.MISSING)
    operation = _or_none(lambda key: fields.choice(key, OPERATIONS, "update"), "operation")
    return ChangeEvent(
        sequence=_or_none(fields.integer, "sequence"),
        entity=Entity(entity),
        id=record_id,
        operation=cast(ChangeOperation, operation or "update"),
        version=_or_none(fields.integer, "version"),
        occurred_at=_or_none(fields.datetime, "occurredAt"),
    )


def change_page_from_svenn(data: Mapping[str, Any]) -> ChangePage:
    """A page of the feed from its JSON; an event that cannot be read does not stop the page."""
    events: list[ChangeEvent] = []
    malformed: list[MalformedRecord] = []
    for row in data["events"]:
        try:
            events.append(change_event_from_svenn(row))
        except MalformedFieldError as error:
            entity = row.get("entity") if isinstance(row, Mapping) else None
            if entity in ENTITY_NAMES:
                malformed.append(malformed_record(System.SVENN, Entity(entity), row, error))
            else:  # no record to name: say so, and go on
                logger.warning("Svenn change feed: an event of no known entity was skipped")
    return ChangePage(
        events=events,
        next_cursor=str(data["nextCursor"]),
        has_more=bool(data["hasMore"]),
        malformed=malformed,
    )
