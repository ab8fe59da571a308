"""``/_admin``: tenants, state read-back, user-like edits, feed compaction, reset."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from .api import json_response, read_body
from .problems import ProblemError
from .state import SandboxState
from .tenant import RESOURCES


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def build_admin_router() -> APIRouter:
    """The admin endpoints (no auth: the sandbox runs on localhost)."""
    router = APIRouter(prefix="/_admin")

    @router.post("/tenants")
    async def add_tenant(request: Request) -> Response:
        body = await read_body(request)
        if not isinstance(body, dict):
            raise ProblemError(400, "bad-request", "Send one tenant in seed format.")
        tenant = _state(request).add_tenant(body)
        return json_response({"id": tenant.id, "name": tenant.name}, 201)

    @router.get("/tenants/{tenant_id}/state")
    async def tenant_state(request: Request, tenant_id: str) -> Response:
        tenant = _state(request).tenant(tenant_id)
        body: dict[str, Any] = {"id": tenant.id, "name": tenant.name}
        for resource in RESOURCES:
            collection = tenant.collections[resource]
            body[resource] = [collection.records[i] for i in collection.order]
        feed = tenant.feed
        body["feed"] = {
            "head": feed.head,
            "firstRetained": feed.first_retained,
            "latestCursor": feed.cursor(feed.head),
        }
        return json_response(body)

    @router.post("/tenants/{tenant_id}/edit")
    async def edit(request: Request, tenant_id: str) -> Response:
        body = await read_body(request)
        if not isinstance(body, dict) or "entity" not in body:
            raise ProblemError(400, "bad-request", "Send {entity, id, operation, changes}.")
        record = _state(request).edit(
            tenant_id,
            str(body["entity"]),
            body.get("id"),
            str(body.get("operation") or ("update" if body.get("id") else "create")),
            body.get("changes") or {},
        )
        return json_response({"record": record})

    @router.post("/tenants/{tenant_id}/revoke-key")
    async def revoke_key(request: Request, tenant_id: str) -> Response:
        _state(request).revoke_key(tenant_id)
        return json_response({"revoked": tenant_id})

    @router.post("/tenants/{tenant_id}/feed/compact")
    async def compact(request: Request, tenant_id: str, keep: int = 0) -> Response:
        feed = _state(request).tenant(tenant_id).feed
        feed.keep_last(max(keep, 0))
        return json_response({"head": feed.head, "firstRetained": feed.first_retained})

    @router.post("/reset")
    async def reset(request: Request) -> Response:
        _state(request).reset()
        return json_response({"tenants": sorted(_state(request).tenants)})

    return router
