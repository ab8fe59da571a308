"""Svenn JSON ↔ canonical records: pure functions, no I/O.

Svenn speaks camelCase with explicit nulls (see ``openapi.json`` beside this module). Reading
keeps every field we sync; writing produces a ``*Create`` body (or a ``*Patch`` body limited to
some fields). What Svenn cannot hold is reported, not guessed: a non-numeric customer number
raises :class:`UnmappableRecordError` before anything is sent. Svenn has no internal projects,
so ``Project.is_internal`` is always ``False`` when read and is never written.

Which fields are read and written, under which Svenn names, comes from the entity specs
(:mod:`sync.entities`): :func:`record_from_svenn` and :func:`record_to_svenn` walk the rows,
reading and writing each by its kind or by the named converter the row points at
(:data:`CONVERTERS`). The per-entity functions are thin names kept for their callers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from connectors.errors import FieldError, ValidationFailedError
from connectors.fields import Fields
from sync.entities import SPECS, Customer, Employee, EntitySpec, FieldSpec, HourEntry, Kind, Project
from sync.malformed import MalformedFieldError, Problem
from sync.records import Activity, Address, Entity, Record, address_of

Json = dict[str, Any]
_R = TypeVar("_R", bound=Record)


def field_names(spec: EntitySpec) -> dict[str, str]:
    """Canonical field name → Svenn field name, for the fields Svenn can write."""
    return {
        row.name: row.svenn
        for row in spec.fields
        if row.svenn is not None and not row.svenn_read_only
    }


CUSTOMER_FIELDS = field_names(SPECS[Entity.CUSTOMER])
EMPLOYEE_FIELDS = field_names(SPECS[Entity.EMPLOYEE])
PROJECT_FIELDS = field_names(SPECS[Entity.PROJECT])
WRITABLE_HOUR_STATUSES = frozenset({"draft", "submitted"})
HOUR_STATUSES = frozenset({"draft", "submitted", "approved", "rejected"})
PROJECT_STATUSES = frozenset({"active", "closed"})


class UnmappableRecordError(ValidationFailedError):
    """A canonical record holds a value Svenn cannot store; nothing was sent."""


# --- reading -------------------------------------------------------------------------------


def _address(fields: Fields | None) -> Address | None:
    if fields is None:
        return None
    return address_of(
        fields.text("addressLine1"),
        fields.text("addressLine2"),
        fields.text("postalCode"),
        fields.text("city"),
        fields.text("countryCode"),
    )


def _record_id(fields: Fields) -> str:
    value = fields.text("id", required=True)
    if not value:
        raise MalformedFieldError("id", value, Problem.MISSING)
    return value


def _customer_number(fields: Fields) -> int | str | None:
    """Svenn allows numbers and free text here (text is reported by the sync rules)."""
    value = fields.row.get("customerNumber")
    if value is None or isinstance(value, str):
        return value
    return fields.integer("customerNumber")


def address_from_svenn(data: Mapping[str, Any] | None) -> Address | None:
    """A Svenn address; ``None`` when absent or when every part is empty."""
    return _address(Fields(data, "postalAddress") if data else None)


def activity_from_svenn(data: Mapping[str, Any]) -> Activity:
    """A Svenn activity as a canonical :class:`Activity` (its ``code`` is the number)."""
    f = Fields(data)
    return Activity(id=_record_id(f), name=f.text("name") or "", number=f.text("code"))


def external_ref_of(data: Mapping[str, Any]) -> str | None:
    """The client key (``externalRef``) a Svenn record carries, if any."""
    value = data.get("externalRef")
    return str(value) if value is not None else None


# --- writing -------------------------------------------------------------------------------


def address_to_svenn(address: Address | None) -> Json | None:
    """A canonical address as Svenn JSON (``None`` stays null)."""
    if address is None:
        return None
    return {
        "addressLine1": address.address_line1,
        "addressLine2": address.address_line2,
        "postalCode": address.postal_code,
        "city": address.city,
        "countryCode": address.country_code,
    }


FIELD_NAMES: dict[Entity, dict[str, str]] = {
    entity: field_names(spec) for entity, spec in SPECS.items()
}
"""Per entity, canonical field name → Svenn field name (the fields Svenn can write)."""


def record_to_svenn_patch(record: Record, fields: Collection[str] | None = None) -> Json:
    """A ``*Patch`` body: every writable field, or only the canonical ``fields`` named."""
    names = FIELD_NAMES[record.entity]
    unknown = set(fields or ()) - names.keys()
    if unknown:
        raise ValueError(f"not writable in Svenn: {sorted(unknown)}")
    body = record_to_svenn(record)
    body.pop("externalRef", None)
    if fields is not None:
        wanted = {names[f] for f in fields}
        body = {k: v for k, v in body.items() if k in wanted}
    return body


def _with_ref(body: Json, external_ref: str | None) -> Json:
    if external_ref is not None:
        body["externalRef"] = external_ref
    return body


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _hours(value: Decimal | float | int | str) -> Decimal:
    """Hours as a plain decimal: ``7.0`` and ``7`` both give ``Decimal("7")``, no exponent."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def _number(value: Decimal) -> int | float:
    """JSON number for hours: integral values as int, others as float."""
    return int(value) if value == value.to_integral_value() else float(value)


