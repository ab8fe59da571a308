"""Employees: the record and its spec (a synced field is one attribute and one row here)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sync.entities.spec import DeleteRule, Endpoints, EntitySpec, FieldSpec, Kind, OnDelete
from sync.records import Entity, Record, System

_T, _S = System.TRIPLETEX, System.SVENN


class Employee(Record):
    """A person who registers hours."""

    entity: ClassVar[Entity] = Entity.EMPLOYEE

    first_name: str
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    employee_number: str | None = None
    date_of_birth: dt.date | None = None
    is_active: bool = True


EMPLOYEE = EntitySpec(
    Entity.EMPLOYEE,
    Employee,
    "employee",
    "ansatt",
    fields=(
        FieldSpec("first_name", Kind.TEXT, "firstName", "firstName"),
        # Svenn refuses a missing last name: it is left out of the body for Svenn to say so.
        FieldSpec(
            "last_name", Kind.TEXT, "lastName", "lastName", svenn_converter="omitted_when_missing"
        ),
        # Payroll owns who a person is; the field app owns how to reach them.
        FieldSpec("email", Kind.EMAIL, "email", "email", winner=_S),
        FieldSpec("phone", Kind.PHONE, "phone", "phoneNumberMobile", winner=_S),
        FieldSpec("employee_number", Kind.TEXT, "employeeNumber", "employeeNumber"),
        FieldSpec("date_of_birth", Kind.DATE, "dateOfBirth", "dateOfBirth"),
        # Tripletex has no employee flag we can write (it ends employments), so a Svenn
        # deactivation stays in Svenn.
        FieldSpec(
            "is_active",
            Kind.FLAG,
            "active",
            "employments",
            tripletex_select="employments(endDate)",
            tripletex_converter="employments_active",
            tripletex_read_only=True,
            owner=_T,
            local=True,
        ),
    ),
    # Tripletex's spec has no PUT /employee/list: employees are updated one by one.
    endpoints=Endpoints("/employee", "/employees", batch_update=False, pushed=True),
    unique_keys=(("email",), ("employee_number",), ("first_name", "last_name", "date_of_birth")),
    suite="employees_extract",
    name_fields=("first_name", "last_name"),
    number_field="employee_number",
    match_keys=("email", "employee_number", "name_birth_date"),
    on_delete={
        _T: DeleteRule(OnDelete.DEACTIVATE_IN_SVENN),
        _S: DeleteRule(
            OnDelete.LOG_ONLY,
            "Tripletex cannot delete employees: end the employment in Tripletex.",
            "Tripletex kan ikke slette ansatte: avslutt arbeidsforholdet i Tripletex.",
        ),
    },
    tripletex_create_converter="user_type",
)
