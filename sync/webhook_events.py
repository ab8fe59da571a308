"""What a Tripletex webhook delivery tells us (pure): which record of which entity changed.

A delivery's body is ``{"subscriptionId", "event", "id", "value"}`` (FACTS.md §5). Only the
event name and the id are kept; ``value`` is never trusted (deliveries may skip versions, and
``value`` is null on delete): the tick re-reads the record by its id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sync.entities import SPECS
from sync.records import Entity

# The entities Tripletex sends events for that we sync (their spec says so; no timesheet
# events exist).
PUSHED_ENTITIES = tuple(entity for entity, spec in SPECS.items() if spec.endpoints.pushed)
MAX_IDEMPOTENCY_KEY = 100


class EventKind(StrEnum):
    """The verbs each entity has an event for; each is a separate subscription."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


# Every event we subscribe to, e.g. "customer.update".
PUSHED_EVENTS = tuple(f"{e.value}.{k.value}" for e in PUSHED_ENTITIES for k in EventKind)
_EVENT_NAMES = (
    ", ".join(e.value for e in PUSHED_ENTITIES[:-1])
    + f" or {PUSHED_ENTITIES[-1].value} × "
    + ", ".join(k.value for k in EventKind)
)


@dataclass(frozen=True)
class ChangeEvent:
    """One delivery, reduced to what the tick needs: the record to read again."""

    entity: Entity
    record_id: str
    kind: EventKind


class NotADelivery(ValueError):
    """The body is not a delivery we take; the message says why in one sentence."""


def parse_delivery(raw: bytes) -> ChangeEvent:
    """The :class:`ChangeEvent` in a delivery body, or :class:`NotADelivery` (one sentence,
    never echoing a value)."""
    try:
        body: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NotADelivery("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise NotADelivery("Send a JSON object with event and id.")
    event, record_id = body.get("event"), body.get("id")
    if not isinstance(event, str) or event not in PUSHED_EVENTS:
        raise NotADelivery(f"The event is not one of {_EVENT_NAMES}.")
    if isinstance(record_id, bool) or not isinstance(record_id, int) or record_id <= 0:
        raise NotADelivery("The id is not a positive whole number.")
    entity, _, kind = event.partition(".")
    return ChangeEvent(Entity(entity), str(record_id), EventKind(kind))


def usable_idempotency_key(value: str | None) -> bool:
    """Whether a delivery's ``idempotency-key`` header can name it in the store."""
    return value is not None and 0 < len(value) <= MAX_IDEMPOTENCY_KEY and value.isprintable()
