"""The Svenn API (``/api/v1``) as the contract in ``connectors/svenn/openapi.json`` describes it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from .problems import ProblemError, field_error
from .state import SandboxState
from .store import Record
from .tenant import Tenant

CONTRACT = Path(__file__).resolve().parents[2] / "connectors" / "svenn" / "openapi.json"
MAX_IDS = 1000
MAX_BATCH = 500


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response without FastAPI's encoder (records are already JSON-safe)."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content, status, headers=headers, media_type="application/json")


def record_response(record: Record, status: int = 200, location: str | None = None) -> Response:
    """One record with its ETag (and Location after a create)."""
    headers = {"ETag": f'"{record["version"]}"'}
    if location:
        headers["Location"] = location
    return json_response(record, status, headers)


def bearer_key(request: Request) -> str | None:
    """The API key from ``Authorization: Bearer <key>``, if present."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def _tenant(request: Request) -> Tenant:
    state: SandboxState = request.app.state.sandbox
    tenant = state.tenant_for_key(bearer_key(request))
    if tenant is None:
        raise ProblemError(
            401, "unauthorized", "Missing or unknown API key: send Authorization: Bearer <key>."
        )
    return tenant


# -- query parameters ------------------------------------------------------------------------
def _limit(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number")
    number = int(value)
    if not 1 <= number <= 1000:
        raise ValueError("must be between 1 and 1000")
    return number


def _bool(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


def _date(value: str) -> str:
    dt.date.fromisoformat(value)
    return value


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return parse


PAGING: dict[str, Callable[[str], Any]] = {"limit": _limit, "after": str, "ids": str}
FILTERS: dict[str, dict[str, Callable[[str], Any]]] = {
    "customers": {"active": _bool, "externalRef": str},
    "employees": {"active": _bool, "externalRef": str, "email": str},
    "projects": {"externalRef": str, "status": _choice("active", "closed"), "customerId": str},
    "activities": {"active": _bool},
    "hours": {
        "status": _choice("draft", "submitted", "approved", "rejected"),
        "dateFrom": _date,
        "dateTo": _date,
        "employeeId": str,
        "projectId": str,
    },
}


def parse_query(request: Request, allowed: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
    """Typed query parameters; unknown or malformed ones are a 400 problem."""
    values: dict[str, Any] = {}
    errors = []
    for name, raw in request.query_params.items():
        parser = allowed.get(name)
        if parser is None:
            errors.append(field_error(name, "is not a known query parameter", "unknown_field"))
            continue
        try:
            values[name] = parser(raw)
        except ValueError as error:
            errors.append(field_error(name, str(error) or "is malformed", "invalid"))
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ProblemError(400, "bad-request", detail, errors)
    return values


def _check(name: str, value: Any) -> Callable[[Record], bool]:
    """One list filter as a predicate on a record."""
    if name == "email":
        wanted = value.casefold()
        return lambda record: str(record["email"] or "").casefold() == wanted
    if name == "dateFrom":
        return lambda record: bool(record["date"] >= value)
    if name == "dateTo":
        return lambda record: bool(record["date"] <= value)
    return lambda record: bool(record[name] == value)


def _filter(query: dict[str, Any]) -> Callable[[Record], bool] | None:
    checks = [_check(name, value) for name, value in query.items() if name not in PAGING]
    if not checks:
        return None
    return lambda record: all(check(record) for check in checks)


def list_records(request: Request, resource: str) -> Response:
    """``GET /{resource}``: a page in id order."""
    tenant = _tenant(request)
    query = parse_query(request, PAGING | FILTERS[resource])
    ids = [i for i in query.get("ids", "").split(",") if i] if "ids" in query else None
    if ids is not None and len(ids) > MAX_IDS:
        raise ProblemError(400, "bad-request", f"At most {MAX_IDS} ids per request.")
    data, cursor = tenant.collections[resource].page(
        query.get("after"), query.get("limit", 100), _filter(query), ids
    )
    return json_response({"data": data, "next": cursor})


async def read_body(request: Request) -> Any:
    """The JSON body, or a 400 problem."""
    try:
        return json.loads(await request.body() or b"null")
    except RecursionError as error:
        raise ProblemError(400, "bad-request", "The body is nested too deeply.") from error
    except ValueError as error:
        raise ProblemError(400, "bad-request", f"The body is not valid JSON: {error}") from error


def if_match(request: Request, required: bool) -> int | None:
    """The version in If-Match (``3``, ``"3"`` or ``W/"3"``); 428 when required and missing."""
    raw = request.headers.get("if-match")
    if raw is None:
        if required:
            raise ProblemError(
                428,
                "precondition-required",
                "Send If-Match with the version you read (the ETag), to avoid lost updates.",
            )
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ProblemError(400, "bad-request", 'If-Match must be a version number, e.g. "3".')
    return int(text)


def build_router() -> APIRouter:
    """Every ``/api/v1`` route."""
    router = APIRouter(prefix="/api/v1")
    contract = json.loads(CONTRACT.read_text())

    @router.get("/openapi.json", include_in_schema=False)
    async def get_contract() -> Response:
        return json_response(contract)

    @router.get("/me")
    async def me(request: Request) -> Response:
        tenant = _tenant(request)
        return json_response({"id": tenant.id, "name": tenant.name})

    for resource in ("customers", "employees", "projects", "hours", "activities"):
        _add_resource_routes(router, resource)
    _add_change_routes(router)
    return router


def _add_resource_routes(router: APIRouter, resource: str) -> None:
    async def list_(request: Request) -> Response:
        return list_records(request, resource)

    async def get(request: Request, id: str) -> Response:
        return record_response(_tenant(request).get(resource, id))

    router.add_api_route(f"/{resource}", list_, methods=["GET"])
    router.add_api_route(f"/{resource}/{{id}}", get, methods=["GET"])
    if resource == "activities":
        return

    async def create(request: Request) -> Response:
        tenant = _tenant(request)
        record = tenant.create(resource, await read_body(request))
        return record_response(record, 201, f"/api/v1/{resource}/{record['id']}")

    async def patch(request: Request, id: str) -> Response:
        tenant = _tenant(request)
        tenant.get(resource, id)
        version = if_match(request, required=True)
        return record_response(
            tenant.update(resource, id, await read_body(request), if_match=version)
        )

    router.add_api_route(f"/{resource}", create, methods=["POST"])
    router.add_api_route(f"/{resource}/{{id}}", patch, methods=["PATCH"])
    if resource in ("customers", "employees", "projects"):
        router.add_api_route(f"/{resource}/batch", _batch_route(resource), methods=["POST"])
    if resource in ("customers", "employees"):

        async def deactivate(request: Request, id: str) -> Response:
            tenant = _tenant(request)
            tenant.get(resource, id)
            version = if_match(request, required=False)
            changes = {"active": False}
            return record_response(tenant.update(resource, id, changes, if_match=version))

        router.add_api_route(f"/{resource}/{{id}}/deactivate", deactivate, methods=["POST"])


def _batch_route(resource: str) -> Callable[[Request], Any]:
    async def batch(request: Request) -> Response:
        tenant = _tenant(request)
        body = await read_body(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH or len(body) != 1:
            error = field_error("items", f"must be a list of 1 to {MAX_BATCH} objects", "invalid")
            raise ProblemError(422, "validation-error", error["message"], [error])
        results: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            try:
                record = tenant.create(resource, item)
            except ProblemError as problem:
                doc = problem.document(f"/api/v1/{resource}/batch#{index}")
                results.append({"index": index, "status": problem.status, "problem": doc})
            else:
                results.append({"index": index, "status": 201, "data": record})
        return json_response({"results": results})

    return batch


def _add_change_routes(router: APIRouter) -> None:
    @router.get("/changes")
    async def changes(request: Request) -> Response:
        tenant = _tenant(request)
        query = parse_query(request, {"cursor": str, "limit": _limit})
        events, cursor, more = tenant.feed.read(query.get("cursor"), query.get("limit", 100))
        return json_response({"events": events, "nextCursor": cursor, "hasMore": more})

    @router.get("/changes/latest")
    async def latest(request: Request) -> Response:
        tenant = _tenant(request)
        return json_response({"cursor": tenant.feed.cursor(tenant.feed.head)})
