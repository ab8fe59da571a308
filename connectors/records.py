"""Mapping a page of vendor JSON to canonical records, one record at a time.

A record that cannot be read does not stop the others: it is set aside as a
:class:`~sync.malformed.MalformedRecord` in :attr:`RecordList.malformed`, and a warning says how
many (never their values). Callers that log failed records turn each one into a failed record
with :func:`sync.malformed.malformed_failure`; callers that only need the records use the list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from decimal import InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError

from sync.malformed import MalformedFieldError, MalformedRecord, Problem, shown_value
from sync.records import Entity, System

T = TypeVar("T")
logger = logging.getLogger(__name__)
ID_MAX = 64  # the store keeps ids of up to 64 characters

# pydantic error types → what is wrong, for a canonical model that refused a mapped value.
_PYDANTIC_PROBLEMS = {
    "missing": Problem.MISSING,
    "string_type": Problem.NOT_TEXT,
    "int_type": Problem.NOT_INTEGER,
    "int_parsing": Problem.NOT_INTEGER,
    "decimal_type": Problem.NOT_NUMBER,
    "decimal_parsing": Problem.NOT_NUMBER,
    "bool_type": Problem.NOT_BOOLEAN,
    "date_type": Problem.NOT_DATE,
    "date_parsing": Problem.NOT_DATE,
    "model_type": Problem.NOT_OBJECT,
    "dict_type": Problem.NOT_OBJECT,
}
# What a mapper may raise on bad input besides MalformedFieldError.
_MAPPING_ERRORS = (
    MalformedFieldError,
    ValidationError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    ArithmeticError,
    InvalidOperation,
)


class RecordList(list[T]):
    """Records read from a system; ``malformed`` holds the ones that could not be read."""

    malformed: list[MalformedRecord]

    def __init__(self, records: Iterable[T] = (), malformed: Iterable[MalformedRecord] = ()):
        super().__init__(records)
        self.malformed = list(malformed)

    def __reduce__(self) -> Any:  # keep ``malformed`` when pickled (Prefect results)
        return (RecordList, (list(self), self.malformed))


class MalformedRecordError(ValueError):
    """One record asked for by id could not be read; ``malformed`` says why."""

    def __init__(self, malformed: MalformedRecord) -> None:
        super().__init__(
            f"{malformed.system.value} {malformed.entity.value} {malformed.record_id}: field "
            f"{malformed.field!r} cannot be read ({malformed.problem.value})"
        )
        self.malformed = malformed


def malformed_record(
    system: System,
    entity: Entity,
    row: Any,
    error: Exception,
    *,
    field_names: Mapping[str, str] | None = None,
    redact: Callable[[str], str] | None = None,
) -> MalformedRecord:
    """Describe why ``row`` could not be mapped (``field_names``: canonical → vendor name)."""
    record_id = _record_id(row.get("id") if isinstance(row, Mapping) else None)
    if isinstance(error, MalformedFieldError):
        field, value, problem = error.field, error.value, error.problem
    elif isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        canonical = str(first["loc"][0]) if first["loc"] else "(record)"
        field = (field_names or {}).get(canonical, canonical)
        value = row.get(field) if isinstance(row, Mapping) else row
        problem = _PYDANTIC_PROBLEMS.get(first["type"], Problem.NOT_ALLOWED)
    else:
        field, value, problem = "(record)", row, Problem.UNREADABLE
    if redact is not None and record_id is not None:
        record_id = redact(record_id)
    return MalformedRecord(system, entity, record_id, field, shown_value(value, redact), problem)


def _record_id(value: Any) -> str | None:
    """The id to key a failed record on: a number or text as received, else none."""
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        return None
    return shown_value(value).strip('"')[:ID_MAX] if isinstance(value, str) else str(value)


def read_records(
    system: System,
    entity: Entity,
    rows: Iterable[Any],
    mapper: Callable[[Any], T],
    *,
    field_names: Mapping[str, str] | None = None,
    redact: Callable[[str], str] | None = None,
) -> RecordList[T]:
    """Map every row on its own; rows that cannot be mapped go to ``.malformed``."""
    records: RecordList[T] = RecordList()
    for row in rows:
        try:
            records.append(mapper(row))
        except _MAPPING_ERRORS as error:
            records.malformed.append(
                malformed_record(system, entity, row, error, field_names=field_names, redact=redact)
            )
    if records.malformed:
        logger.warning(
            "%s: %d %s record(s) could not be read and were set aside: ids %s",
            system.value,
            len(records.malformed),
            entity.value,
            ", ".join(str(m.record_id) for m in records.malformed[:20]),
        )
    return records


def single(found: RecordList[T]) -> T:
    """The one record ``found`` holds; raises :class:`MalformedRecordError` when it could not
    be read."""
    if found.malformed:
        raise MalformedRecordError(found.malformed[0])
    return found[0]
