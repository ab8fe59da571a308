"""Canonical records: the fields we sync, in one shape for both systems.

Each connector maps its vendor JSON to and from these records. ``id`` and ``version`` belong
to the system the record was read from (or ``None`` before it is created there); references to
other records (``customer_id``, ``project_manager_id``, ...) are ids *in that same system*.
The sync layer translates references across systems through links.

The fingerprint covers only synced fields, never ``id``/``version``/references, so that an
echo of our own write is recognisable on the other side.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sync.normalize import without_controls


class Entity(StrEnum):
    """The kinds of record we sync, in the order the initial sync handles them."""

    EMPLOYEE = "employee"
    CUSTOMER = "customer"
    PROJECT = "project"
    HOURS = "hours"


class System(StrEnum):
    """The two systems we keep in sync."""

    SVENN = "svenn"
    TRIPLETEX = "tripletex"


class Direction(StrEnum):
    """Which way a record was travelling."""

    TRIPLETEX_TO_SVENN = "tripletex_to_svenn"
    SVENN_TO_TRIPLETEX = "svenn_to_tripletex"


class CleanText(BaseModel):
    """Text fields hold no control characters (NUL, ESC, ...), whichever system sent them.

    Tabs and line breaks become a space except in ``multiline_fields``. See
    :func:`sync.normalize.without_controls`.
    """

    multiline_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _without_controls(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            return without_controls(value, multiline=info.field_name in cls.multiline_fields)
        return value


class Address(CleanText):
    """A postal address as both systems hold it."""

    model_config = ConfigDict(frozen=True)

    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country_code: str | None = None  # ISO 3166-1 alpha-2, e.g. "NO"


class Record(CleanText):
    """Base of every canonical record: the id and version on its own system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: ClassVar[Entity]
    # Fields that are not "content": excluded from the fingerprint and from field merges.
    identity_fields: ClassVar[frozenset[str]] = frozenset({"id", "version"})
    # Fields that point at other records on the same system (translated through links).
    reference_fields: ClassVar[frozenset[str]] = frozenset()

    id: str | None = None
    version: int | None = None

    def synced_fields(self) -> dict[str, Any]:
        """The content fields as JSON-safe values (no id, version or references)."""
        skip = self.identity_fields | self.reference_fields
        data = self.model_dump(mode="json", exclude=set(skip))
        return data

    def fingerprint(self) -> str:
        """Stable hash of the synced fields: equal content gives an equal fingerprint."""
        payload = json.dumps(self.synced_fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


class Customer(Record):
    """A customer (a company or a private person) that work is done for."""

    entity: ClassVar[Entity] = Entity.CUSTOMER

    name: str
    organization_number: str | None = None
    # Svenn allows free-text numbers; only numeric ones sync (see sync.rules), so a
    # non-numeric value is kept as a string for the rule to report. Digits become int.
    customer_number: int | str | None = None
    email: str | None = None
    invoice_email: str | None = None
    phone: str | None = None
    postal_address: Address | None = None
    is_active: bool = True

    @field_validator("customer_number", mode="before")
    @classmethod
    def _digits_as_int(cls, value: Any) -> Any:
        """Store "123" as 123 so both systems fingerprint the same number alike."""
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return value


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


class Activity(CleanText):
    """What hours are registered as (normal time, overtime, travel...). Read-only for sync."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | None = None
    name: str
    number: str | None = None
    is_project_activity: bool = True


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


RECORD_TYPES: dict[Entity, type[Record]] = {
    Entity.EMPLOYEE: Employee,
    Entity.CUSTOMER: Customer,
    Entity.PROJECT: Project,
    Entity.HOURS: HourEntry,
}

SYNC_ORDER: tuple[Entity, ...] = (Entity.EMPLOYEE, Entity.CUSTOMER, Entity.PROJECT)
