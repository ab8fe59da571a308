"""Create, update and delete with Tripletex's rules; batches are all-or-nothing."""

from __future__ import annotations

from typing import Any

from . import rules
from .employments import check_employment, employment_changed
from .errors import TripletexError
from .model import (
    EMBEDDED_MODELS,
    MODEL_FIELDS,
    check_version,
    delete_row,
    index_row,
    insert_row,
    map_body,
    update_row,
)
from .state import ENTITIES, Company, Sandbox


def _validate(
    company: Company, entity: str, row: dict[str, Any], own_id: int | None, changed: set[str]
) -> None:
    if entity == "customer":
        rules.check_customer(company, row, own_id)
    elif entity == "employee":
        rules.check_employee(company, row, own_id)
    elif entity == "project":
        rules.check_project(company, row, own_id, "projectManager" in changed)
    elif entity == "timesheetEntry":
        rules.check_timesheet_entry(company, row, own_id)
    elif entity == "department":
        rules.check_department(company, row, own_id)
    elif entity == "employment":
        check_employment(company, row)


def _assign_numbers(company: Company, entity: str, row: dict[str, Any]) -> None:
    """Tripletex numbers customers and projects itself when no number is given."""
    if entity == "customer" and row.get("customerNumber") is None:
        row["customerNumber"] = _next_number(company, "customerNumber", 10_000, int)
    elif entity == "project" and not row.get("number"):
        row["number"] = str(_next_number(company, "project.number", 0, str))


def _next_number(company: Company, key: str, floor: int, kind: type) -> int:
    taken = company.unique.get(key, {})
    number = company.counters.get(key)
    if number is None:
        numeric = [int(n) for n in taken if str(n).isdigit()]
        number = max(numeric, default=floor)
    number += 1
    while kind(number) in taken:
        number += 1
    company.counters[key] = number
    return number


def create(
    sandbox: Sandbox,
    company: Company,
    entity: str,
    body: Any,
    by: int | None,
    *,
    admin: bool = False,
) -> dict[str, Any]:
    """Validate and store one new object from a request body."""
    row = map_body(sandbox, entity, body, admin=admin)
    row.pop("version", None)
    if not admin:
        row.pop("id", None)
    row = {k: v for k, v in row.items() if v is not None}
    _assign_numbers(company, entity, row)
    _validate(company, entity, row, None, set(row))
    row = insert_row(sandbox, company, entity, row, by)
    if entity == "employment":
        employment_changed(sandbox, company, row, by)
    return row


def update(
    sandbox: Sandbox,
    company: Company,
    entity: str,
    row: dict[str, Any],
    body: Any,
    by: int | None,
    *,
    admin: bool = False,
) -> dict[str, Any]:
    """Validate and apply a partial update (only the fields sent change)."""
    changes = map_body(sandbox, entity, body, admin=admin)
    _keep_embedded_ids(entity, row, changes)
    if not admin:
        check_version(row, body)
        if entity == "timesheetEntry":
            rules.check_unlocked(row)
            changes = rules.nulled_by_put(changes)
    merged = {**row, **changes}
    candidate = {k: v for k, v in merged.items() if v is not None}
    _validate(company, entity, candidate, row["id"], set(changes))
    row = update_row(sandbox, company, entity, row, changes, by)
    if entity == "employment":
        employment_changed(sandbox, company, row, by)
    return row


def _keep_embedded_ids(entity: str, row: dict[str, Any], changes: dict[str, Any]) -> None:
    """An address sent on update changes the stored address: it keeps the stored id."""
    fields = MODEL_FIELDS[ENTITIES[entity][0]]
    for name, value in changes.items():
        stored = row.get(name)
        embedded = fields.get(name, [None, None])[1] in EMBEDDED_MODELS
        if embedded and isinstance(value, dict) and isinstance(stored, dict) and "id" in stored:
            value["id"] = stored["id"]


def delete(company: Company, entity: str, row: dict[str, Any], *, admin: bool = False) -> None:
    """Delete a row unless Tripletex would refuse it."""
    projects = company.table("project").values()
    if (
        entity == "customer"
        and not admin
        and any(rules.ref_id(p, "customer") == row["id"] for p in projects)
    ):
        raise rules.validation_error(("Internt felt (id)", rules.HAS_PROJECTS))
    if entity == "project" and not admin:
        entries = company.table("timesheetEntry").values()
        if any(rules.ref_id(e, "project") == row["id"] for e in entries):
            raise rules.validation_error(("Internt felt (id)", rules.HAS_HOURS))
    if entity == "timesheetEntry" and not admin:
        rules.check_unlocked(row)
    delete_row(company, entity, row)


def create_many(
    sandbox: Sandbox, company: Company, entity: str, body: Any, by: int | None
) -> list[dict[str, Any]]:
    """``POST /<entity>/list``: every object or none (errors carry the item index)."""
    items = _as_list(body, sandbox.max_batch)
    done: list[dict[str, Any]] = []
    try:
        for index, item in enumerate(items):
            try:
                done.append(create(sandbox, company, entity, item, by))
            except TripletexError as error:
                error.path_prefix = f"[{index}]."
                raise
    except TripletexError:
        for row in done:
            delete_row(company, entity, row)
        raise
    return done


def update_many(
    sandbox: Sandbox, company: Company, entity: str, body: Any, by: int | None
) -> list[dict[str, Any]]:
    """``PUT /<entity>/list``: items need an ``id``; every update or none."""
    items = _as_list(body, sandbox.max_batch)
    saved: list[tuple[dict[str, Any], dict[str, Any]]] = []
    done: list[dict[str, Any]] = []
    try:
        for index, item in enumerate(items):
            try:
                ident = item.get("id") if isinstance(item, dict) else None
                row = company.table(entity).get(ident) if isinstance(ident, int) else None
                if row is None:
                    raise TripletexError(404, 6000, developer_message=f"Object {ident} not found")
                saved.append((row, {**row, "changes": list(row["changes"])}))
                done.append(update(sandbox, company, entity, row, item, by))
            except TripletexError as error:
                error.path_prefix = f"[{index}]."
                raise
    except TripletexError:
        for row, snapshot in reversed(saved):
            index_row(company, entity, row, remove=True)
            row.clear()
            row.update(snapshot)
            index_row(company, entity, row)
        raise
    return done


def _as_list(body: Any, limit: int) -> list[Any]:
    if not isinstance(body, list):
        raise TripletexError(422, 16000, developer_message="Expected a JSON array")
    if len(body) > limit:
        text = rules.BATCH_TOO_LARGE.format(limit=limit)
        raise TripletexError(422, 15000, developer_message=text, validation=[(None, text)])
    return body
