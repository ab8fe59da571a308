"""Model field lists from the Tripletex spec, request-body mapping and row bookkeeping."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from .errors import TripletexError, unknown_field
from .spec_rules import check_field, parse_int
from .state import ENTITIES, PM_FLAG, Company, Sandbox

# model -> field -> [kind ("ref"|"list"|"string"|...), referenced model or None, readOnly]
MODEL_FIELDS: dict[str, dict[str, list[Any]]] = json.loads(
    (Path(__file__).with_name("model_fields.json")).read_text()
)
EMBEDDED_MODELS = frozenset({"Address", "DeliveryAddress"})
COMPUTED = frozenset({"url", "changes", "displayName"})
SANDBOX_FLAGS = {"employee": (PM_FLAG,), "timesheetEntry": ("locked",)}


def map_body(sandbox: Sandbox, entity: str, body: Any, *, admin: bool = False) -> dict[str, Any]:
    """Turn a request body into row fields: unknown field → 422 16000, refs → {"id": N}."""
    model = ENTITIES[entity][0]
    if not isinstance(body, dict):
        raise TripletexError(422, 16000, developer_message="Expected a JSON object")
    fields = MODEL_FIELDS[model]
    flags = SANDBOX_FLAGS.get(entity, ()) if admin else ()
    row: dict[str, Any] = {}
    for name, value in body.items():
        if name in flags:
            row[name] = bool(value)
            continue
        spec = fields.get(name)
        if spec is None:
            raise unknown_field(name)
        kind, ref, read_only = spec
        if read_only or name in COMPUTED:
            continue
        if kind == "ref":
            row[name] = _map_ref(sandbox, ref, name, value, admin)
        elif kind == "list":
            continue  # nested lists (participants, employments, ...) are not modelled
        else:
            row[name] = _checked(model, name, value)
    return row


def _checked(model: str, name: str, value: Any, prefix: str = "") -> Any:
    """The value, if the spec's rules for the field allow it (else the 422 Tripletex gives)."""
    error = check_field(model, name, value)
    if error is not None:
        error.validation = [(f"{prefix}{f}" if f else f, m) for f, m in error.validation or []]
        raise error
    return value


def _map_ref(
    sandbox: Sandbox, model: str, name: str, value: Any, admin: bool
) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TripletexError(
            422,
            16000,
            developer_message=f"Expected an object for {model}",
            validation=[(name, "Verdien har feil type: forventet objekt.")],
        )
    if model in EMBEDDED_MODELS:
        allowed = MODEL_FIELDS[model]
        for key in value:
            if key not in allowed:
                raise unknown_field(key)
        address = {
            k: _checked(model, k, v, f"{name}.")
            for k, v in value.items()
            if not allowed[k][2] and k not in COMPUTED and k not in ("id", "version")
        }
        # The server numbers the objects it creates: an id the client sends for a new
        # address is not taken (an update keeps the stored address's id, see writes.update).
        address["id"] = sandbox.new_id(value.get("id") if admin else None)
        return address
    ref_id = value.get("id")
    if ref_id is None:
        return None
    if isinstance(ref_id, bool) or parse_int(ref_id) is None:
        raise TripletexError(
            422,
            16000,
            developer_message=f"Invalid id for {model}",
            validation=[(f"{name}.id", "Verdien har feil type: forventet heltall.")],
        )
    return {"id": ref_id}


def _change(sandbox: Sandbox, company: Company, kind: str, by: int | None) -> dict[str, Any]:
    stamp = sandbox.clock()
    return {
        "employeeId": by if by is not None else (company.owner_id() or 0),
        "timestamp": stamp.isoformat(timespec="milliseconds"),
        "changeType": kind,
        "_at": stamp,
    }


def insert_row(
    sandbox: Sandbox, company: Company, entity: str, row: dict[str, Any], by: int | None = None
) -> dict[str, Any]:
    """Store a new row: id, version 0, a CREATE change."""
    fields = {k: v for k, v in row.items() if v is not None and k not in ("id", "version")}
    row = {"id": sandbox.new_id(row.get("id")), "version": 0, **fields}
    change = _change(sandbox, company, "CREATE", by)
    row["changes"] = [change]
    row["_changed"] = change["_at"]
    derive(company, entity, row)
    company.table(entity)[row["id"]] = row
    index_row(company, entity, row)
    return row


