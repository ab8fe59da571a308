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


class UnmappableRecordError(ValidationFailedError):
    """A canonical record holds a value Svenn cannot store; nothing was sent."""


# --- reading -------------------------------------------------------------------------------


def address_from_svenn(data: Mapping[str, Any] | None) -> Address | None:
    """A Svenn address; ``None`` when absent or when every part is empty."""
    if not data:
        return None
    address = Address(
        address_line1=data.get("addressLine1"),
        address_line2=data.get("addressLine2"),
        postal_code=data.get("postalCode"),
        city=data.get("city"),
        country_code=data.get("countryCode"),
    )
    return None if address == Address() else address


def customer_from_svenn(data: Mapping[str, Any]) -> Customer:
    """A Svenn customer as a canonical :class:`Customer`."""
    return Customer(
        id=str(data["id"]),
        version=data.get("version"),
        name=data["name"],
        organization_number=data.get("organizationNumber"),
        customer_number=data.get("customerNumber"),
        email=data.get("email"),
        phone=data.get("phone"),
        postal_address=address_from_svenn(data.get("postalAddress")),
        is_active=bool(data.get("active", True)),
    )


def employee_from_svenn(data: Mapping[str, Any]) -> Employee:
    """A Svenn employee as a canonical :class:`Employee`."""
    return Employee(
        id=str(data["id"]),
        version=data.get("version"),
        first_name=data["firstName"],
        last_name=data.get("lastName"),
        email=data.get("email"),
        phone=data.get("phone"),
        employee_number=data.get("employeeNumber"),
        date_of_birth=_date(data.get("dateOfBirth")),
        is_active=bool(data.get("active", True)),
    )


def project_from_svenn(data: Mapping[str, Any]) -> Project:
    """A Svenn project as a canonical :class:`Project` (``status`` closed → ``is_closed``)."""
    return Project(
        id=str(data["id"]),
        version=data.get("version"),
        name=data["name"],
        number=data.get("number"),
        customer_id=data.get("customerId"),
        project_manager_id=data.get("projectManagerId"),
        parent_project_id=data.get("parentProjectId"),
        start_date=_date(data.get("startDate")),
        end_date=_date(data.get("endDate")),
        is_closed=data.get("status") == "closed",
        is_internal=False,
    )


def activity_from_svenn(data: Mapping[str, Any]) -> Activity:
    """A Svenn activity as a canonical :class:`Activity` (its ``code`` is the number)."""
    return Activity(id=str(data["id"]), name=data["name"], number=data.get("code"))


def hours_from_svenn(data: Mapping[str, Any]) -> HourEntry:
    """A Svenn hours row as a canonical :class:`HourEntry`."""
    return HourEntry(
        id=str(data["id"]),
        version=data.get("version"),
        employee_id=str(data["employeeId"]),
        project_id=data.get("projectId"),
        activity_id=data.get("activityId"),
        date=dt.date.fromisoformat(data["date"]),
        hours=_hours(data["hours"]),
        comment=data.get("comment"),
        status=data.get("status", "draft"),
        approved_by=data.get("approvedBy"),
        approved_at=_datetime(data.get("approvedAt")),
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


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _hours(value: float | int | str) -> Decimal:
    """Hours as a plain decimal: ``7.0`` and ``7`` both give ``Decimal("7")``, no exponent."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def _number(value: Decimal) -> int | float:
    """JSON number for hours: integral values as int, others as float."""
    return int(value) if value == value.to_integral_value() else float(value)
