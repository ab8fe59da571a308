"""One declared spec per entity: what the integration knows about each kind of record.

A spec names the canonical record type, how the tenant calls the entity (English and
Norwegian), the expectation suite its extracts run through, its match keys in order, what a
delete on either side does, and one :class:`FieldSpec` row per field: the canonical name, the
Svenn and Tripletex names, the field's :class:`Kind` (which picks how values are compared and
cleaned), who wins a same-field conflict and which system owns it.

Everything that used to be written out per entity is derived from these rows: the synced
fields and the precedence of :mod:`sync.merge`, the comparison and cleaning of values, both
connectors' mappers (both ways), Tripletex's ``fields=`` selections and Svenn's field tables.
A special case a vendor models differently (Tripletex's employee status read from its
employments, Svenn's project ``status``) is a *named converter*: the row names it, the
connector's mapping module implements it. So adding a synced field is one row here plus the
vendor sandboxes' support of it (see CONTRIBUTING.md, "How to add a field").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sync.records import Customer, Employee, Entity, HourEntry, Project, Record, System


class Kind(StrEnum):
    """What a field holds; it picks the normaliser (``comparable``) and the cleaner."""

    TEXT = "text"
    EMAIL = "e-mail"
    PHONE = "phone"
    ORG_NUMBER = "org number"
    CUSTOMER_NUMBER = "customer number"
    DATE = "date"
    DATETIME = "date and time"
    NUMBER = "number"
    ADDRESS = "address"
    REFERENCE = "reference"
    FLAG = "flag"
    CHOICE = "choice"


class OnDelete(StrEnum):
    """What a delete on one side does to the other side."""

    DEACTIVATE_IN_SVENN = "deactivate in Svenn"
    CLOSE_IN_SVENN = "close in Svenn"
    CLOSE_IN_TRIPLETEX = "close in Tripletex"
    LOG_ONLY = "log for the tenant, change nothing"


@dataclass(frozen=True)
class DeleteRule:
    """The rule for a record deleted (gone) in one system; the link is dropped after."""

    action: OnDelete
    advice_en: str = ""
    advice_no: str = ""


@dataclass(frozen=True)
class FieldSpec:
    """One field of an entity, as both systems name it.

    ``svenn``/``tripletex`` are the vendor's field names (``None``: that system does not hold
    it); ``tripletex_select`` is the ``fields=`` selection when it differs from the name (a
    nested object). ``svenn_converter``/``tripletex_converter`` name a special case the
    connector's mapping module implements (read and write), instead of the kind's default.
    ``synced``: merged and kept equal by the realtime sync (else mapped only). ``winner``
    overrides the entity's default winner of a same-field conflict; ``owner`` is the only
    system whose changes travel (the other's are put back, or stay there when ``local``).
    ``*_read_only``: the connector reads it but never writes it to that system. ``required``:
    a vendor record without it is malformed.
    """

    name: str
    kind: Kind
    svenn: str | None
    tripletex: str | None
    tripletex_select: str | None = None
    svenn_converter: str | None = None
    tripletex_converter: str | None = None
    synced: bool = True
    winner: System | None = None
    owner: System | None = None
    local: bool = False
    svenn_read_only: bool = False
    tripletex_read_only: bool = False
    required: bool = False

    def travels_to(self, system: System) -> bool:
        """True when a change made in the other system is written to ``system``."""
        if not self.synced:
            return False
        return self.owner is None or self.owner is not system


@dataclass(frozen=True)
class EntitySpec:
    """Everything declared about one entity; see the module docstring.

    ``label_en``/``label_no`` name the entity for ops and the tenant; ``name_fields`` and
    ``number_field`` name a record the way the tenant recognises it (the failed-record log);
    ``suite`` is the expectation suite its extracts run through; ``match_keys`` are the keys
    the initial sync matches on, strongest first (implemented in :mod:`sync.keys`);
    ``on_delete`` says what a delete in each system does to the other side.
    """

    entity: Entity
    record: type[Record]
    label_en: str
    label_no: str
    fields: tuple[FieldSpec, ...]
    winner: System = System.TRIPLETEX
    suite: str | None = None
    match_keys: tuple[str, ...] = ()
    on_delete: Mapping[System, DeleteRule] = field(default_factory=dict)
    name_fields: tuple[str, ...] = ()
    number_field: str | None = None
    tripletex_create_converter: str | None = None
    svenn_external_ref: bool = True

    def field(self, name: str) -> FieldSpec:
        """The row of field ``name`` (KeyError when the entity has none)."""
        for row in self.fields:
            if row.name == name:
                return row
        raise KeyError(f"{self.entity.value} has no field {name!r}")

    @property
    def synced_fields(self) -> tuple[str, ...]:
        """The fields the realtime sync keeps equal, in row order."""
        return tuple(f.name for f in self.fields if f.synced)


_T, _S = System.TRIPLETEX, System.SVENN
_REF = Kind.REFERENCE

CUSTOMER = EntitySpec(
    Entity.CUSTOMER,
    Customer,
    "customer",
    "kunde",
    fields=(
        FieldSpec("name", Kind.TEXT, "name", "name"),
        FieldSpec(
            "organization_number", Kind.ORG_NUMBER, "organizationNumber", "organizationNumber"
        ),
        FieldSpec(
            "customer_number",
            Kind.CUSTOMER_NUMBER,
            "customerNumber",
            "customerNumber",
            svenn_converter="numeric_customer_number",
            tripletex_converter="customer_number",
        ),
        FieldSpec("email", Kind.EMAIL, "email", "email"),
        FieldSpec("invoice_email", Kind.EMAIL, "invoiceEmail", "invoiceEmail"),
        FieldSpec("phone", Kind.PHONE, "phone", "phoneNumber"),
        # Accounting owns the customer register; only Tripletex inactivates (Svenn's rule).
        FieldSpec(
            "is_active", Kind.FLAG, "active", "isInactive", tripletex_converter="inverted", owner=_T
        ),
        FieldSpec(
            "postal_address",
            Kind.ADDRESS,
            "postalAddress",
            "postalAddress",
            tripletex_select="postalAddress(id,addressLine1,addressLine2,postalCode,city,country(id))",
        ),
    ),
    suite="customers_extract",
    name_fields=("name",),
    number_field="customer_number",
    match_keys=("org_number", "customer_number", "email", "name_postcode"),
    on_delete={
        _T: DeleteRule(OnDelete.DEACTIVATE_IN_SVENN),
        _S: DeleteRule(
            OnDelete.LOG_ONLY,
            "only Tripletex inactivates customers: inactivate it in Tripletex if it is no longer "
            "a customer.",
            "bare Tripletex kan inaktivere kunder: inaktiver den i Tripletex om den ikke lenger "
            "er kunde.",
        ),
    },
)

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

PROJECT = EntitySpec(
    Entity.PROJECT,
    Project,
    "project",
    "prosjekt",
    fields=(
        FieldSpec("name", Kind.TEXT, "name", "name"),
        FieldSpec("number", Kind.TEXT, "number", "number", tripletex_converter="kept_when_missing"),
        FieldSpec("customer_id", _REF, "customerId", "customer", synced=False),
        FieldSpec("project_manager_id", _REF, "projectManagerId", "projectManager", synced=False),
        # Sub-projects are not synced; the reference is read to recognise them.
        FieldSpec("parent_project_id", _REF, "parentProjectId", "mainProject", synced=False),
        FieldSpec("start_date", Kind.DATE, "startDate", "startDate"),
        FieldSpec("end_date", Kind.DATE, "endDate", "endDate"),
        FieldSpec("is_closed", Kind.FLAG, "status", "isClosed", svenn_converter="project_status"),
        # Svenn has no internal projects: read as False there, never written.
        FieldSpec("is_internal", Kind.FLAG, None, "isInternal", synced=False),
    ),
    suite="projects_extract",
    name_fields=("name",),
    number_field="number",
    match_keys=("number", "name_customer"),
    on_delete={
        _T: DeleteRule(OnDelete.CLOSE_IN_SVENN),
        _S: DeleteRule(OnDelete.CLOSE_IN_TRIPLETEX),
    },
)

HOURS = EntitySpec(
    Entity.HOURS,
    HourEntry,
    "hours",
    "timer",
    fields=(
        FieldSpec("employee_id", _REF, "employeeId", "employee", synced=False, required=True),
        FieldSpec("project_id", _REF, "projectId", "project", synced=False),
        FieldSpec("activity_id", _REF, "activityId", "activity", synced=False),
        FieldSpec("date", Kind.DATE, "date", "date", synced=False, required=True),
        FieldSpec(
            "hours",
            Kind.NUMBER,
            "hours",
            "hours",
            svenn_converter="hours",
            synced=False,
            required=True,
        ),
        FieldSpec("comment", Kind.TEXT, "comment", "comment", synced=False),
        # Tripletex entries carry no approval state: only approved hours are exported.
        FieldSpec(
            "status", Kind.CHOICE, "status", None, svenn_converter="hour_status", synced=False
        ),
        FieldSpec("approved_by", _REF, "approvedBy", None, synced=False, svenn_read_only=True),
        FieldSpec(
            "approved_at", Kind.DATETIME, "approvedAt", None, synced=False, svenn_read_only=True
        ),
    ),
    svenn_external_ref=False,
)

SPECS: dict[Entity, EntitySpec] = {s.entity: s for s in (EMPLOYEE, CUSTOMER, PROJECT, HOURS)}
"""Every entity's spec, in the order the initial sync handles them."""


def spec_of(entity: Entity) -> EntitySpec:
    """The spec of ``entity``."""
    return SPECS[entity]


def field_kind(entity: Entity, name: str) -> Kind:
    """The kind of field ``name`` of ``entity``."""
    return SPECS[entity].field(name).kind


ON_DELETE: dict[tuple[Entity, System], DeleteRule] = {
    (spec.entity, system): rule
    for spec in SPECS.values()
    for system, rule in spec.on_delete.items()
}
"""Per entity and the system a record was deleted in: what happens on the other side."""

LABELS_EN: dict[Entity, str] = {s.entity: s.label_en for s in SPECS.values()}
LABELS_NO: dict[Entity, str] = {s.entity: s.label_no for s in SPECS.values()}
SUITES: dict[Entity, str] = {s.entity: s.suite for s in SPECS.values() if s.suite}

__all__ = [
    "CUSTOMER",
    "EMPLOYEE",
    "HOURS",
    "LABELS_EN",
    "LABELS_NO",
    "ON_DELETE",
    "PROJECT",
    "SPECS",
    "SUITES",
    "DeleteRule",
    "EntitySpec",
    "FieldSpec",
    "Kind",
    "OnDelete",
    "field_kind",
    "spec_of",
]
