"""Seed data: load seed JSON into the sandbox, and convert generated canonical data to it.

Seed format (see README): ``{"companies": [{"id", "name", "organizationNumber",
"employeeTokens": [{"token", "entitlements", "employee": {"id"}}], "departments",
"employees", "customers", "projects", "activities", "projectActivities",
"timesheetEntries"}]}`` with entity objects in Tripletex JSON.
"""

from __future__ import annotations

import secrets
from typing import Any

from .model import insert_row, map_body
from .state import AREAS, PM_FLAG, Company, EmployeeToken, Sandbox
from .writes import _assign_numbers

SEED_LISTS = (
    ("departments", "department"),
    ("employees", "employee"),
    ("customers", "customer"),
    ("activities", "activity"),
    ("projects", "project"),
    ("projectActivities", "projectActivity"),
    ("timesheetEntries", "timesheetEntry"),
)
DEFAULT_ACTIVITIES = (
    {"name": "Timer", "number": "1", "activityType": "PROJECT_GENERAL_ACTIVITY"},
    {"name": "Overtid", "number": "2", "activityType": "PROJECT_GENERAL_ACTIVITY"},
    {"name": "Administrasjon", "number": "3", "activityType": "GENERAL_ACTIVITY"},
)


def default_seed(environment: str = "production") -> dict[str, Any]:
    """One company with an account owner and the standard activities."""
    prefix = "test-" if environment == "test" else ""
    return {
        "companies": [
            {
                "id": 1001,
                "name": "Sandkasse Bygg AS",
                "organizationNumber": "998877665",
                "employeeTokens": [
                    {"token": f"{prefix}sandbox-employee-token", "entitlements": ["ALL"]}
                ],
                "employees": [
                    {
                        "firstName": "Kari",
                        "lastName": "Nordmann",
                        "userType": "EXTENDED",
                        "email": "kari@sandkasse.no",
                        PM_FLAG: True,
                    }
                ],
            }
        ]
    }


def load_seed(sandbox: Sandbox, seed: dict[str, Any]) -> list[Company]:
    """Add every company of a seed document."""
    return [add_company(sandbox, data) for data in seed.get("companies", [])]


def add_company(sandbox: Sandbox, data: dict[str, Any]) -> Company:
    """Add one company in seed format (entities are stored as given, without API checks)."""
    company_id = sandbox.new_id(data.get("id"))
    if company_id in sandbox.companies:
        raise ValueError(f"company {company_id} exists already")
    company = Company(
        company_id, data.get("name") or f"Firma {company_id}", data.get("organizationNumber") or ""
    )
    sandbox.companies[company_id] = company
    for key, entity in SEED_LISTS:
        items = data.get(key)
        if key == "activities" and items is None:
            items = [dict(a) for a in DEFAULT_ACTIVITIES]
        for item in items or []:
            seed_row(sandbox, company, entity, item)
    tokens = data.get("employeeTokens") or [
        {"token": secrets.token_hex(12), "entitlements": ["ALL"]}
    ]
    first_employee = next(iter(company.table("employee")), None)
    for raw in tokens:
        entitlements = frozenset(raw.get("entitlements") or ["ALL"])
        unknown = entitlements - AREAS - {"ALL"}
        if unknown:
            raise ValueError(f"unknown entitlements: {sorted(unknown)}")
        owner = (raw.get("employee") or {}).get("id", first_employee)
        sandbox.add_token(company, EmployeeToken(raw["token"], company_id, entitlements, owner))
    return company


def seed_row(sandbox: Sandbox, company: Company, entity: str, item: dict[str, Any]) -> None:
    """Store one seed object, keeping its id and the sandbox-only flags."""
    row = map_body(sandbox, entity, item, admin=True)
    row = {k: v for k, v in row.items() if v is not None}
    if isinstance(item.get("id"), int):
        row["id"] = item["id"]
    if entity == "employee" and "userType" not in row:
        row["userType"] = "STANDARD" if row.get("email") else "NO_ACCESS"
    _assign_numbers(company, entity, row)
    insert_row(sandbox, company, entity, row)


