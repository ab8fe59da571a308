"""Svenn JSON ↔ canonical records: pure functions, no I/O.

Svenn speaks camelCase with explicit nulls (see ``openapi.json`` beside this module). Reading
keeps every field we sync; writing produces a ``*Create`` body (or a ``*Patch`` body limited to
some fields). What Svenn cannot hold is reported, not guessed: a non-numeric customer number
raises :class:`UnmappableRecordError` before anything is sent. Svenn has no internal projects,
so ``Project.is_internal`` is always ``False`` when read and is never written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

from connectors.errors import FieldError, ValidationFailedError
from connectors.fields import Fields
from sync.malformed import MalformedFieldError, Problem
from sync.records import (
    Activity,
    Address,
    Customer,
    Employee,
    Entity,
    HourEntry,
    Project,
    Record,
)

Json = dict[str, Any]

# Canonical field name → Svenn field name, per entity (only fields Svenn can write).
CUSTOMER_FIELDS: dict[str, str] = {
    "name": "name",
    "organization_number": "organizationNumber",
    "customer_number": "customerNumber",
    "email": "email",
    "phone": "phone",
    "postal_address": "postalAddress",
    "is_active": "active",
}
EMPLOYEE_FIELDS: dict[str, str] = {
    "first_name": "firstName",
    "last_name": "lastName",
    "email": "email",
    "phone": "phone",
    "employee_number": "employeeNumber",
    "date_of_birth": "dateOfBirth",
    "is_active": "active",
}
PROJECT_FIELDS: dict[str, str] = {
    "name": "name",
    "number": "number",
    "customer_id": "customerId",
    "project_manager_id": "projectManagerId",
    "parent_project_id": "parentProjectId",
    "start_date": "startDate",
    "end_date": "endDate",
    "is_closed": "status",
}
HOURS_FIELDS: dict[str, str] = {
    "employee_id": "employeeId",
    "project_id": "projectId",
    "activity_id": "activityId",
    "date": "date",
    "hours": "hours",
    "comment": "comment",
    "status": "status",
}
WRITABLE_HOUR_STATUSES = frozenset({"draft", "submitted"})
HOUR_STATUSES = frozenset({"draft", "submitted", "approved", "rejected"})
PROJECT_STATUSES = frozenset({"active", "closed"})


class UnmappableRecordError(ValidationFailedError):
    """A canonical record holds a value Svenn cannot store; nothing was sent."""


# --- reading -------------------------------------------------------------------------------


def _address(fields: Fields | None) -> Address | None:
    if fields is None:
        return None
    address = Address(
        address_line1=fields.text("addressLine1"),
        address_line2=fields.text("addressLine2"),
        postal_code=fields.text("postalCode"),
        city=fields.text("city"),
        country_code=fields.text("countryCode"),
    )
    return None if address == Address() else address


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


def customer_from_svenn(data: Mapping[str, Any]) -> Customer:
    """A Svenn customer as a canonical :class:`Customer` (MalformedFieldError on bad fields)."""
    f = Fields(data)
    return Customer(
        id=_record_id(f),
        version=f.integer("version"),
        name=f.text("name") or "",
        organization_number=f.text("organizationNumber"),
        customer_number=_customer_number(f),
        email=f.text("email"),
        phone=f.text("phone"),
        postal_address=_address(f.nested("postalAddress")),
        is_active=f.boolean("active", True),
    )


def employee_from_svenn(data: Mapping[str, Any]) -> Employee:
    """A Svenn employee as a canonical :class:`Employee`."""
    f = Fields(data)
    return Employee(
        id=_record_id(f),
        version=f.integer("version"),
        first_name=f.text("firstName") or "",
        last_name=f.text("lastName"),
        email=f.text("email"),
        phone=f.text("phone"),
        employee_number=f.text("employeeNumber"),
        date_of_birth=f.date("dateOfBirth"),
        is_active=f.boolean("active", True),
    )


def project_from_svenn(data: Mapping[str, Any]) -> Project:
    """A Svenn project as a canonical :class:`Project` (``status`` closed → ``is_closed``)."""
    f = Fields(data)
    return Project(
        id=_record_id(f),
        version=f.integer("version"),
        name=f.text("name") or "",
        number=f.text("number"),
        customer_id=f.text("customerId"),
        project_manager_id=f.text("projectManagerId"),
        parent_project_id=f.text("parentProjectId"),
        start_date=f.date("startDate"),
        end_date=f.date("endDate"),
        is_closed=f.choice("status", PROJECT_STATUSES, "active") == "closed",
        is_internal=False,
    )


def activity_from_svenn(data: Mapping[str, Any]) -> Activity:
    """A Svenn activity as a canonical :class:`Activity` (its ``code`` is the number)."""
    f = Fields(data)
    return Activity(id=_record_id(f), name=f.text("name") or "", number=f.text("code"))


def hours_from_svenn(data: Mapping[str, Any]) -> HourEntry:
    """A Svenn hours row as a canonical :class:`HourEntry`."""
    f = Fields(data)
    hours = f.number("hours", required=True)
    if hours is None or not Decimal(0) <= hours <= Decimal(24):
        raise MalformedFieldError("hours", f.row.get("hours"), Problem.NOT_ALLOWED)
    return HourEntry(
        id=_record_id(f),
        version=f.integer("version"),
        employee_id=f.text("employeeId", required=True) or "",
        project_id=f.text("projectId"),
        activity_id=f.text("activityId"),
        date=f.date("date", required=True) or dt.date.min,
        hours=_hours(hours),
        comment=f.text("comment"),
        status=f.choice("status", HOUR_STATUSES, "draft"),
        approved_by=f.text("approvedBy"),
        approved_at=f.datetime("approvedAt"),
    )


RECORD_READERS: dict[Entity, Callable[[Mapping[str, Any]], Record]] = {
    Entity.CUSTOMER: customer_from_svenn,
    Entity.EMPLOYEE: employee_from_svenn,
    Entity.PROJECT: project_from_svenn,
    Entity.HOURS: hours_from_svenn,
}


def record_from_svenn(entity: Entity, data: Mapping[str, Any]) -> Record:
    """Any Svenn record of ``entity`` as its canonical record."""
    return RECORD_READERS[entity](data)


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


def customer_to_svenn(record: Customer, external_ref: str | None = None) -> Json:
    """A ``CustomerCreate`` body; raises :class:`UnmappableRecordError` on a text number."""
    number = record.customer_number
    if isinstance(number, str):
        raise UnmappableRecordError(
            "Svenn only stores numeric customer numbers",
            code="unmappable",
            field_errors=[FieldError("customerNumber", f"not a number: {number!r}")],
        )
    body: Json = {
        "name": record.name,
        "organizationNumber": record.organization_number,
        "customerNumber": number,
        "email": record.email,
        "phone": record.phone,
        "postalAddress": address_to_svenn(record.postal_address),
        "active": record.is_active,
    }
    return _with_ref(body, external_ref)


def employee_to_svenn(record: Employee, external_ref: str | None = None) -> Json:
    """An ``EmployeeCreate`` body (a missing last name is left out for Svenn to refuse)."""
    body: Json = {
        "firstName": record.first_name,
        "email": record.email,
        "phone": record.phone,
        "employeeNumber": record.employee_number,
        "dateOfBirth": _iso(record.date_of_birth),
        "active": record.is_active,
    }
    if record.last_name is not None:
        body["lastName"] = record.last_name
    return _with_ref(body, external_ref)


def project_to_svenn(record: Project, external_ref: str | None = None) -> Json:
    """A ``ProjectCreate`` body (``is_closed`` → ``status``)."""
    body: Json = {
        "name": record.name,
        "number": record.number,
        "customerId": record.customer_id,
        "projectManagerId": record.project_manager_id,
        "parentProjectId": record.parent_project_id,
        "startDate": _iso(record.start_date),
        "endDate": _iso(record.end_date),
        "status": "closed" if record.is_closed else "active",
    }
    return _with_ref(body, external_ref)


def hours_to_svenn(record: HourEntry) -> Json:
    """An ``HoursCreate`` body; approval is not an API write, so only draft/submitted go out."""
    body: Json = {
        "employeeId": record.employee_id,
        "projectId": record.project_id,
        "activityId": record.activity_id,
        "date": record.date.isoformat(),
        "hours": _number(record.hours),
        "comment": record.comment,
    }
    if record.status in WRITABLE_HOUR_STATUSES:
        body["status"] = record.status
    return body


def record_to_svenn(record: Record, external_ref: str | None = None) -> Json:
    """The create body for any canonical record."""
    if isinstance(record, Customer):
        return customer_to_svenn(record, external_ref)
    if isinstance(record, Employee):
        return employee_to_svenn(record, external_ref)
    if isinstance(record, Project):
        return project_to_svenn(record, external_ref)
    if isinstance(record, HourEntry):
        return hours_to_svenn(record)
    raise TypeError(f"no Svenn mapping for {type(record).__name__}")


FIELD_NAMES: dict[Entity, dict[str, str]] = {
    Entity.CUSTOMER: CUSTOMER_FIELDS,
    Entity.EMPLOYEE: EMPLOYEE_FIELDS,
    Entity.PROJECT: PROJECT_FIELDS,
    Entity.HOURS: HOURS_FIELDS,
}


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
