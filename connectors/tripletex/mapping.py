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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connectors.fields import Fields
from connectors.tripletex.clock import OSLO
from sync.malformed import MalformedFieldError, Problem
from sync.records import Activity, Address, Customer, Employee, HourEntry, Project

JsonDict = dict[str, Any]

# Tripletex country ids by ISO 3166-1 alpha-2 code (Norway is 161 in every Tripletex account).
COUNTRY_IDS: Mapping[str, int] = {"NO": 161}
COUNTRY_CODES: Mapping[int, str] = {v: k for k, v in COUNTRY_IDS.items()}

CUSTOMER_FIELDS = (
    "id,version,name,organizationNumber,customerNumber,email,phoneNumber,isInactive,"
    "postalAddress(id,addressLine1,addressLine2,postalCode,city,country(id))"
)
EMPLOYEE_FIELDS = (
    "id,version,firstName,lastName,email,phoneNumberMobile,employeeNumber,dateOfBirth,"
    "employments(endDate)"
)
PROJECT_FIELDS = (
    "id,version,name,number,customer(id),projectManager(id),mainProject(id),startDate,endDate,"
    "isClosed,isInternal"
)
ACTIVITY_FIELDS = "id,name,number,isProjectActivity"
TIMESHEET_FIELDS = "id,version,employee(id),project(id),activity(id),date,hours,comment"
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
    address = Address(
        address_line1=_text(fields, "addressLine1"),
        address_line2=_text(fields, "addressLine2"),
        postal_code=_text(fields, "postalCode"),
        city=_text(fields, "city"),
        country_code=country_code,
    )
    return address if address != Address() else None


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


def customer_from_tripletex(raw: Mapping[str, Any]) -> Customer:
    """Tripletex Customer JSON → canonical Customer (raises MalformedFieldError on bad fields)."""
    f = Fields(raw)
    number = f.integer("customerNumber") if f.row.get("customerNumber") != "" else None
    return Customer(
        id=_record_id(f),
        version=f.integer("version"),
        name=f.text("name") or "",
        organization_number=_text(f, "organizationNumber"),
        customer_number=number or None,
        email=_text(f, "email"),
        phone=_text(f, "phoneNumber"),
        postal_address=_address(f.nested("postalAddress")),
        is_active=not f.boolean("isInactive", False),
    )


def customer_to_tripletex(customer: Customer, *, include_identity: bool = False) -> JsonDict:
    """Canonical Customer → Tripletex Customer JSON (``id``/``version`` only when asked)."""
    data: JsonDict = {
        "name": customer.name,
        "organizationNumber": customer.organization_number or "",
        "customerNumber": customer.customer_number,
        "email": customer.email or "",
        "phoneNumber": customer.phone or "",
        "isInactive": not customer.is_active,
    }
    data = _drop_none(data)
    if customer.postal_address is not None:
        data["postalAddress"] = address_to_tripletex(customer.postal_address)
    return _with_identity(data, customer.id, customer.version, include_identity)


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


def employee_from_tripletex(raw: Mapping[str, Any], *, today: dt.date | None = None) -> Employee:
    """Tripletex Employee JSON → canonical Employee (``today`` decides ended employments)."""
    f = Fields(raw)
    return Employee(
        id=_record_id(f),
        version=f.integer("version"),
        first_name=f.text("firstName") or "",
        last_name=_text(f, "lastName"),
        email=_text(f, "email"),
        phone=_text(f, "phoneNumberMobile"),
        employee_number=_text(f, "employeeNumber"),
        date_of_birth=f.date("dateOfBirth"),
        is_active=_employments_active(f, today),
    )


def employee_to_tripletex(
    employee: Employee, *, include_identity: bool = False, for_create: bool = True
) -> JsonDict:
    """Canonical Employee → Tripletex Employee JSON (``userType`` only on create)."""
    data: JsonDict = {
        "firstName": employee.first_name,
        "lastName": employee.last_name or "",
        "email": employee.email or "",
        "phoneNumberMobile": employee.phone or "",
        "employeeNumber": employee.employee_number or "",
        "dateOfBirth": _iso(employee.date_of_birth),
    }
    if for_create:
        data["userType"] = "STANDARD" if employee.email else "NO_ACCESS"
        data = {k: v for k, v in data.items() if v != ""}
    data = _drop_none(data)
    return _with_identity(data, employee.id, employee.version, include_identity)


def project_from_tripletex(raw: Mapping[str, Any]) -> Project:
    """Tripletex Project JSON → canonical Project."""
    f = Fields(raw)
    return Project(
        id=_record_id(f),
        version=f.integer("version"),
        name=f.text("name") or "",
        number=_text(f, "number"),
        customer_id=_ref_id(f, "customer"),
        project_manager_id=_ref_id(f, "projectManager"),
        parent_project_id=_ref_id(f, "mainProject"),
        start_date=f.date("startDate"),
        end_date=f.date("endDate"),
        is_closed=f.boolean("isClosed", False),
        is_internal=f.boolean("isInternal", False),
    )


def project_to_tripletex(project: Project, *, include_identity: bool = False) -> JsonDict:
    """Canonical Project → Tripletex Project JSON (references as ``{"id": n}``)."""
    data: JsonDict = {
        "name": project.name,
        "number": project.number,
        "customer": _ref(project.customer_id),
        "projectManager": _ref(project.project_manager_id),
        "mainProject": _ref(project.parent_project_id),
        "startDate": _iso(project.start_date),
        "endDate": _iso(project.end_date),
        "isClosed": project.is_closed,
        "isInternal": project.is_internal,
    }
    # Tripletex refuses nulls here; clearing a reference is not something we sync.
    data = _drop_none(data)
    return _with_identity(data, project.id, project.version, include_identity)


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


def hour_entry_from_tripletex(raw: Mapping[str, Any]) -> HourEntry:
    """Tripletex TimesheetEntry JSON → canonical HourEntry (status ``approved``)."""
    f = Fields(raw)
    return HourEntry(
        id=_record_id(f),
        version=f.integer("version"),
        employee_id=_ref_id(f, "employee") or "",
        project_id=_ref_id(f, "project"),
        activity_id=_ref_id(f, "activity"),
        date=f.date("date", required=True) or dt.date.min,
        hours=f.number("hours") or Decimal(0),
        comment=_text(f, "comment"),
    )


def hour_entry_to_tripletex(entry: HourEntry, *, include_identity: bool = False) -> JsonDict:
    """Canonical HourEntry → Tripletex TimesheetEntry JSON."""
    data: JsonDict = {
        "employee": _ref(entry.employee_id),
        "project": _ref(entry.project_id),
        "activity": _ref(entry.activity_id),
        "date": entry.date.isoformat(),
        "hours": float(entry.hours),
        "comment": entry.comment or "",
    }
    data = _drop_none(data)
    return _with_identity(data, entry.id, entry.version, include_identity)


def tripletex_time(moment: dt.datetime) -> str:
    """A datetime as Tripletex's query parameters take it: Norwegian wall-clock time.

    Aware datetimes are converted; naive ones are taken to be Norwegian time already.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(OSLO)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
