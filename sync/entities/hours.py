"""Hours: the record of one registration and its spec (mapped both ways, exported, never merged)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from sync.entities.spec import Endpoints, EntitySpec, FieldSpec, Kind
from sync.records import Entity, Record

_REF = Kind.REFERENCE


HourStatus = Literal["draft", "submitted", "approved", "rejected"]


class HourEntry(Record):
    """Hours one employee registered on one date, project and activity."""

    entity: ClassVar[Entity] = Entity.HOURS
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"comment"})
    reference_fields: ClassVar[frozenset[str]] = frozenset(
        {"employee_id", "project_id", "activity_id"}
    )

    employee_id: str
    project_id: str | None = None
    activity_id: str | None = None
    date: dt.date
    hours: Decimal = Field(ge=0, le=24)
    comment: str | None = None
    status: HourStatus = "approved"
    approved_by: str | None = None
    approved_at: dt.datetime | None = None


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
    # Tripletex allows one entry per employee, date, project and activity; no events for them.
    endpoints=Endpoints("/timesheet/entry", "/hours", dated=True),
    unique_keys=(("employee_id", "date", "project_id", "activity_id"),),
    svenn_external_ref=False,
)