# --- the fields, by kind and by named converter ----------------------------------------------

Reader = Callable[[Fields, FieldSpec], Any]
Writer = Callable[[Any], Any]
OMIT = object()
"""A writer's answer for "leave this field out of the body"."""


def _read_text(f: Fields, row: FieldSpec) -> Any:
    return f.text(row.svenn or "", required=row.required)


def _read_hours(f: Fields, row: FieldSpec) -> Any:
    key = row.svenn or ""
    hours = f.number(key, required=True)
    if hours is None or not Decimal(0) <= hours <= Decimal(24):
        raise MalformedFieldError(key, f.row.get(key), Problem.NOT_ALLOWED)
    return _hours(hours)


def _write_customer_number(number: Any) -> Any:
    """Svenn stores free-text numbers, but only numeric ones may travel (nothing is sent)."""
    if isinstance(number, str):
        raise UnmappableRecordError(
            "Svenn only stores numeric customer numbers",
            code="unmappable",
            field_errors=[FieldError("customerNumber", f"not a number: {number!r}")],
        )
    return number


READERS: dict[Kind, Reader] = {
    Kind.TEXT: _read_text,
    Kind.EMAIL: _read_text,
    Kind.PHONE: _read_text,
    Kind.ORG_NUMBER: _read_text,
    Kind.REFERENCE: _read_text,
    Kind.DATE: lambda f, row: f.date(row.svenn or "", required=row.required),
    Kind.DATETIME: lambda f, row: f.datetime(row.svenn or ""),
    Kind.NUMBER: lambda f, row: f.number(row.svenn or "", required=row.required),
    Kind.ADDRESS: lambda f, row: _address(f.nested(row.svenn or "")),
}
"""How a field of each kind is read (Svenn sends explicit nulls; text is kept as sent)."""

WRITERS: dict[Kind, Writer] = {
    Kind.TEXT: lambda v: v,
    Kind.EMAIL: lambda v: v,
    Kind.PHONE: lambda v: v,
    Kind.ORG_NUMBER: lambda v: v,
    Kind.REFERENCE: lambda v: v,
    Kind.FLAG: lambda v: v,
    Kind.DATE: _iso,
    Kind.NUMBER: _number,
    Kind.ADDRESS: address_to_svenn,
}
"""How a field of each kind is written (``None`` is sent as null: it clears the field)."""

CONVERTERS: dict[str, tuple[Reader, Writer]] = {
    "numeric_customer_number": (lambda f, row: _customer_number(f), _write_customer_number),
    "omitted_when_missing": (_read_text, lambda v: OMIT if v is None else v),
    "project_status": (
        lambda f, row: f.choice(row.svenn or "", PROJECT_STATUSES, "active") == "closed",
        lambda closed: "closed" if closed else "active",
    ),
    "hours": (_read_hours, _number),
    "hour_status": (
        lambda f, row: f.choice(row.svenn or "", HOUR_STATUSES, "draft"),
        # Approval is not an API write: only draft and submitted go out.
        lambda status: status if status in WRITABLE_HOUR_STATUSES else OMIT,
    ),
}
"""The special cases a spec row names: (reader, writer)."""


