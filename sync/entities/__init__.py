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

from sync.entities.customer import CUSTOMER, Customer
from sync.entities.employee import EMPLOYEE, Employee
from sync.entities.hours import HOURS, HourEntry, HourStatus
from sync.entities.project import PROJECT, Project
from sync.entities.spec import DeleteRule, Endpoints, EntitySpec, FieldSpec, Kind, OnDelete
from sync.records import Entity, Record, System

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
RECORD_TYPES: dict[Entity, type[Record]] = {s.entity: s.record for s in SPECS.values()}
"""The record type of each entity."""
SUITES: dict[Entity, str] = {s.entity: s.suite for s in SPECS.values() if s.suite}

__all__ = [
    "CUSTOMER",
    "EMPLOYEE",
    "HOURS",
    "LABELS_EN",
    "LABELS_NO",
    "ON_DELETE",
    "PROJECT",
    "RECORD_TYPES",
    "SPECS",
    "SUITES",
    "Customer",
    "DeleteRule",
    "Employee",
    "Endpoints",
    "EntitySpec",
    "FieldSpec",
    "HourEntry",
    "HourStatus",
    "Kind",
    "OnDelete",
    "Project",
    "field_kind",
    "spec_of",
]
