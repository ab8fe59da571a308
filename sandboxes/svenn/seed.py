"""Seed data for the Svenn sandbox: canonical records → seed-tenant dicts, and a tiny example."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sync.entities import Customer, Employee, HourEntry, Project
from sync.records import Activity, Address


def tenant_from_dataset(dataset: Any, tenant_id: str, api_key: str) -> dict[str, Any]:
    """A seed tenant (contract shape) from a dataset of canonical records (``.employees``...)."""
    return {
        "id": tenant_id,
        "name": getattr(dataset, "name", None) or f"Tenant {tenant_id}",
        "apiKey": api_key,
        "activities": [activity_body(a) for a in getattr(dataset, "activities", [])],
        "employees": [employee_body(e) for e in getattr(dataset, "employees", [])],
        "customers": [customer_body(c) for c in getattr(dataset, "customers", [])],
        "projects": _parents_first([project_body(p) for p in getattr(dataset, "projects", [])]),
        "hours": [hours_body(h) for h in getattr(dataset, "hours", [])],
    }


def _identity(record: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if record.id is not None:
        body["id"] = str(record.id)
    if getattr(record, "version", None) is not None:
        body["version"] = record.version
    return body


def address_body(address: Address | None) -> dict[str, Any] | None:
    """Canonical address → contract address."""
    if address is None:
        return None
    return {
        "addressLine1": address.address_line1,
        "addressLine2": address.address_line2,
        "postalCode": address.postal_code,
        "city": address.city,
        "countryCode": address.country_code,
    }


def customer_body(customer: Customer) -> dict[str, Any]:
    """Canonical customer → contract customer."""
    return _identity(customer) | {
        "name": customer.name,
        "organizationNumber": customer.organization_number,
        "customerNumber": customer.customer_number,
        "email": customer.email,
        "invoiceEmail": customer.invoice_email,
        "phone": customer.phone,
        "postalAddress": address_body(customer.postal_address),
        "active": customer.is_active,
    }


def employee_body(employee: Employee) -> dict[str, Any]:
    """Canonical employee → contract employee (Svenn requires a last name)."""
    return _identity(employee) | {
        "firstName": employee.first_name,
        "lastName": employee.last_name,
        "email": employee.email,
        "phone": employee.phone,
        "employeeNumber": employee.employee_number,
        "dateOfBirth": _iso(employee.date_of_birth),
        "active": employee.is_active,
    }


def project_body(project: Project) -> dict[str, Any]:
    """Canonical project → contract project."""
    return _identity(project) | {
        "name": project.name,
        "number": project.number,
        "customerId": project.customer_id,
        "projectManagerId": project.project_manager_id,
        "parentProjectId": project.parent_project_id,
        "startDate": _iso(project.start_date),
        "endDate": _iso(project.end_date),
        "status": "closed" if project.is_closed else "active",
    }


def activity_body(activity: Activity) -> dict[str, Any]:
    """Canonical activity → contract activity (``number`` becomes ``code``)."""
    body = {"code": activity.number or activity.id or activity.name, "name": activity.name}
    return ({"id": activity.id} if activity.id else {}) | body


def hours_body(entry: HourEntry) -> dict[str, Any]:
    """Canonical hour entry → contract hours."""
    hours = entry.hours
    return _identity(entry) | {
        "employeeId": entry.employee_id,
        "projectId": entry.project_id,
        "activityId": entry.activity_id,
        "date": entry.date.isoformat(),
        "hours": int(hours) if hours == hours.to_integral_value() else float(Decimal(hours)),
        "comment": entry.comment,
        "status": entry.status,
        "approvedBy": entry.approved_by,
        "approvedAt": _iso_datetime(entry.approved_at),
    }


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _iso_datetime(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parents_first(projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order projects so that a parent is seeded before its sub-projects."""
    return sorted(projects, key=lambda p: p.get("parentProjectId") is not None)


def example_seed() -> dict[str, Any]:
    """Two small tenants for the README, quick demos and tests."""
    activities = [
        {"id": "act-normal", "code": "NORMAL", "name": "Normal time"},
        {"id": "act-ot50", "code": "OT50", "name": "Overtime 50 %"},
        {"id": "act-ot100", "code": "OT100", "name": "Overtime 100 %"},
        {"id": "act-travel", "code": "TRAVEL", "name": "Travel"},
    ]
    acme = {
        "id": "t-acme",
        "name": "Acme Bygg AS",
        "apiKey": "svenn-acme-key",
        "activities": activities,
        "employees": [
            {"id": "emp-1", "firstName": "Kari", "lastName": "Nordmann",
             "email": "kari@acmebygg.no", "employeeNumber": "1"},
            {"id": "emp-2", "firstName": "Ola", "lastName": "Hansen",
             "email": "ola@acmebygg.no", "employeeNumber": "2"},
        ],
        "customers": [
            {"id": "cus-1", "name": "Fjord Eiendom AS", "organizationNumber": "914778271",
             "customerNumber": 10001, "email": "post@fjordeiendom.no",
             "postalAddress": {"addressLine1": "Strandkaien 2", "postalCode": "5013",
                               "city": "Bergen", "countryCode": "NO"}},
        ],
        "projects": [
            {"id": "prj-1", "name": "Rehabilitering Strandkaien", "number": "P-100",
             "customerId": "cus-1", "projectManagerId": "emp-1", "startDate": "2025-01-06"},
        ],
        "hours": [
            {"id": "hrs-1", "employeeId": "emp-2", "projectId": "prj-1",
             "activityId": "act-normal", "date": "2025-01-06", "hours": 7.5,
             "status": "approved", "approvedBy": "emp-1",
             "approvedAt": "2025-01-07T08:00:00Z"},
        ],
    }  # fmt: skip
    beta = {
        "id": "t-beta",
        "name": "Beta Rør AS",
        "apiKey": "svenn-beta-key",
        "activities": activities,
        "employees": [{"id": "emp-1", "firstName": "Per", "lastName": "Berg"}],
        "customers": [{"id": "cus-1", "name": "Beta Kunde AS", "customerNumber": 1}],
    }
    return {"tenants": [acme, beta]}
