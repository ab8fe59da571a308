"""Shared pieces of the /v2 route handlers: context, bodies, envelopes, list responses."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from .errors import TripletexError, not_found
from .fields import NO_DIGEST, Renderer, digest, page_bounds, parse_fields, sort_rows
from .spec_rules import check_query, parse_int, parse_int_list
from .state import ENTITIES, Company, Sandbox, Session

JSON = "application/json; charset=utf-8"


@dataclass
class Call:
    """Everything a handler needs about the request it serves."""

    request: Request
    sandbox: Sandbox
    session: Session
    company: Company

    @property
    def employee_id(self) -> int | None:
        """The employee the session's token belongs to (author of changes)."""
        return self.session.employee_token.employee_id

    def renderer(self) -> Renderer:
        """A renderer for this company and host."""
        return Renderer(self.company, self.request.headers.get("host", "tripletex.no"))

    def row(self, entity: str, ident: Any) -> dict[str, Any]:
        """A row by path id, or 404 code 6000."""
        key = parse_int(ident)
        if key is None:
            raise TripletexError(400, 12000, developer_message=f"Illegal path parameter: {ident}")
        row = self.company.table(entity).get(key)
        if row is None:
            raise not_found(ENTITIES[entity][0])
        return row


def call_of(request: Request) -> Call:
    """The Call for an authenticated request (the edge middleware put the session in)."""
    sandbox: Sandbox = request.app.state.sandbox
    session: Session = request.state.session
    company = sandbox.companies.get(session.employee_token.company_id)
    if company is None:
        raise TripletexError(401, 3000, developer_message="The company no longer exists")
    route = request.scope.get("route")
    if route is not None:
        check_query(request.method, route.path, request.query_params)
    return Call(request, sandbox, session, company)


async def read_json(request: Request) -> Any:
    """The JSON body: 415 for a body that is not JSON, 422 code 22000 for malformed JSON."""
    raw = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if raw and media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise TripletexError(
            415,
            4000,
            message="Unsupported Media Type",
            developer_message=f"Content-Type {media_type} is not supported; send application/json",
        )
    try:
        return json.loads(raw or b"null")
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        raise TripletexError(422, 22000, developer_message="Invalid JSON in body") from error


def json_response(payload: Any, status: int = 200) -> Response:
    """A JSON response in Tripletex's content type."""
    body = json.dumps(payload, separators=(",", ":"), default=str, ensure_ascii=False)
    return Response(content=body.encode(), status_code=status, media_type=JSON)


def value_response(call: Call, entity: str, row: dict[str, Any], status: int = 200) -> Response:
    """``{"value": ...}`` for one row, honouring ``fields``."""
    model = ENTITIES[entity][0]
    tree = parse_fields(call.request.query_params.get("fields"), model)
    return json_response({"value": call.renderer().row(row, entity, tree)}, status)


def list_response(
    call: Call,
    entity: str,
    rows: Iterable[dict[str, Any]],
    *,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    """The list envelope with paging, fields, sorting, versionDigest and 304."""
    query = call.request.query_params
    model = ENTITIES[entity][0]
    fields_text = query.get("fields") or ""
    tree = parse_fields(fields_text, model)
    start, count = page_bounds(query)
    selected = sort_rows(list(rows), query.get("sorting"), model, call.company)
    page = selected[start : start + count]
    version_digest = NO_DIGEST
    if_none_match = call.request.headers.get("if-none-match")
    if if_none_match is not None:
        version_digest = digest(page, start, count, f"{fields_text}#{len(selected)}")
        if if_none_match.strip().strip('"') == version_digest:
            return Response(status_code=304)
    render = call.renderer()
    payload: dict[str, Any] = {
        "fullResultSize": len(selected),
        "from": start,
        "count": len(page),
        "versionDigest": version_digest,
        "values": [render.row(r, entity, tree) for r in page],
    }
    payload.update(extra or {})
    return json_response(payload, status)


def batch_response(call: Call, entity: str, rows: list[dict[str, Any]], status: int) -> Response:
    """The ListResponse a ``/list`` POST or PUT answers with (no paging)."""
    model = ENTITIES[entity][0]
    tree = parse_fields(call.request.query_params.get("fields"), model)
    render = call.renderer()
    return json_response(
        {
            "fullResultSize": len(rows),
            "from": 0,
            "count": len(rows),
            "versionDigest": NO_DIGEST,
            "values": [render.row(r, entity, tree) for r in rows],
        },
        status,
    )


def id_list(text: str | None) -> set[int] | None:
    """A comma-separated id list filter (``id=1,2,3``)."""
    if not text:
        return None
    values = parse_int_list(text)
    if values is None:
        raise TripletexError(422, 21000, developer_message=f"Illegal id list: {text}")
    return values


def flag(text: str | None) -> bool | None:
    """A boolean query parameter."""
    if text is None or text == "":
        return None
    return text.lower() == "true"