def company_from_dataset(dataset: Any, company_id: int, token: str) -> dict[str, Any]:
    """Canonical records (``World.tripletex``) → one seed company in Tripletex JSON."""
    employees = [_employee(e) for e in getattr(dataset, "employees", [])]
    managers = {str(p.project_manager_id) for p in getattr(dataset, "projects", [])}
    for employee in employees:
        if str(employee.get("id")) in managers:
            employee[PM_FLAG] = True
    if employees:
        employees[0][PM_FLAG] = True  # the account owner
    activities = [_activity(a) for a in getattr(dataset, "activities", [])]
    return {
        "id": company_id,
        "name": f"Firma {company_id}",
        "employeeTokens": [{"token": token, "entitlements": ["ALL"]}],
        "employees": employees,
        "customers": [_customer(c) for c in getattr(dataset, "customers", [])],
        "projects": [_project(p) for p in getattr(dataset, "projects", [])],
        "activities": activities or [dict(a) for a in DEFAULT_ACTIVITIES],
        "timesheetEntries": [_hours(h) for h in getattr(dataset, "hours", [])],
    }


NORWAY = 161  # Tripletex's country id for Norway, the same in every account


def _int_id(value: Any) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None


def _ref(value: Any) -> dict[str, int] | None:
    ident = _int_id(value)
    return {"id": ident} if ident is not None else None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _customer(c: Any) -> dict[str, Any]:
    address = None
    if c.postal_address is not None:
        a = c.postal_address
        address = _clean(
            {
                "addressLine1": a.address_line1,
                "addressLine2": a.address_line2,
                "postalCode": a.postal_code,
                "city": a.city,
                "country": {"id": NORWAY} if a.country_code == "NO" else None,
            }
        )
    return _clean(
        {
            "id": _int_id(c.id),
            "name": c.name,
            "organizationNumber": c.organization_number,
            "customerNumber": c.customer_number,
            "email": c.email,
            "invoiceEmail": c.invoice_email,
            "phoneNumber": c.phone,
            "postalAddress": address,
            "isInactive": not c.is_active,
        }
    )


def _employee(e: Any) -> dict[str, Any]:
    return _clean(
        {
            "id": _int_id(e.id),
            "firstName": e.first_name,
            "lastName": e.last_name,
            "email": e.email,
            "phoneNumberMobile": e.phone,
            "employeeNumber": e.employee_number,
            "dateOfBirth": e.date_of_birth.isoformat() if e.date_of_birth else None,
            "userType": "STANDARD" if e.email else "NO_ACCESS",
        }
    )


def _project(p: Any) -> dict[str, Any]:
    return _clean(
        {
            "id": _int_id(p.id),
            "name": p.name,
            "number": p.number,
            "customer": _ref(p.customer_id),
            "projectManager": _ref(p.project_manager_id),
            "mainProject": _ref(p.parent_project_id),
            "startDate": p.start_date.isoformat() if p.start_date else None,
            "endDate": p.end_date.isoformat() if p.end_date else None,
            "isClosed": p.is_closed,
            "isInternal": p.is_internal,
        }
    )


def _activity(a: Any) -> dict[str, Any]:
    kind = "PROJECT_GENERAL_ACTIVITY" if a.is_project_activity else "GENERAL_ACTIVITY"
    return _clean({"id": _int_id(a.id), "name": a.name, "number": a.number, "activityType": kind})


def _hours(h: Any) -> dict[str, Any]:
    return _clean(
        {
            "id": _int_id(h.id),
            "employee": _ref(h.employee_id),
            "project": _ref(h.project_id),
            "activity": _ref(h.activity_id),
            "date": h.date.isoformat(),
            "hours": float(h.hours),
            "comment": h.comment,
        }
    )
