"""What the connector needs to know per Tripletex entity: paths, fields, mapping, unique keys.

Unique keys are used to reconcile a create whose outcome is unknown (a timeout): the record is
looked up and matched *exactly*, client-side, because Tripletex searches are fuzzy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.tripletex import mapping as m
from sync import normalize
from sync.entities import Customer, Employee, HourEntry, Project
from sync.records import Entity, Record

JsonDict = dict[str, Any]


def _norm(value: str | None) -> str | None:
    return value.strip().lower() if value and value.strip() else None


def customer_keys(record: Customer) -> list[tuple[str, str]]:
    """Unique keys of a customer, strongest first (organisation number, number, e-mail, name)."""
    keys = [
        ("org", (record.organization_number or "").replace(" ", "")),
        ("number", str(record.customer_number or "")),
        ("email", normalize.email_form(record.email or "")),
        ("name", _norm(record.name) or ""),
    ]
    return [(k, v) for k, v in keys if v]


def employee_keys(record: Employee) -> list[tuple[str, str]]:
    """Unique keys of an employee: e-mail, employee number, then name + birth date."""
    name = f"{_norm(record.first_name)}|{_norm(record.last_name)}|{record.date_of_birth}"
    keys = [
        ("email", normalize.email_form(record.email or "")),
        ("number", (record.employee_number or "").strip()),
        ("name", name),
    ]
    return [(k, v) for k, v in keys if v]


def project_keys(record: Project) -> list[tuple[str, str]]:
    """Unique keys of a project: its number, then name + customer."""
    keys = [
        ("number", (record.number or "").strip()),
        ("name", f"{_norm(record.name)}|{record.customer_id}"),
    ]
    return [(k, v) for k, v in keys if v]


def hour_entry_keys(record: HourEntry) -> list[tuple[str, str]]:
    """Tripletex allows one entry per employee/date/project/activity: that is the key."""
    key = f"{record.employee_id}|{record.date}|{record.project_id}|{record.activity_id}"
    return [("slot", key)]


@dataclass(frozen=True)
class EntityApi:
    """Endpoints, field selection, mapping and keys for one Tripletex entity; the generic calls
    of :class:`~connectors.tripletex.client.TripletexClient` read everything they need here."""

    name: str
    entity: Entity
    path: str
    fields: str
    from_json: Callable[[Mapping[str, Any]], Record]
    to_json: Callable[[Any, bool], JsonDict]
    keys: Callable[[Any], list[tuple[str, str]]]
    list_params: Mapping[str, str] = field(default_factory=dict)
    # Lists filter on ``isInactive`` (default false, one value per read): read both states.
    inactive_filter: bool = False
    # ``id=1,2,3`` leaves closed records out (Tripletex issue #101): missing ids are read one
    # by one.
    closed_hidden_from_ids: bool = False
    # Has ``PUT <path>/list`` (employees have none in the spec: they are updated one by one).
    batch_update: bool = True
    # The fields a soft delete sets (customers go inactive, projects close); None: no such
    # thing (timesheet entries are deleted).
    deactivate_body: Mapping[str, Any] | None = None

    @property
    def batch_path(self) -> str:
        """The batch create endpoint (``POST <path>/list``)."""
        return f"{self.path}/list"


CUSTOMERS = EntityApi(
    name="customer",
    entity=Entity.CUSTOMER,
    path="/customer",
    fields=m.CUSTOMER_FIELDS,
    from_json=m.customer_from_tripletex,
    to_json=lambda r, ident: m.customer_to_tripletex(r, include_identity=ident),
    keys=customer_keys,
    inactive_filter=True,
    deactivate_body={"isInactive": True},
)
EMPLOYEES = EntityApi(
    name="employee",
    entity=Entity.EMPLOYEE,
    path="/employee",
    fields=m.EMPLOYEE_FIELDS,
    from_json=m.employee_from_tripletex,
    to_json=lambda r, ident: m.employee_to_tripletex(
        r, include_identity=ident, for_create=not ident
    ),
    keys=employee_keys,
    batch_update=False,
)
PROJECTS = EntityApi(
    name="project",
    entity=Entity.PROJECT,
    path="/project",
    fields=m.PROJECT_FIELDS,
    from_json=m.project_from_tripletex,
    to_json=lambda r, ident: m.project_to_tripletex(r, include_identity=ident),
    keys=project_keys,
    closed_hidden_from_ids=True,
    deactivate_body={"isClosed": True},
)
TIMESHEET_ENTRIES = EntityApi(
    name="timesheet_entry",
    entity=Entity.HOURS,
    path="/timesheet/entry",
    fields=m.TIMESHEET_FIELDS,
    from_json=m.hour_entry_from_tripletex,
    to_json=lambda r, ident: m.hour_entry_to_tripletex(r, include_identity=ident),
    keys=hour_entry_keys,
)

ENTITIES: dict[Entity, EntityApi] = {
    e.entity: e for e in (CUSTOMERS, EMPLOYEES, PROJECTS, TIMESHEET_ENTRIES)
}
