"""Records a system sent that cannot be read: which record, which field, what came, what is wrong.

A connector maps each record on its own; one that fails to map becomes a
:class:`MalformedRecord` instead of stopping the read, and whoever reads turns it into a failed
record (:func:`malformed_failure`, reason ``MALFORMED_RECORD``). The value is kept as received,
shown as JSON, cut short, with secret-looking keys and the connector's own secrets removed.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any

from sync.entities import LABELS_NO
from sync.plan import PlannedFailure
from sync.records import Direction, Entity, System
from sync.redaction import redact as redact_keys
from sync.rules import ReasonCode, message

SHOWN_VALUE_MAX = 80


class Problem(StrEnum):
    """What is wrong with a field's value."""

    MISSING = "missing"
    NOT_TEXT = "not_text"
    NOT_INTEGER = "not_integer"
    NOT_NUMBER = "not_number"
    NOT_DATE = "not_date"
    NOT_DATETIME = "not_datetime"
    NOT_BOOLEAN = "not_boolean"
    NOT_OBJECT = "not_object"
    NOT_LIST = "not_list"
    NOT_ALLOWED = "not_allowed"
    UNREADABLE = "unreadable"


# (English, Norwegian bokmål), used inside the MALFORMED_RECORD message.
PROBLEM_TEXT: dict[Problem, tuple[str, str]] = {
    Problem.MISSING: ("it is required but missing", "feltet er påkrevd, men mangler"),
    Problem.NOT_TEXT: ("expected text", "forventet tekst"),
    Problem.NOT_INTEGER: ("expected a whole number", "forventet et heltall"),
    Problem.NOT_NUMBER: ("expected a number", "forventet et tall"),
    Problem.NOT_DATE: ("expected a date like 2024-12-31", "forventet en dato som 2024-12-31"),
    Problem.NOT_DATETIME: ("expected a date and time", "forventet dato og klokkeslett"),
    Problem.NOT_BOOLEAN: ("expected true or false", "forventet true eller false"),
    Problem.NOT_OBJECT: ("expected an object", "forventet et objekt"),
    Problem.NOT_LIST: ("expected a list", "forventet en liste"),
    Problem.NOT_ALLOWED: ("the value is not allowed here", "verdien er ikke tillatt her"),
    Problem.UNREADABLE: ("the value cannot be read", "verdien kan ikke leses"),
}
ENTITY_NO: dict[Entity, str] = LABELS_NO  # the entity as the tenant's log names it


class MalformedFieldError(ValueError):
    """Raised by a mapper: field ``field`` holds ``value``, which is not what it must be."""

    def __init__(self, field: str, value: Any, problem: Problem) -> None:
        super().__init__(f"field {field!r}: {PROBLEM_TEXT[problem][0]}")
        self.field, self.value, self.problem = field, value, problem


@dataclass(frozen=True)
class MalformedRecord:
    """One record a system sent that could not be read into a canonical record."""

    system: System
    entity: Entity
    record_id: str | None  # the id as received (it may itself be the malformed field)
    field: str  # the field as the sending system names it, e.g. "dateOfBirth"
    value: str  # the value as received, as JSON, shortened and redacted
    problem: Problem
    # What could be read of it (the bad field left out, a stand-in id if the id was bad): it
    # takes part in matching only, so that its counterpart is held back instead of being
    # linked to something else or created a second time. ``None`` when nothing could be read.
    stand_in: Any = dataclass_field(default=None, compare=False, repr=False)
    # How the messages name a record whose id could not be read (its name, number, ...).
    label: str | None = None

    @property
    def direction(self) -> Direction:
        """The direction the record would have travelled."""
        if self.system is System.TRIPLETEX:
            return Direction.TRIPLETEX_TO_SVENN
        return Direction.SVENN_TO_TRIPLETEX


def shown_value(value: Any, redact: Callable[[str], str] | None = None) -> str:
    """``value`` as JSON for a message: secrets removed, at most :data:`SHOWN_VALUE_MAX` chars.

    Control characters are escaped, so the message never carries them raw.
    """
    text = json.dumps(redact_keys(value), ensure_ascii=False, default=str)
    text = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) == "Cc" else c for c in text)
    if redact is not None:
        text = redact(text)
    if len(text) > SHOWN_VALUE_MAX:
        text = text[: SHOWN_VALUE_MAX - 1] + "…"
    return text


def malformed_context(
    record: MalformedRecord, entity: tuple[str, str] | None = None
) -> dict[str, str]:
    """The ``MALFORMED_RECORD`` message's placeholders but ``system`` (``entity``: English and
    Norwegian name of what was read, when it is not the record's entity)."""
    problem_en, problem_no = PROBLEM_TEXT[record.problem]
    entity_en, entity_no = entity or (record.entity.value, ENTITY_NO[record.entity])
    return {
        "entity": entity_en,
        "entity_no": entity_no,
        "record_id": record.label or record.record_id or "without id",
        "field": record.field,
        "value": record.value,
        "problem": problem_en,
        "problem_no": problem_no,
    }


def malformed_failure(record: MalformedRecord) -> PlannedFailure:
    """The failed record a malformed record becomes (reason ``MALFORMED_RECORD``)."""
    system = "Tripletex" if record.system is System.TRIPLETEX else "Svenn"
    en, no = message(ReasonCode.MALFORMED_RECORD, system=system, **malformed_context(record))
    from_svenn = record.system is System.SVENN
    return PlannedFailure(
        entity=record.entity,
        direction=record.direction,
        reason_code=ReasonCode.MALFORMED_RECORD.value,
        message_en=en,
        message_no=no,
        svenn_id=record.record_id if from_svenn else None,
        tripletex_id=None if from_svenn else record.record_id,
        details={"field": record.field, "value": record.value, "problem": record.problem.value},
    )
