"""Tripletex JSON ↔ canonical records (pure functions, no I/O).

Decisions, for the fields Tripletex models differently:

- Empty strings from Tripletex mean "not set" and become ``None``; an address whose fields are
  all empty becomes ``None``.
- Countries: Tripletex references ``country{id}``; canonical records hold ISO alpha-2 codes.
  :data:`COUNTRY_IDS` translates; a code it does not know is left out of the write.
- Employee ``userType``: ``STANDARD`` when the employee has an e-mail (Tripletex requires one
  for users that may log in), ``NO_ACCESS`` without. It is sent on create only: changing a
  user's login access is an account decision, not a sync one.
- Employee ``is_active``: Tripletex has no ``isInactive`` on employees; the end of employment
  is ``Employment.endDate``. An employee is read as inactive when it has employments and all
  of them ended before ``today``. The flag is never written (ending an employment is payroll,
  not sync); the sync layer must log a deactivation towards Tripletex as unsupported.
- Timesheet entries carry no approval state in Tripletex: entries read back are ``approved``
  (only approved hours are ever exported).

Which fields are read and written, under which Tripletex names, comes from the entity specs
(:mod:`sync.entities`): :func:`record_from_tripletex` and :func:`record_to_tripletex` walk the
rows, reading and writing each by its kind or by the named converter the row points at
(:data:`CONVERTERS`). The per-entity functions below are thin names kept for their callers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from connectors.fields import Fields
from connectors.tripletex.clock import OSLO
from sync.entities import SPECS, Customer, Employee, EntitySpec, FieldSpec, HourEntry, Kind, Project
from sync.malformed import MalformedFieldError, Problem
from sync.records import Activity, Address, Entity, Record, address_of

JsonDict = dict[str, Any]
_R = TypeVar("_R", bound=Record)

# Tripletex country ids by ISO 3166-1 alpha-2 code (Norway is 161 in every Tripletex account).
COUNTRY_IDS: Mapping[str, int] = {"NO": 161}
COUNTRY_CODES: Mapping[int, str] = {v: k for k, v in COUNTRY_IDS.items()}


def field_selection(spec: EntitySpec) -> str:
    """The ``fields=`` selection that reads every field of ``spec`` Tripletex holds."""
    parts = ["id", "version"]
    for row in spec.fields:
        if row.tripletex is None:
            continue
        plain = f"{row.tripletex}(id)" if row.kind is Kind.REFERENCE else row.tripletex
        parts.append(row.tripletex_select or plain)
    return ",".join(parts)


CUSTOMER_FIELDS = field_selection(SPECS[Entity.CUSTOMER])
EMPLOYEE_FIELDS = field_selection(SPECS[Entity.EMPLOYEE])
PROJECT_FIELDS = field_selection(SPECS[Entity.PROJECT])
ACTIVITY_FIELDS = "id,name,number,isProjectActivity"
VERSION_FIELDS = "id,version"


def _blank_none(value: str | None) -> str | None:
    """Tripletex sends empty strings for "not set"."""
    return value if value is not None and value.strip() else None


def _text(fields: Fields, key: str) -> str | None:
    return _blank_none(fields.text(key))


def _record_id(fields: Fields) -> str | None:
    """The id (absent in create bodies; a record *read* without one is malformed)."""
    value = fields.integer("id")
    return str(value) if value is not None else None


def _ref_id(fields: Fields, key: str) -> str | None:
    ref = fields.nested(key)
    if ref is None:
        return None
    value = ref.integer("id")
    return str(value) if value is not None else None


def _ref(record_id: str | None) -> JsonDict | None:
    return {"id": int(record_id)} if record_id is not None else None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _drop_none(data: JsonDict) -> JsonDict:
    return {k: v for k, v in data.items() if v is not None}


def _address(fields: Fields | None) -> Address | None:
    if fields is None:
        return None
    country = fields.nested("country")
    country_code = None
    if country is not None:
        iso = _text(country, "isoAlpha2Code")
        country_id = country.integer("id")
        country_code = iso or (COUNTRY_CODES.get(country_id) if country_id else None)
    return address_of(
        _text(fields, "addressLine1"),
        _text(fields, "addressLine2"),
        _text(fields, "postalCode"),
        _text(fields, "city"),
        country_code,
    )


def address_from_tripletex(raw: Any) -> Address | None:
    """A Tripletex Address → canonical Address (``None`` when every field is empty)."""
    return _address(Fields(raw, "postalAddress") if raw else None)


def address_to_tripletex(address: Address) -> JsonDict:
    """A canonical Address → Tripletex Address JSON (empty strings clear fields)."""
    data: JsonDict = {
        "addressLine1": address.address_line1 or "",
        "addressLine2": address.address_line2 or "",
        "postalCode": address.postal_code or "",
        "city": address.city or "",
    }
    country_id = COUNTRY_IDS.get(address.country_code or "")
    if country_id is not None:
        data["country"] = {"id": country_id}
    return data


def _with_identity(
    data: JsonDict, record_id: str | None, version: int | None, include: bool
) -> JsonDict:
    if include and record_id is not None:
        data = {"id": int(record_id), **data}
        if version is not None:
            data["version"] = version
    return data


def employee_is_active(employments: Any, today: dt.date | None) -> bool:
    """Active unless the employee has employments and every one ended before ``today``."""
    return _employments_active(Fields({"employments": employments}), today)


def _employments_active(fields: Fields, today: dt.date | None) -> bool:
    ends = [e.date("endDate") for e in fields.items("employments")]
    if not ends or today is None:
        return True
    return any(end is None or end >= today for end in ends)


# --- the fields, by kind and by named converter ----------------------------------------------

Reader = Callable[[Fields, FieldSpec, "dt.date | None"], Any]
Writer = Callable[[Any], Any]


def _read_text(f: Fields, row: FieldSpec, _today: dt.date | None) -> Any:
    return _text(f, row.tripletex or "")


def _read_customer_number(f: Fields, row: FieldSpec, _today: dt.date | None) -> Any:
    key = row.tripletex or ""
    number = f.integer(key) if f.row.get(key) != "" else None
    return number or None


def _read_employments(f: Fields, _row: FieldSpec, today: dt.date | None) -> Any:
    return _employments_active(f, today)


def _read_inverted(f: Fields, row: FieldSpec, _today: dt.date | None) -> Any:
    return not f.boolean(row.tripletex or "", False)


def _user_type(employee: Record, data: JsonDict) -> JsonDict:
    """On create, an employee with an e-mail may log in; empty fields are left out."""
    data["userType"] = "STANDARD" if getattr(employee, "email", None) else "NO_ACCESS"
    return {k: v for k, v in data.items() if v != ""}


READERS: dict[Kind, Reader] = {
    Kind.TEXT: _read_text,
    Kind.EMAIL: _read_text,
    Kind.PHONE: _read_text,
    Kind.ORG_NUMBER: _read_text,
    Kind.DATE: lambda f, row, _t: f.date(row.tripletex or "", required=row.required),
    Kind.NUMBER: lambda f, row, _t: f.number(row.tripletex or ""),
    Kind.REFERENCE: lambda f, row, _t: _ref_id(f, row.tripletex or ""),
    Kind.FLAG: lambda f, row, _t: f.boolean(row.tripletex or "", False),
    Kind.ADDRESS: lambda f, row, _t: _address(f.nested(row.tripletex or "")),
}
"""How a field of each kind is read (text: Tripletex's empty string means not set)."""

WRITERS: dict[Kind, Writer] = {
    Kind.TEXT: lambda v: v or "",
    Kind.EMAIL: lambda v: v or "",
    Kind.PHONE: lambda v: v or "",
    Kind.ORG_NUMBER: lambda v: v or "",
    Kind.DATE: _iso,
    Kind.NUMBER: lambda v: float(v) if v is not None else None,
    Kind.REFERENCE: _ref,
    Kind.FLAG: lambda v: v,
    Kind.ADDRESS: lambda v: address_to_tripletex(v) if v is not None else None,
}
"""How a field of each kind is written ("" clears text; ``None`` is left out of the body)."""

CONVERTERS: dict[str, tuple[Reader | None, Writer | None]] = {
    "customer_number": (_read_customer_number, lambda v: v),
    "inverted": (_read_inverted, lambda v: not v),
    "employments_active": (_read_employments, None),
    "kept_when_missing": (_read_text, lambda v: v),
}
"""The special cases a spec row names: (reader, writer); a missing writer is never written."""

CREATE_CONVERTERS: dict[str, Callable[[Record, JsonDict], JsonDict]] = {"user_type": _user_type}
"""What an entity's create body adds (named by the spec's ``tripletex_create_converter``)."""

# A required canonical field read as nothing takes its empty value.
_EMPTY: dict[Kind, Any] = {
    Kind.TEXT: "",
    Kind.REFERENCE: "",
    Kind.NUMBER: Decimal(0),
    Kind.DATE: dt.date.min,
}


def _reader(row: FieldSpec) -> Reader:
    if row.tripletex_converter is None:
        return READERS[row.kind]
    reader = CONVERTERS[row.tripletex_converter][0]
    assert reader is not None, row.tripletex_converter
    return reader


def _writer(row: FieldSpec) -> Writer | None:
    if row.tripletex_read_only:
        return None
    if row.tripletex_converter is None:
        return WRITERS[row.kind]
    return CONVERTERS[row.tripletex_converter][1]


def record_from_tripletex(
    entity: Entity, raw: Mapping[str, Any], *, today: dt.date | None = None
) -> Record:
    """Tripletex JSON of ``entity`` → its canonical record, field by field as the spec says.

    Raises :class:`MalformedFieldError` on a bad field; ``today`` decides ended employments.
    """
    f = Fields(raw)
    values: dict[str, Any] = {"id": _record_id(f), "version": f.integer("version")}
    for row, key, reader, empty in _reading_steps(entity):
        # a required name (reader None) is kept as sent
        value = f.text(key) if reader is None else reader(f, row, today)
        if value is None:
            value = empty
        values[row.name] = value
    return SPECS[entity].record(**values)


@functools.cache
def _reading_steps(entity: Entity) -> tuple[tuple[FieldSpec, str, Reader | None, Any], ...]:
    """Per spec row Tripletex holds: the row, its Tripletex name, its reader (``None``: a
    required text read as sent) and what a missing value becomes (``None`` unless required).
    Worked out once per entity instead of once per record read."""
    spec = SPECS[entity]
    steps = []
    for row in spec.fields:
        if row.tripletex is None:
            continue
        required = spec.record.model_fields[row.name].is_required()
        as_sent = required and row.kind is Kind.TEXT and row.tripletex_converter is None
        empty = _EMPTY[row.kind] if required else None
        steps.append((row, row.tripletex, None if as_sent else _reader(row), empty))
    return tuple(steps)


def record_to_tripletex(
    record: Record, *, include_identity: bool = False, for_create: bool = True
) -> JsonDict:
    """A canonical record → Tripletex JSON (``id``/``version`` only when asked).

    Fields are written as their kind or converter says; ``None`` is left out (Tripletex refuses
    nulls, and clearing a reference is not something we sync). A create adds what the spec's
    create converter adds (an employee's ``userType``).
    """
    spec = SPECS[record.entity]
    model_fields = spec.record.model_fields
    data: JsonDict = {}
    for row in spec.fields:
        writer = _writer(row) if row.tripletex is not None else None
        if row.tripletex is None or writer is None:
            continue
        value = getattr(record, row.name)
        required_text = row.kind is Kind.TEXT and model_fields[row.name].is_required()
        data[row.tripletex] = value if required_text else writer(value)
    if for_create and spec.tripletex_create_converter is not None:
        data = CREATE_CONVERTERS[spec.tripletex_create_converter](record, data)
    data = _drop_none(data)
    return _with_identity(data, record.id, record.version, include_identity)


# --- the names callers use ---------------------------------------------------------------------


def customer_from_tripletex(raw: Mapping[str, Any]) -> Customer:
    """Tripletex Customer JSON → canonical Customer (raises MalformedFieldError on bad fields)."""
    return _as(Customer, record_from_tripletex(Entity.CUSTOMER, raw))


def customer_to_tripletex(customer: Customer, *, include_identity: bool = False) -> JsonDict:
    """Canonical Customer → Tripletex Customer JSON (``id``/``version`` only when asked)."""
    return record_to_tripletex(customer, include_identity=include_identity)


def employee_from_tripletex(raw: Mapping[str, Any], *, today: dt.date | None = None) -> Employee:
    """Tripletex Employee JSON → canonical Employee (``today`` decides ended employments)."""
    return _as(Employee, record_from_tripletex(Entity.EMPLOYEE, raw, today=today))


def employee_to_tripletex(
    employee: Employee, *, include_identity: bool = False, for_create: bool = True
) -> JsonDict:
    """Canonical Employee → Tripletex Employee JSON (``userType`` only on create)."""
    return record_to_tripletex(employee, include_identity=include_identity, for_create=for_create)


def project_from_tripletex(raw: Mapping[str, Any]) -> Project:
    """Tripletex Project JSON → canonical Project."""
    return _as(Project, record_from_tripletex(Entity.PROJECT, raw))


def project_to_tripletex(project: Project, *, include_identity: bool = False) -> JsonDict:
    """Canonical Project → Tripletex Project JSON (references as ``{"id": n}``)."""
    return record_to_tripletex(project, include_identity=include_identity)


def hour_entry_from_tripletex(raw: Mapping[str, Any]) -> HourEntry:
    """Tripletex TimesheetEntry JSON → canonical HourEntry (status ``approved``)."""
    return _as(HourEntry, record_from_tripletex(Entity.HOURS, raw))


def hour_entry_to_tripletex(entry: HourEntry, *, include_identity: bool = False) -> JsonDict:
    """Canonical HourEntry → Tripletex TimesheetEntry JSON."""
    return record_to_tripletex(entry, include_identity=include_identity)


def _as(record_type: type[_R], record: Record) -> _R:
    assert isinstance(record, record_type)
    return record


def version_from_tripletex(raw: Mapping[str, Any]) -> tuple[str, int]:
    """An ``id,version`` row → ``(id, version)`` (a record without a version counts as 0)."""
    fields = Fields(raw)
    record_id = _record_id(fields)
    if record_id is None:
        raise MalformedFieldError("id", raw.get("id"), Problem.MISSING)
    return record_id, fields.integer("version") or 0


def activity_from_tripletex(raw: Mapping[str, Any]) -> Activity:
    """Tripletex Activity JSON → canonical Activity."""
    f = Fields(raw)
    return Activity(
        id=_record_id(f),
        name=f.text("name") or "",
        number=_text(f, "number"),
        is_project_activity=f.boolean("isProjectActivity", True),
    )


def tripletex_time(moment: dt.datetime) -> str:
    """A datetime as Tripletex's query parameters take it: Norwegian wall-clock time.

    Aware datetimes are converted; naive ones are taken to be Norwegian time already.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(OSLO)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
