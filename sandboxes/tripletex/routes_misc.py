"""Sessions, whoAmI, activities, project activities and the entitlement template call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from . import writes
from .api import (
    Call,
    call_of,
    flag,
    json_response,
    list_response,
    read_json,
    value_response,
)
from .errors import TripletexError, validation_error
from .model import holder, update_row
from .routes_entities import _contains, _equals, _ids, register
from .rules import LINK_EXISTS, activity_allowed, parse_date, ref_id
from .spec_rules import parse_int
from .state import PM_FLAG, Sandbox

CONSUMER_INVALID = "The consumer token is invalid or does not exist."
EMPLOYEE_INVALID = "The employee token is invalid or does not exist."
EXPIRY_INVALID = "Utløpsdatoen må være etter dagens dato."


def _open_session(sandbox: Sandbox, consumer: Any, employee: Any, expiration: Any) -> Any:
    """Check the three arguments of :create and open a session."""
    if consumer != sandbox.consumer_token:
        raise validation_error(("arg:consumerToken", CONSUMER_INVALID))
    token = sandbox.employee_tokens.get(employee) if isinstance(employee, str) else None
    test_token = isinstance(employee, str) and employee.startswith("test-")
    if token is not None and test_token != (sandbox.environment == "test"):
        raise validation_error(("arg:consumerToken", CONSUMER_INVALID))
    if token is None:
        raise validation_error(("arg:employeeToken", EMPLOYEE_INVALID))
    day = parse_date(expiration)
    if day is None or day <= sandbox.clock().date():
        raise validation_error(("arg:expirationDate", EXPIRY_INVALID))
    session = sandbox.open_session(token, day)
    return {
        "id": session.id,
        "version": 0,
        "expirationDate": day.isoformat(),
        "token": session.token,
    }


def session_router() -> APIRouter:
    """``/token/session`` endpoints."""
    router = APIRouter()

    @router.put("/v2/token/session/:create")
    async def create_legacy(request: Request) -> Response:
        q = request.query_params
        sandbox: Sandbox = request.app.state.sandbox
        value = _open_session(
            sandbox, q.get("consumerToken"), q.get("employeeToken"), q.get("expirationDate")
        )
        return json_response({"value": value})

    @router.post("/v2/token/session/:create")
    async def create(request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise TripletexError(422, 16000, developer_message="Expected a JSON object")
        sandbox: Sandbox = request.app.state.sandbox
        value = _open_session(
            sandbox,
            body.get("consumerToken"),
            body.get("employeeToken"),
            body.get("expirationDate"),
        )
        return json_response({"value": value}, 201)

    @router.get("/v2/token/session/>whoAmI")
    async def who_am_i(request: Request) -> Response:
        call = call_of(request)
        employee_id = call.employee_id
        info: dict[str, Any] = {
            "employeeId": employee_id or 0,
            "actualEmployeeId": employee_id or 0,
            "companyId": call.company.id,
            "company": {
                "id": call.company.id,
                "name": call.company.name,
                "organizationNumber": call.company.organization_number,
            },
            "language": "no",
            "loggedInWithConnect": False,
            "employeeIsProxy": False,
        }
        employee = call.company.table("employee").get(employee_id or -1)
        if employee is not None:
            info["employee"] = call.renderer().row(employee, "employee")
        return json_response({"value": info})

    @router.delete("/v2/token/session/{token}")
    async def delete_session(request: Request) -> Response:
        call = call_of(request)
        target = call.sandbox.sessions.get(request.path_params["token"])
        if target is None or target.employee_token is not call.session.employee_token:
            raise TripletexError(404, 6000, developer_message="Session token not found")
        target.expired = True
        return Response(status_code=204)

    return router


def _flag_is(key: str, value: bool) -> Any:
    return lambda r: bool(r.get(key)) == value


def activity_filters(call: Call) -> list[Any]:
    """GET /activity filters."""
    q = call.request.query_params
    found = _ids(q) + _contains(q, "name", "name") + _equals(q, "number", "number")
    for param in ("isProjectActivity", "isGeneral", "isTask", "isChargeable"):
        value = flag(q.get(param))
        if value is not None:
            found.append(_flag_is(param, value))
    if flag(q.get("isInactive")):
        found.append(lambda r: False)  # the sandbox has no inactive activities
    return found


def work_router() -> APIRouter:
    """Activities, project activities and entitlements."""
    router = APIRouter()

    @router.get("/v2/activity/>forTimeSheet")
    async def for_timesheet(request: Request) -> Response:
        call = call_of(request)
        q = request.query_params
        if not q.get("projectId"):
            raise TripletexError(422, 15000, validation=[("projectId", "Kan ikke være null.")])
        project_id = parse_int(q["projectId"])
        if project_id is None:  # check_query refused it already; kept for type narrowing
            raise TripletexError(422, 21000, validation=[("projectId", "Ugyldig verdi.")])
        rows = [
            r
            for r in call.company.table("activity").values()
            if activity_allowed(call.company, r["id"], project_id)
        ]
        return list_response(call, "activity", rows)

    @router.post("/v2/project/projectActivity")
    async def link_activity(request: Request) -> Response:
        call = call_of(request)
        body = await read_json(request)
        if not isinstance(body, dict):
            raise TripletexError(422, 16000, developer_message="Expected a JSON object")
        activity = body.get("activity")
        if isinstance(activity, dict) and activity.get("id") is None and activity.get("name"):
            new = {**activity, "activityType": "PROJECT_SPECIFIC_ACTIVITY"}
            made = writes.create(call.sandbox, call.company, "activity", new, call.employee_id)
            body = {**body, "activity": {"id": made["id"]}}
        row = {k: v for k, v in body.items()}
        pair = (ref_id(row, "project"), ref_id(row, "activity"))
        if pair[0] not in call.company.table("project"):
            raise validation_error(("project.id", "Objektet finnes ikke."))
        if pair[1] not in call.company.table("activity"):
            raise validation_error(("activity.id", "Objektet finnes ikke."))
        if holder(call.company, "projectActivity", pair) is not None:
            raise validation_error(("activity.id", LINK_EXISTS))
        made = writes.create(call.sandbox, call.company, "projectActivity", body, call.employee_id)
        return value_response(call, "projectActivity", made, 201)

    @router.get("/v2/project/projectActivity/{id}")
    async def get_link(request: Request) -> Response:
        call = call_of(request)
        return value_response(
            call, "projectActivity", call.row("projectActivity", request.path_params["id"])
        )

    @router.delete("/v2/project/projectActivity/{id}")
    async def delete_link(request: Request) -> Response:
        call = call_of(request)
        row = call.row("projectActivity", request.path_params["id"])
        writes.delete(call.company, "projectActivity", row)
        return Response(status_code=204)

    @router.put("/v2/employee/entitlement/:grantEntitlementsByTemplate")
    async def grant(request: Request) -> Response:
        call = call_of(request)
        q = request.query_params
        employee = call.row("employee", q.get("employeeId"))
        template = q.get("template")
        if template not in (
            "ALL_PRIVILEGES",
            "NONE_PRIVILEGES",
            "INVOICING_MANAGER",
            "PERSONELL_MANAGER",
            "ACCOUNTANT",
            "AUDITOR",
            "DEPARTMENT_LEADER",
        ):
            raise validation_error(("template", "Ugyldig mal."))
        manager = template in ("ALL_PRIVILEGES", "DEPARTMENT_LEADER")
        if template != "NONE_PRIVILEGES" and not manager:
            return json_response({})
        if bool(employee.get(PM_FLAG)) != manager:
            update_row(
                call.sandbox,
                call.company,
                "employee",
                employee,
                {PM_FLAG: manager},
                call.employee_id,
            )
        return json_response({})

    register(
        router,
        "activity",
        "activity",
        activity_filters,
        verbs=frozenset({"POST", "POST_LIST"}),
        by_id=frozenset({"GET"}),
    )
    return router
