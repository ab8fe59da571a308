"""CRUD routes for customers, employees, projects, departments and timesheet entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from . import writes
from .api import (
    Call,
    batch_response,
    call_of,
    flag,
    id_list,
    list_response,
    read_json,
    value_response,
)
from .errors import NOT_NULL, TripletexError
from .model import changed_at
from .routes_events import notify_written
from .rules import may_manage_projects, parse_date, ref_id
from .spec_rules import parse_int

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
FilterFactory = Callable[[Call], list[Predicate]]


def _contains(query: Any, param: str, key: str) -> list[Predicate]:
    text = (query.get(param) or "").lower()
    return [lambda r: text in (r.get(key) or "").lower()] if text else []


def _equals(query: Any, param: str, key: str, cast: Callable[[str], Any] = str) -> list[Predicate]:
    text = query.get(param)
    if not text:
        return []
    value = cast(text)
    return [lambda r: r.get(key) == value]


def _ids(query: Any, param: str = "id", key: str | None = None) -> list[Predicate]:
    wanted = id_list(query.get(param))
    if wanted is None:
        return []
    if key is None:
        return [lambda r: r["id"] in wanted]
    return [lambda r: ref_id(r, key) in wanted]


def _bool(query: Any, param: str, key: str, default: bool | None = None) -> list[Predicate]:
    value = flag(query.get(param))
    value = default if value is None else value
    if value is None:
        return []
    return [lambda r: bool(r.get(key, False)) == value]


def _equals_ci(key: str, text: str) -> Predicate:
    return lambda r: (r.get(key) or "").lower() == text


def customer_filters(call: Call) -> list[Predicate]:
    """GET /customer filters (isInactive defaults to false)."""
    q = call.request.query_params
    found = _ids(q) + _equals(q, "organizationNumber", "organizationNumber")
    numbers = id_list(q.get("customerAccountNumber"))  # "List of customer numbers" in the spec
    if numbers is not None:
        found.append(lambda r: r.get("customerNumber") in numbers)
    found += _contains(q, "customerName", "name") + _bool(q, "isInactive", "isInactive", False)
    found += _ids(q, "accountManagerId", "accountManager")
    for param in ("email", "invoiceEmail", "phoneNumberMobile"):
        text = (q.get(param) or "").lower()
        if text:
            found.append(_equals_ci(param, text))
    since = q.get("changedSince")
    if since:
        moment = _parse_moment(since)
        found.append(lambda r: changed_at(r) >= moment)
    return found


def employee_filters(call: Call) -> list[Predicate]:
    """GET /employee filters."""
    q = call.request.query_params
    found = _ids(q) + _contains(q, "firstName", "firstName") + _contains(q, "lastName", "lastName")
    found += _contains(q, "email", "email") + _equals(q, "employeeNumber", "employeeNumber")
    found += _ids(q, "departmentId", "department")
    if not flag(q.get("includeContacts")):
        found.append(lambda r: not r.get("isContact"))
    if flag(q.get("onlyProjectManagers")) or flag(q.get("assignableProjectManagers")):
        found.append(lambda r: may_manage_projects(call.company, r["id"]))
    return found


def employment_filters(call: Call) -> list[Predicate]:
    """GET /employee/employment filters."""
    return _ids(call.request.query_params, "employeeId", "employee")


def project_filters(call: Call) -> list[Predicate]:
    """GET /project filters."""
    q = call.request.query_params
    found = _ids(q) + _contains(q, "name", "name") + _equals(q, "number", "number")
    found += _ids(q, "customerId", "customer") + _ids(q, "projectManagerId", "projectManager")
    found += _ids(q, "departmentId", "department") + _bool(q, "isClosed", "isClosed")
    found += _bool(q, "isOffer", "isOffer") + _bool(q, "isFixedPrice", "isFixedPrice")
    return found


def department_filters(call: Call) -> list[Predicate]:
    """GET /department filters."""
    q = call.request.query_params
    found = _ids(q) + _contains(q, "name", "name")
    return found + _equals(q, "departmentNumber", "departmentNumber")


def timesheet_filters(call: Call) -> list[Predicate]:
    """GET /timesheet/entry: dateFrom (incl.) and dateTo (excl.) are required."""
    q = call.request.query_params
    missing: list[tuple[str | None, str]] = [
        (n, NOT_NULL) for n in ("dateFrom", "dateTo") if not q.get(n)
    ]
    if missing:
        raise TripletexError(422, 15000, developer_message="Validation failed", validation=missing)
    start, end = parse_date(q.get("dateFrom")), parse_date(q.get("dateTo"))
    if start is None or end is None:
        raise TripletexError(422, 15000, validation=[("dateFrom", "Ugyldig dato.")])
    low, high = start.isoformat(), end.isoformat()
    found: list[Predicate] = [lambda r: low <= r["date"] < high, *_ids(q)]
    found += _ids(q, "employeeId", "employee") + _ids(q, "projectId", "project")
    found += _ids(q, "activityId", "activity") + _contains(q, "comment", "comment")
    return found


def _parse_moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "T"))
    except ValueError as error:
        raise TripletexError(
            422, 21000, developer_message=f"Illegal changedSince: {text}"
        ) from error
    if moment.tzinfo is not None:
        from .state import OSLO

        moment = moment.astimezone(OSLO).replace(tzinfo=None)
    return moment


def register(
    router: APIRouter,
    entity: str,
    path: str,
    filters: FilterFactory,
    *,
    verbs: frozenset[str],
    by_id: frozenset[str] = frozenset({"GET", "PUT"}),
) -> None:
    """Add the list, batch and by-id routes of one entity."""

    async def search(request: Request) -> Response:
        call = call_of(request)
        predicates = filters(call)
        rows = [r for r in call.company.table(entity).values() if all(p(r) for p in predicates)]
        extra = None
        if entity == "timesheetEntry":
            extra = {"sumAllHours": sum(r.get("hours", 0) for r in rows)}
        return list_response(call, entity, rows, extra=extra)

    async def post_one(request: Request) -> Response:
        call = call_of(request)
        body = await read_json(request)
        row = writes.create(call.sandbox, call.company, entity, body, call.employee_id)
        notify_written(request, call.company, entity, "create", [row])
        return value_response(call, entity, row, 201)

    async def post_list(request: Request) -> Response:
        call = call_of(request)
        body = await read_json(request)
        rows = writes.create_many(call.sandbox, call.company, entity, body, call.employee_id)
        notify_written(request, call.company, entity, "create", rows)
        return batch_response(call, entity, rows, 201)

    async def put_list(request: Request) -> Response:
        call = call_of(request)
        body = await read_json(request)
        rows = writes.update_many(call.sandbox, call.company, entity, body, call.employee_id)
        notify_written(request, call.company, entity, "update", rows)
        return batch_response(call, entity, rows, 200)

    async def get_one(request: Request) -> Response:
        call = call_of(request)
        return value_response(call, entity, call.row(entity, request.path_params["id"]))

    async def put_one(request: Request) -> Response:
        call = call_of(request)
        row = call.row(entity, request.path_params["id"])
        body = await read_json(request)
        writes.update(call.sandbox, call.company, entity, row, body, call.employee_id)
        notify_written(request, call.company, entity, "update", [row])
        return value_response(call, entity, row)

    async def delete_one(request: Request) -> Response:
        call = call_of(request)
        row = call.row(entity, request.path_params["id"])
        version = request.query_params.get("version")
        if version:
            sent = parse_int(version, "int32")
            if sent is None:
                raise TripletexError(422, 21000, developer_message=f"Illegal version: {version}")
            if sent != row["version"]:
                raise TripletexError(409, 8000, developer_message="Stale version")
        writes.delete(call.company, entity, row)
        notify_written(request, call.company, entity, "delete", [row])
        return Response(status_code=204)

    router.add_api_route(f"/v2/{path}", search, methods=["GET"])
    if "POST" in verbs:
        router.add_api_route(f"/v2/{path}", post_one, methods=["POST"])
    if "POST_LIST" in verbs:
        router.add_api_route(f"/v2/{path}/list", post_list, methods=["POST"])
    if "PUT_LIST" in verbs:
        router.add_api_route(f"/v2/{path}/list", put_list, methods=["PUT"])
    router.add_api_route(f"/v2/{path}/{{id}}", get_one, methods=["GET"])
    if "PUT" in by_id:
        router.add_api_route(f"/v2/{path}/{{id}}", put_one, methods=["PUT"])
    if "DELETE" in by_id:
        router.add_api_route(f"/v2/{path}/{{id}}", delete_one, methods=["DELETE"])


def entity_router() -> APIRouter:
    """Routes for the CRUD entities (registered after the more specific paths)."""
    router = APIRouter()
    all_verbs = frozenset({"POST", "POST_LIST", "PUT_LIST"})
    post = frozenset({"POST"})
    crud = frozenset({"GET", "PUT", "DELETE"})
    register(router, "customer", "customer", customer_filters, verbs=all_verbs, by_id=crud)
    # before /employee/{id}, which would take "employment" for an id
    register(router, "employment", "employee/employment", employment_filters, verbs=post)
    register(
        router, "employee", "employee", employee_filters, verbs=frozenset({"POST", "POST_LIST"})
    )
    register(router, "project", "project", project_filters, verbs=all_verbs, by_id=crud)
    register(router, "department", "department", department_filters, verbs=all_verbs, by_id=crud)
    register(
        router, "timesheetEntry", "timesheet/entry", timesheet_filters, verbs=all_verbs, by_id=crud
    )
    return router
