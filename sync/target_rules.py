"""What the target system would refuse, decided before anything is sent (pure).

Used twice: by the plan preview (so the approver sees these failures) and by the apply step
(so no request is spent on a record that must be refused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync import normalize
from sync.entities import SPECS, Customer, Employee, Kind, Project
from sync.plan import PlannedFailure, failure_for
from sync.records import Direction, Record
from sync.rules import ReasonCode


@dataclass(frozen=True)
class TargetFacts:
    """What we know of the target: values in use, id maps, who may manage projects."""

    existing: Sequence[Record] = ()
    customers: Mapping[str, str] = field(default_factory=dict)  # source id → target id
    employees: Mapping[str, str] = field(default_factory=dict)
    fallback_manager: str | None = None  # Tripletex: the key's own user
    project_managers: frozenset[str] | None = None  # Tripletex: who may manage projects


def record_keys(record: Record) -> list[tuple[str, str]]:
    """The values that must be unique in the target system, as (key, normalised value)."""
    keys: list[tuple[str, str | None]] = []
    if isinstance(record, Customer):
        number = record.customer_number
        keys.append(("customer number", str(number) if number is not None else None))
    elif isinstance(record, Employee):
        keys.append(("e-mail", normalize.email_form(record.email) if record.email else None))
        keys.append(("employee number", record.employee_number))
    elif isinstance(record, Project):
        keys.append(("project number", record.number))
    return [(k, v) for k, v in keys if v]


def keys_in_use(records: Sequence[Record]) -> dict[str, set[str]]:
    """Every unique value already taken in the target, by key."""
    taken: dict[str, set[str]] = {}
    for record in records:
        for key, value in record_keys(record):
            taken.setdefault(key, set()).add(value)
    return taken


def clean_for_write(record: Record) -> Record:
    """A copy to create on the other side: no id, formatting of keys cleaned up."""
    update: dict[str, Any] = {"id": None, "version": None}
    for row in SPECS[record.entity].fields:
        value = getattr(record, row.name)
        if value and row.kind is Kind.EMAIL:
            update[row.name] = normalize.email_form(value)
        elif value and row.kind is Kind.ORG_NUMBER:
            update[row.name] = normalize.org_number_digits(value)
    return record.model_copy(update=update)


def prepare_creates(
    records: Sequence[Record], direction: Direction, facts: TargetFacts
) -> tuple[list[tuple[Record, Record]], list[PlannedFailure]]:
    """Pair each record with the copy to create in the target, or say why the target would refuse.

    Checks: a unique value already used there (``KEY_IN_USE``), a project whose customer or
    manager has no counterpart, and (Tripletex) a manager who may not manage projects.
    """
    in_use = keys_in_use(facts.existing)
    ready: list[tuple[Record, Record]] = []
    failures: list[PlannedFailure] = []
    for record in records:
        target = (
            _project_for_target(record, direction, facts)
            if isinstance(record, Project)
            else clean_for_write(record)
        )
        if isinstance(target, PlannedFailure):
            failures.append(target)
            continue
        clash = next(((k, v) for k, v in record_keys(target) if v in in_use.get(k, ())), None)
        if clash:
            failures.append(
                failure_for(record, direction, ReasonCode.KEY_IN_USE, key=clash[0], value=clash[1])
            )
            continue
        ready.append((record, target))
    return ready, failures


def _project_for_target(
    record: Project, direction: Direction, facts: TargetFacts
) -> Record | PlannedFailure:
    """The project with customer and manager pointing into the target, or why it cannot be."""
    customer = facts.customers.get(record.customer_id) if record.customer_id else None
    manager = facts.employees.get(record.project_manager_id) if record.project_manager_id else None
    if record.customer_id and customer is None:
        return failure_for(record, direction, ReasonCode.PROJECT_CUSTOMER_NOT_LINKED)
    if record.project_manager_id and manager is None:
        return failure_for(record, direction, ReasonCode.PROJECT_MANAGER_NOT_LINKED)
    if direction is Direction.SVENN_TO_TRIPLETEX:
        manager = manager or facts.fallback_manager  # Tripletex needs a project manager
        if facts.project_managers is not None and manager not in facts.project_managers:
            return failure_for(record, direction, ReasonCode.PROJECT_MANAGER_NO_ACCESS)
    return clean_for_write(record).model_copy(
        update={"customer_id": customer, "project_manager_id": manager, "parent_project_id": None}
    )
