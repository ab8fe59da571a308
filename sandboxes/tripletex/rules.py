"""Tripletex's validation rules, each with the (Norwegian) message Tripletex gives."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .errors import FIELD_REQUIRED, NOT_NULL, TripletexError, validation_error
from .model import holder
from .state import PM_FLAG, Company

ORG_NUMBER = re.compile(r"\d{9}")
NUMBER_IN_USE = "Nummeret er allerede i bruk"
DEPARTMENT_NUMBER_IN_USE = "Nummeret er i bruk."
ORG_NUMBER_INVALID = "Organisasjonsnummeret må bestå av 9 siffer."
USER_TYPE_MISSING = 'Brukertype kan ikke være "0" eller tom.'
EMAIL_NEEDED = "Må angis for Tripletex-brukere."
EMAIL_IN_USE = "Det finnes allerede en bruker med denne e-postadressen."
NOT_FOUND = "Objektet finnes ikke."
PM_MISSING_ACCESS = "Oppgitt prosjektleder har ikke fått tilgang som prosjektleder i kontoen: {}."
ACTIVITY_NOT_ALLOWED = "Aktiviteten kan ikke benyttes."
HOURS_RANGE = "Antall timer må være mellom 0 og 24."
BEFORE_START = "Startdato for prosjektet {} er {}. Det kan ikke registreres timer før denne datoen."
DUPLICATE_HOURS = (
    "Det er allerede registrert timer på den ansatte på denne dagen, aktiviteten og prosjektet."
)
HAS_PROJECTS = "Kunden kan ikke slettes fordi den er knyttet til ett eller flere prosjekter."
HAS_HOURS = "Prosjektet kan ikke slettes fordi det er registrert timer på det."
LINK_EXISTS = "Finnes fra før."
# Sandbox wording (the real text for a locked period was not observed, FACTS §TimesheetEntry).
PERIOD_LOCKED = "Timelisten for {month} er godkjent og låst. Perioden må åpnes før timene endres."
BATCH_TOO_LARGE = "Listen kan inneholde høyst {limit} elementer."
DATE_INVALID = "Ugyldig dato."

Problems = list[tuple[str | None, str]]


def ref_id(row: dict[str, Any], name: str) -> int | None:
    """The id a reference field points at."""
    value = row.get(name)
    return value.get("id") if isinstance(value, dict) else None


def _exists(company: Company, entity: str, row: dict[str, Any], name: str, out: Problems) -> None:
    ident = ref_id(row, name)
    if ident is not None and ident not in company.table(entity):
        out.append((f"{name}.id", NOT_FOUND))


def _taken(company: Company, key: str, value: Any, own_id: int | None) -> bool:
    other = holder(company, key, value)
    return other is not None and other != own_id


def check_customer(company: Company, row: dict[str, Any], own_id: int | None) -> None:
    """name required, 9-digit organizationNumber, unique customerNumber."""
    out: Problems = []
    if not (row.get("name") or "").strip():
        out.append(("name", FIELD_REQUIRED))
    org = row.get("organizationNumber")
    if org and not ORG_NUMBER.fullmatch(org):
        out.append(("organizationNumber", ORG_NUMBER_INVALID))
    number = row.get("customerNumber")
    if number is not None and _taken(company, "customerNumber", number, own_id):
        out.append(("customerNumber", NUMBER_IN_USE))
    _exists(company, "employee", row, "accountManager", out)
    _exists(company, "department", row, "department", out)
    if out:
        raise validation_error(*out)


def check_employee(company: Company, row: dict[str, Any], own_id: int | None) -> None:
    """Names and userType required, e-mail for login users, unique e-mail and number."""
    out: Problems = []
    for name in ("firstName", "lastName"):
        if not (row.get(name) or "").strip():
            out.append((name, FIELD_REQUIRED))
    user_type = row.get("userType")
    if not user_type or user_type == "0":
        out.append(("userType", USER_TYPE_MISSING))
    email = (row.get("email") or "").strip()
    if user_type in ("STANDARD", "EXTENDED") and not email:
        out.append(("email", EMAIL_NEEDED))
    if email and _taken(company, "employee.email", email.lower(), own_id):
        out.append(("email", EMAIL_IN_USE))
    number = row.get("employeeNumber")
    if number and _taken(company, "employeeNumber", number, own_id):
        out.append(("employeeNumber", NUMBER_IN_USE))
    _exists(company, "department", row, "department", out)
    if out:
        raise validation_error(*out)


def check_department(company: Company, row: dict[str, Any], own_id: int | None) -> None:
    """name required, unique departmentNumber, the manager must exist."""
    out: Problems = []
    if not (row.get("name") or "").strip():
        out.append(("name", FIELD_REQUIRED))
    number = row.get("departmentNumber")
    if number and _taken(company, "departmentNumber", number, own_id):
        out.append(("departmentNumber", DEPARTMENT_NUMBER_IN_USE))
    _exists(company, "employee", row, "departmentManager", out)
    if out:
        raise validation_error(*out)


def may_manage_projects(company: Company, employee_id: int | None) -> bool:
    """Whether an employee has project-manager access in this company."""
    employee = company.table("employee").get(employee_id or -1)
    if employee is None:
        return False
    return bool(employee.get(PM_FLAG)) or employee_id == company.owner_id()


def check_project(
    company: Company, row: dict[str, Any], own_id: int | None, manager_changed: bool
) -> None:
    """name/projectManager/startDate required, unique number, PM access, customer exists."""
    out: Problems = []
    if not (row.get("name") or "").strip():
        out.append(("name", FIELD_REQUIRED))
    if not row.get("startDate"):
        out.append(("startDate", FIELD_REQUIRED))
    elif parse_date(row["startDate"]) is None:
        out.append(("startDate", DATE_INVALID))
    manager = ref_id(row, "projectManager")
    if manager is None:
        out.append(("projectManager", NOT_NULL))
    elif manager not in company.table("employee"):
        out.append(("projectManager.id", NOT_FOUND))
    elif manager_changed and not may_manage_projects(company, manager):
        name = company.table("employee")[manager].get("displayName", "")
        out.append(("projectManager.id", PM_MISSING_ACCESS.format(name)))
    number = row.get("number")
    if number and _taken(company, "project.number", number, own_id):
        out.append(("number", NUMBER_IN_USE))
    _exists(company, "customer", row, "customer", out)
    _exists(company, "department", row, "department", out)
    if out:
        raise validation_error(*out)


def activity_allowed(company: Company, activity_id: int, project_id: int | None) -> bool:
    """Whether hours may be registered on an activity (for a project, or without one)."""
    activity = company.table("activity").get(activity_id)
    if activity is None:
        return False
    kind = activity.get("activityType")
    if project_id is None:
        return kind == "GENERAL_ACTIVITY"
    project = company.table("project").get(project_id)
    if project is None or kind == "GENERAL_ACTIVITY":
        return False
    linked = holder(company, "projectActivity", (project_id, activity_id)) is not None
    if kind == "PROJECT_GENERAL_ACTIVITY":
        return linked or not project.get("generalProjectActivitiesPerProjectOnly", False)
    return linked


def check_timesheet_entry(company: Company, row: dict[str, Any], own_id: int | None) -> None:
    """Required fields, hours 0–24, activity allowed, project started, one entry per key."""
    out: Problems = []
    for name in ("employee", "activity"):
        if ref_id(row, name) is None:
            out.append((name, NOT_NULL))
    day = parse_date(row.get("date"))
    if row.get("date") is None:
        out.append(("date", NOT_NULL))
    elif day is None:
        out.append(("date", DATE_INVALID))
    hours = row.get("hours")
    if hours is None:
        out.append(("hours", NOT_NULL))
    elif not 0 <= hours <= 24:
        out.append(("hours", HOURS_RANGE))
    _exists(company, "employee", row, "employee", out)
    _exists(company, "project", row, "project", out)
    _exists(company, "activity", row, "activity", out)
    if out:
        raise validation_error(*out)
    project_id = ref_id(row, "project")
    if not activity_allowed(company, ref_id(row, "activity") or 0, project_id):
        raise validation_error(("activity.id", ACTIVITY_NOT_ALLOWED))
    project = company.table("project").get(project_id or -1)
    start = parse_date(project.get("startDate")) if project else None
    if project and start and day and day < start:
        raise validation_error((None, BEFORE_START.format(project["displayName"], start)))
    if company.period_locked(ref_id(row, "employee"), row["date"]):
        raise locked_error(row["date"][:7])
    key = (ref_id(row, "employee"), row["date"], ref_id(row, "activity"), project_id)
    if _taken(company, "timesheetEntry", key, own_id):
        raise TripletexError(409, 7000, message=DUPLICATE_HOURS, developer_message=DUPLICATE_HOURS)


def locked_error(month: str) -> TripletexError:
    """409 code 10000 for hours in an approved/completed month (names the month)."""
    text = PERIOD_LOCKED.format(month=month)
    return TripletexError(409, 10000, developer_message=text, validation=[("date", text)])


def check_unlocked(row: dict[str, Any]) -> None:
    """409 code 10000 when a timesheet entry is locked (approved/closed period)."""
    if row.get("locked"):
        raise locked_error(str(row.get("date", ""))[:7])


def nulled_by_put(changes: dict[str, Any]) -> dict[str, Any]:
    """PUT /timesheet/entry nulls fields that are present but empty or 0 (FACTS §6)."""
    return {
        k: (None if v == "" or (v == 0 and not isinstance(v, bool)) else v)
        for k, v in changes.items()
    }


def parse_date(text: Any) -> dt.date | None:
    """A YYYY-MM-DD date, or None."""
    if not isinstance(text, str):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
