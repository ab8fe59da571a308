"""Employments (``/employee/employment``): an employee's start and end dates.

Tripletex has no "inactive" flag on employees: a person leaves when their employment gets an
``endDate``. Assumptions (not observed on the real API, see the sandbox README): a write to an
employment changes its employee's ``version`` (the employee's ``employments`` list is part of
the employee), so a poll of employees by ``id,version`` sees it; divisions are not modelled.
"""

from __future__ import annotations

from typing import Any

from .errors import FIELD_REQUIRED, validation_error
from .model import update_row
from .rules import NOT_FOUND, Problems, parse_date, ref_id
from .state import Company, Sandbox

NEEDS_BIRTH_DATE = "Den ansatte må ha fødselsdato før et arbeidsforhold kan registreres."
END_BEFORE_START = "Sluttdato kan ikke være før startdato."
SHOWN = ("id", "version", "employee", "employmentId", "startDate", "endDate")


def check_employment(company: Company, row: dict[str, Any]) -> None:
    """employee and startDate required; the employee exists and has a birth date; the end is
    not before the start (the 422s Tripletex answers)."""
    out: Problems = []
    employee_id = ref_id(row, "employee")
    employee = company.table("employee").get(employee_id) if employee_id is not None else None
    if employee_id is None:
        out.append(("employee", FIELD_REQUIRED))
    elif employee is None:
        out.append(("employee.id", NOT_FOUND))
    elif not employee.get("dateOfBirth"):
        out.append(("employee.dateOfBirth", NEEDS_BIRTH_DATE))
    start, end = parse_date(row.get("startDate")), parse_date(row.get("endDate"))
    if start is None:
        out.append(("startDate", FIELD_REQUIRED))
    if start is not None and end is not None and end < start:
        out.append(("endDate", END_BEFORE_START))
    if out:
        raise validation_error(*out)


def employment_changed(
    sandbox: Sandbox, company: Company, employment: dict[str, Any], by: int | None
) -> None:
    """The employee's ``employments`` list now shows the change, and its version moves."""
    employee_id = ref_id(employment, "employee")
    employee = company.table("employee").get(employee_id) if employee_id is not None else None
    if employee is None:
        return
    mine = [
        {k: row[k] for k in SHOWN if row.get(k) is not None}
        for row in sorted(company.table("employment").values(), key=lambda r: r["id"])
        if ref_id(row, "employee") == employee_id
    ]
    update_row(sandbox, company, "employee", employee, {"employments": mine}, by)