def _read(f: Fields, row: FieldSpec, default: Any) -> Any:
    if row.svenn_converter is not None:
        return CONVERTERS[row.svenn_converter][0](f, row)
    if row.kind is Kind.FLAG:
        return f.boolean(row.svenn or "", default)
    return READERS[row.kind](f, row)


def record_from_svenn(entity: Entity, data: Mapping[str, Any]) -> Record:
    """Any Svenn record of ``entity`` as its canonical record, field by field as the spec says
    (raises :class:`MalformedFieldError` on a bad field)."""
    f = Fields(data)
    values: dict[str, Any] = {"id": _record_id(f), "version": f.integer("version")}
    for row, default, empty in _reading_steps(entity):
        value = _read(f, row, default)
        if value is None:
            value = empty
        values[row.name] = value
    return SPECS[entity].record(**values)


@functools.cache
def _reading_steps(entity: Entity) -> tuple[tuple[FieldSpec, Any, str | None], ...]:
    """Per spec row Svenn holds: the row, the record's default for it and what a missing
    value becomes (empty text for a required text, else ``None``). Worked out once per entity
    instead of once per record read."""
    spec = SPECS[entity]
    steps = []
    for row in spec.fields:
        if row.svenn is None:
            continue
        info = spec.record.model_fields[row.name]
        empty = "" if info.is_required() and row.kind is Kind.TEXT else None
        steps.append((row, info.default, empty))
    return tuple(steps)


def record_to_svenn(record: Record, external_ref: str | None = None) -> Json:
    """The ``*Create`` body for any canonical record (raises :class:`UnmappableRecordError`
    on a value Svenn cannot store, before anything is sent)."""
    spec = SPECS[record.entity]
    body: Json = {}
    for row in spec.fields:
        if row.svenn is None or row.svenn_read_only:
            continue
        value = getattr(record, row.name)
        if row.svenn_converter is not None:
            written = CONVERTERS[row.svenn_converter][1](value)
        else:
            written = WRITERS[row.kind](value)
        if written is not OMIT:
            body[row.svenn] = written
    return _with_ref(body, external_ref) if spec.svenn_external_ref else body


# --- the names callers use ---------------------------------------------------------------------


def customer_from_svenn(data: Mapping[str, Any]) -> Customer:
    """A Svenn customer as a canonical :class:`Customer` (MalformedFieldError on bad fields)."""
    return _as(Customer, record_from_svenn(Entity.CUSTOMER, data))


def employee_from_svenn(data: Mapping[str, Any]) -> Employee:
    """A Svenn employee as a canonical :class:`Employee`."""
    return _as(Employee, record_from_svenn(Entity.EMPLOYEE, data))


def project_from_svenn(data: Mapping[str, Any]) -> Project:
    """A Svenn project as a canonical :class:`Project` (``status`` closed → ``is_closed``)."""
    return _as(Project, record_from_svenn(Entity.PROJECT, data))


def hours_from_svenn(data: Mapping[str, Any]) -> HourEntry:
    """A Svenn hours row as a canonical :class:`HourEntry`."""
    return _as(HourEntry, record_from_svenn(Entity.HOURS, data))


RECORD_READERS: dict[Entity, Callable[[Mapping[str, Any]], Record]] = {
    entity: functools.partial(record_from_svenn, entity) for entity in SPECS
}


def customer_to_svenn(record: Customer, external_ref: str | None = None) -> Json:
    """A ``CustomerCreate`` body; raises :class:`UnmappableRecordError` on a text number."""
    return record_to_svenn(record, external_ref)


def employee_to_svenn(record: Employee, external_ref: str | None = None) -> Json:
    """An ``EmployeeCreate`` body (a missing last name is left out for Svenn to refuse)."""
    return record_to_svenn(record, external_ref)


def project_to_svenn(record: Project, external_ref: str | None = None) -> Json:
    """A ``ProjectCreate`` body (``is_closed`` → ``status``)."""
    return record_to_svenn(record, external_ref)


def hours_to_svenn(record: HourEntry) -> Json:
    """An ``HoursCreate`` body; approval is not an API write, so only draft/submitted go out."""
    return record_to_svenn(record)


def _as(record_type: type[_R], record: Record) -> _R:
    assert isinstance(record, record_type)
    return record