def update_row(
    sandbox: Sandbox,
    company: Company,
    entity: str,
    row: dict[str, Any],
    changes: dict[str, Any],
    by: int | None = None,
) -> dict[str, Any]:
    """Apply a partial update in place: bumps version, records an UPDATE change."""
    index_row(company, entity, row, remove=True)
    for name, value in changes.items():
        if name in ("id", "version"):
            continue
        if value is None:
            row.pop(name, None)
        else:
            row[name] = value
    row["version"] += 1
    change = _change(sandbox, company, "UPDATE", by)
    row["changes"].append(change)
    row["_changed"] = change["_at"]
    derive(company, entity, row)
    index_row(company, entity, row)
    return row


def check_version(row: dict[str, Any], body: Any) -> None:
    """409 code 8000 when the body carries a stale ``version``."""
    sent = body.get("version") if isinstance(body, dict) else None
    if sent is not None and sent != row["version"]:
        raise TripletexError(
            409,
            8000,
            developer_message=f"Object has version {row['version']}, the request had {sent}",
        )


def derive(company: Company, entity: str, row: dict[str, Any]) -> None:
    """Recompute the read-only fields Tripletex derives from the stored ones."""
    if entity == "customer":
        row["isCustomer"] = True
        row["displayName"] = row.get("name", "")
    elif entity == "employee":
        row["displayName"] = f"{row.get('firstName', '')} {row.get('lastName', '')}".strip()
        row["companyId"] = company.id
    elif entity == "project":
        row["displayName"] = f"{row.get('number', '')} {row.get('name', '')}".strip()
    elif entity == "activity":
        kind = row.setdefault("activityType", "PROJECT_GENERAL_ACTIVITY")
        row["isProjectActivity"] = kind in ("PROJECT_GENERAL_ACTIVITY", "PROJECT_SPECIFIC_ACTIVITY")
        row["isGeneral"] = kind in ("GENERAL_ACTIVITY", "PROJECT_GENERAL_ACTIVITY")
        row["isTask"] = kind == "TASK"
        row["isDisabled"] = False
        row["displayName"] = f"{row.get('number', '')} {row.get('name', '')}".strip()
    elif entity == "timesheetEntry":
        row["locked"] = bool(row.get("locked", False))
        row["chargeableHours"] = row.get("hours", 0)
        row["chargeable"] = True
    elif entity == "department":
        row["displayName"] = row.get("name", "")


def changed_at(row: dict[str, Any]) -> dt.datetime:
    """When a row last changed."""
    value: dt.datetime = row["_changed"]
    return value


def _unique_keys(entity: str, row: dict[str, Any]) -> list[tuple[str, Any]]:
    def ref(name: str) -> Any:
        value = row.get(name)
        return value.get("id") if isinstance(value, dict) else None

    keys: list[tuple[str, Any]] = []
    if entity == "customer":
        keys.append(("customerNumber", row.get("customerNumber")))
    elif entity == "employee":
        email = row.get("email")
        keys.append(("employee.email", email.lower() if email else None))
        keys.append(("employeeNumber", row.get("employeeNumber") or None))
    elif entity == "project":
        keys.append(("project.number", row.get("number") or None))
    elif entity == "projectActivity":
        keys.append(("projectActivity", (ref("project"), ref("activity"))))
    elif entity == "department":
        keys.append(("departmentNumber", row.get("departmentNumber") or None))
    elif entity == "timesheetEntry":
        key = (ref("employee"), row.get("date"), ref("activity"), ref("project"))
        keys.append(("timesheetEntry", key))
    return [(name, value) for name, value in keys if value is not None]


def index_row(company: Company, entity: str, row: dict[str, Any], *, remove: bool = False) -> None:
    """Add (or remove) a row's unique keys to the company's index."""
    for name, value in _unique_keys(entity, row):
        index = company.unique.setdefault(name, {})
        if remove:
            if index.get(value) == row["id"]:
                del index[value]
        else:
            index[value] = row["id"]


def holder(company: Company, name: str, value: Any) -> int | None:
    """The id of the row that holds a unique key value, if any."""
    return company.unique.get(name, {}).get(value)


def delete_row(company: Company, entity: str, row: dict[str, Any]) -> None:
    """Remove a row and its index entries."""
    index_row(company, entity, row, remove=True)
    company.table(entity).pop(row["id"], None)
