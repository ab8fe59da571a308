"""Projects: the record and its spec (a synced field is one attribute and one row here)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sync.entities.spec import DeleteRule, Endpoints, EntitySpec, FieldSpec, Kind, OnDelete
from sync.records import Entity, Record, System

_T, _S = System.TRIPLETEX, System.SVENN
_REF = Kind.REFERENCE


class Project(Record):
    """A project (a job, a site) that hours are registered on."""

    entity: ClassVar[Entity] = Entity.PROJECT
    reference_fields: ClassVar[frozenset[str]] = frozenset(
        {"customer_id", "project_manager_id", "parent_project_id"}
    )

    name: str
    number: str | None = None
    customer_id: str | None = None
    project_manager_id: str | None = None
    parent_project_id: str | None = None  # set for sub-projects, which are not synced
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    is_closed: bool = False
    is_internal: bool = False


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
    endpoints=Endpoints(
        "/project",
        "/projects",
        closed_hidden_from_ids=True,
        deactivate={"isClosed": True},
        pushed=True,
    ),
    unique_keys=(("number",), ("name", "customer_id")),
    suite="projects_extract",
    name_fields=("name",),
    number_field="number",
    match_keys=("number", "name_customer"),
    on_delete={
        _T: DeleteRule(OnDelete.CLOSE_IN_SVENN),
        _S: DeleteRule(OnDelete.CLOSE_IN_TRIPLETEX),
    },
)
