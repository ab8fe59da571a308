"""Edits as people make them in the two apps (through the sandboxes' admin endpoints).

The realtime demo, its flow tests and its benchmark change records "live" with these, then
read both sides back. Field names are each system's own (Svenn contract / Tripletex JSON).
"""

from __future__ import annotations

from typing import Any

import httpx

from sandboxes.pair import SandboxPair

SVENN_RESOURCES = {"customer": "customers", "employee": "employees", "project": "projects"}


def svenn_edit(
    pair: SandboxPair,
    entity: str,
    record_id: str | None,
    changes: dict[str, Any] | None = None,
    *,
    operation: str | None = None,
) -> dict[str, Any] | None:
    """A user's change in Svenn (``operation``: update, create, deactivate, delete)."""
    body = {
        "entity": entity,
        "id": record_id,
        "operation": operation or ("update" if record_id else "create"),
        "changes": changes or {},
    }
    response = httpx.post(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/edit", json=body)
    response.raise_for_status()
    record: dict[str, Any] | None = response.json()["record"]
    return record


def tripletex_edit(
    pair: SandboxPair,
    entity: str,
    record_id: str | int | None,
    changes: dict[str, Any] | None = None,
    *,
    delete: bool = False,
) -> dict[str, Any] | None:
    """A user's change in Tripletex (``record_id`` None creates; ``delete`` deletes)."""
    body = {
        "entity": entity,
        "id": int(record_id) if record_id is not None else None,
        "changes": changes or {},
        "delete": delete,
    }
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/edit"
    response = httpx.post(url, json=body)
    response.raise_for_status()
    if response.status_code == 204:
        return None
    value: dict[str, Any] = response.json()["value"]
    return value


def svenn_records(pair: SandboxPair, entity: str) -> dict[str, dict[str, Any]]:
    """Every record of ``entity`` in the Svenn tenant, by id (deleted ones are absent)."""
    state = httpx.get(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/state").json()
    return {r["id"]: r for r in state[SVENN_RESOURCES[entity]]}


def tripletex_records(pair: SandboxPair, entity: str) -> dict[str, dict[str, Any]]:
    """Every row of ``entity`` in the Tripletex company, by id (as strings)."""
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/state"
    return {str(r["id"]): r for r in httpx.get(url).json()[entity]}
