"""Serve a record malformed, as a buggy or changed API might: for robustness tests and demos.

``POST /_admin/mutations`` with ``{"path_prefix": "/v2/customer", "id": 101, "field": "name",
"value": 42}`` makes every later GET whose path starts with ``path_prefix`` answer the record
with that id with ``field`` set to ``value`` (any JSON; ``"remove": true`` drops the field
instead). Lists (``values`` in Tripletex, ``data`` in Svenn) and single records (``value``, or
the body itself) are mutated alike. The stored record is untouched, so writes and the rules
keep working; only what clients read is wrong. ``DELETE /_admin/mutations`` clears them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel


class Mutation(BaseModel):
    """One record to serve malformed."""

    path_prefix: str
    id: int | str
    field: str
    value: Any = None
    remove: bool = False


def install(app: FastAPI) -> None:
    """Add the mutation middleware and its ``/_admin/mutations`` endpoints to ``app``."""
    mutations: list[Mutation] = []
    app.add_middleware(MutationMiddleware, mutations=mutations)
    router = APIRouter(prefix="/_admin")

    @router.get("/mutations")
    def list_mutations() -> list[dict[str, Any]]:
        return [m.model_dump() for m in mutations]

    @router.post("/mutations", status_code=201)
    def add_mutation(mutation: Mutation) -> dict[str, Any]:
        mutations.append(mutation)
        return mutation.model_dump()

    @router.delete("/mutations", status_code=204)
    def clear_mutations() -> None:
        mutations.clear()

    app.include_router(router)


def _records(body: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(body, dict):
        return
    for key in ("values", "data"):
        if isinstance(body.get(key), list):
            yield from (r for r in body[key] if isinstance(r, dict))
    if isinstance(body.get("value"), dict):
        yield body["value"]
    if "id" in body:
        yield body


def mutate(body: Any, mutations: list[Mutation]) -> bool:
    """Apply ``mutations`` to the records in ``body``; True when something changed."""
    changed = False
    for record in list(_records(body)):
        original_id = str(record.get("id"))
        for mutation in mutations:
            if str(mutation.id) != original_id:
                continue
            if mutation.remove:
                record.pop(mutation.field, None)
            else:
                record[mutation.field] = mutation.value
            changed = True
    return changed


class MutationMiddleware:
    """Rewrites JSON answers to GETs whose path matches a mutation (pure ASGI)."""

    def __init__(self, app: Any, mutations: list[Mutation]) -> None:
        self.app = app
        self.mutations = mutations

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        wanted = [
            m
            for m in self.mutations
            if scope["type"] == "http"
            and scope["method"] == "GET"
            and not path.startswith("/_admin")
            and path.startswith(m.path_prefix)
        ]
        if not wanted:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def buffer(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if data is not None and mutate(data, wanted):
                body = json.dumps(data).encode()
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)
