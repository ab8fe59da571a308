"""Mapping a page of vendor JSON to canonical records, one record at a time.

A record that cannot be read does not stop the others: it is set aside as a
:class:`~sync.malformed.MalformedRecord` in :attr:`RecordList.malformed`, and a warning says how
many (never their values). Callers that log failed records turn each one into a failed record
with :func:`sync.malformed.malformed_failure`; callers that only need the records use the list.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError

from sync.malformed import MalformedFieldError, MalformedRecord, Problem, shown_value
from sync.records import Entity, System

T = TypeVar("T")
K = TypeVar("K")
logger = logging.getLogger(__name__)
ID_MAX = 64  # the store keeps ids of up to 64 characters
_PLACEHOLDERS = itertools.count(1)  # stand-in ids for unreadable ids, unique in this process
STAND_IN_ATTEMPTS = 4  # bad fields left out before a malformed record is taken as unreadable

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

    def of(self, kind: type[K]) -> RecordList[K]:
        """The same list typed as ``kind`` records (a generic read of one entity, e.g.
        ``list(Entity.CUSTOMER).of(Customer)``); raises TypeError for a record of another kind."""
        strangers = [type(r).__name__ for r in self if not isinstance(r, kind)]
        if strangers:
            raise TypeError(f"expected {kind.__name__} records, got {', '.join(strangers)}")
        return RecordList([r for r in self if isinstance(r, kind)], self.malformed)


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
    field, value, problem = _what_failed(row, error, field_names)
    if redact is not None and record_id is not None:
        record_id = redact(record_id)
    label = None
    if record_id is None:  # one failed record per record all the same, named by what it has
        label, record_id = _without_id(row, redact)
    shown = shown_value(value, redact)
    return MalformedRecord(system, entity, record_id, field, shown, problem, label=label)


# Fields that name a record to a person when its id cannot be read (both systems' spellings).
NAMING_FIELDS = ("name", "firstName", "lastName", "number", "customerNumber", "employeeNumber")


def _without_id(row: Any, redact: Callable[[str], str] | None) -> tuple[str, str]:
    """(how messages name a record without a readable id, a stable key for its failed row):
    its name and numbers, and a digest of what was received, the same on every read."""
    received = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
    key = f"no-id-{hashlib.sha256(received.encode()).hexdigest()[:12]}"
    named = row if isinstance(row, Mapping) else {}
    parts = [
        f"{name} {shown_value(named[name], redact)}"
        for name in NAMING_FIELDS
        if isinstance(named.get(name), str | int) and named.get(name) != ""
    ]
    return f"without id ({', '.join(parts) or 'nothing that names it'}; key {key})", key


def _what_failed(
    row: Any, error: Exception, field_names: Mapping[str, str] | None
) -> tuple[str, Any, Problem]:
    """(field as the vendor names it, value as received, problem) of a failed mapping."""
    if isinstance(error, MalformedFieldError):
        return error.field, error.value, error.problem
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        canonical = str(first["loc"][0]) if first["loc"] else "(record)"
        field = (field_names or {}).get(canonical, canonical)
        value = row.get(field) if isinstance(row, Mapping) else row
        return field, value, _PYDANTIC_PROBLEMS.get(first["type"], Problem.NOT_ALLOWED)
    return "(record)", row, Problem.UNREADABLE


def stand_in(
    system: System,
    row: Any,
    error: Exception,
    mapper: Callable[[Any], T],
    *,
    placeholder: int,
    field_names: Mapping[str, str] | None = None,
) -> T | None:
    """What can be read of a row that failed to map: the bad fields left out (a required one
    given as empty text), a bad id replaced by a placeholder no real record has.

    It never syncs: it only takes part in matching, so that the record's counterpart is held
    back instead of being linked to another record or created a second time.
    """
    if not isinstance(row, Mapping):
        return None
    candidate = dict(row)
    fake_id = -placeholder if system is System.TRIPLETEX else f"?{placeholder}"
    for _attempt in range(STAND_IN_ATTEMPTS):
        name = re.split(r"[.\[]", _what_failed(candidate, error, field_names)[0])[0]
        if name == "id" and candidate.get("id") != fake_id:
            candidate["id"] = fake_id
        elif name != "id" and name in candidate and candidate[name] != "":
            del candidate[name]  # leave the bad value out
        elif name != "id" and name not in candidate:
            candidate[name] = ""  # a required field: empty text, if that reads
        else:
            return None
        try:
            return mapper(candidate)
        except _MAPPING_ERRORS as again:
            error = again
    return None


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
            bad = malformed_record(
                system, entity, row, error, field_names=field_names, redact=redact
            )
            standing = stand_in(
                system,
                row,
                error,
                mapper,
                placeholder=next(_PLACEHOLDERS),
                field_names=field_names,
            )
            records.malformed.append(dataclasses.replace(bad, stand_in=standing))
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
