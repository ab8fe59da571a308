"""Sandbox-only admin endpoints (outside /v2): companies, state, UI-style edits, sessions."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Request, Response

from . import writes
from .api import json_response
from .errors import TripletexError
from .fields import FieldTree, Renderer
from .model import update_row
from .routes_events import notify_written
from .seed import add_company, load_seed
from .state import PM_FLAG, Company, EmployeeToken, Sandbox

EDITABLE = (
    "customer",
    "employee",
    "project",
    "timesheetEntry",
    "activity",
    "department",
    "employment",
)
FULL = FieldTree(star=True, names={"changes": None})


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _company(request: Request, ident: Any) -> Company:
    try:
        company = _sandbox(request).companies.get(int(ident))
    except ValueError:
        company = None
    if company is None:
        raise TripletexError(404, 6000, developer_message=f"No company {ident}")
    return company


def company_summary(company: Company) -> dict[str, Any]:
    """Id, name and tokens of a company (what the admin needs to connect)."""
    return {
        "id": company.id,
        "name": company.name,
        "organizationNumber": company.organization_number,
        "employeeTokens": [
            {"token": t.token, "entitlements": sorted(t.entitlements), "employeeId": t.employee_id}
            for t in company.tokens
        ],
    }


def company_state(company: Company, host: str) -> dict[str, Any]:
    """Every row of every table (inactive and closed included), with versions and changes."""
    render = Renderer(company, host)
    state: dict[str, Any] = {"company": company_summary(company)}
    for entity, rows in company.tables.items():
        rendered = []
        for row in rows.values():
            out = render.row(row, entity, FULL)
            if entity == "employee":
                out[PM_FLAG] = bool(row.get(PM_FLAG))
            rendered.append(out)
        state[entity] = rendered
    return state


def set_month_locked(
    sandbox: Sandbox, company: Company, month: str, employee: int | None, locked: bool
) -> int:
    """Lock or reopen one month (for one employee or everyone); returns the entries touched."""
    key = (month, employee)
    if locked:
        company.locked_months.add(key)
    else:
        company.locked_months.discard(key)
        if employee is None:  # reopening the whole month reopens every employee's
            company.locked_months -= {k for k in company.locked_months if k[0] == month}
    touched = 0
    for row in list(company.table("timesheetEntry").values()):
        employee_id = (row.get("employee") or {}).get("id")
        if not str(row.get("date", "")).startswith(month):
            continue
        now_locked = company.period_locked(employee_id, row["date"])
        if bool(row.get("locked")) != now_locked:
            update_row(sandbox, company, "timesheetEntry", row, {"locked": now_locked}, None)
            touched += 1
    return touched


def admin_router() -> APIRouter:
    """``/_admin/companies``, ``/_admin/companies/{id}/state|edit``, sessions, reset."""
    router = APIRouter(prefix="/_admin")

    @router.get("/companies")
    async def list_companies(request: Request) -> Response:
        return json_response([company_summary(c) for c in _sandbox(request).companies.values()])

    @router.post("/companies")
    async def add(request: Request) -> Response:
        data = await request.json()
        try:
            company = add_company(_sandbox(request), data)
        except (ValueError, KeyError) as error:
            raise TripletexError(422, 18000, developer_message=str(error)) from error
        return json_response(company_summary(company), 201)

    @router.get("/companies/{ident}/state")
    async def state(request: Request, ident: str) -> Response:
        company = _company(request, ident)
        return json_response(company_state(company, request.headers.get("host", "")))

    @router.post("/companies/{ident}/edit")
    async def edit(request: Request, ident: str) -> Response:
        company = _company(request, ident)
        body = await request.json()
        entity = body.get("entity")
        if entity not in EDITABLE:
            raise TripletexError(422, 18000, developer_message=f"entity must be one of {EDITABLE}")
        sandbox = _sandbox(request)
        by = company.owner_id()
        target = body.get("id")
        changes = body.get("changes") or {}
        if target is None:
            row = writes.create(sandbox, company, entity, changes, by, admin=True)
            notify_written(request, company, entity, "create", [row])
            return json_response({"value": Renderer(company, "").row(row, entity, FULL)}, 201)
        found = company.table(entity).get(int(target))
        if found is None:
            raise TripletexError(404, 6000, developer_message=f"No {entity} {target}")
        row = found
        if body.get("delete"):
            writes.delete(company, entity, row, admin=True)
            notify_written(request, company, entity, "delete", [row])
            return Response(status_code=204)
        writes.update(sandbox, company, entity, row, changes, by, admin=True)
        notify_written(request, company, entity, "update", [row])
        return json_response({"value": Renderer(company, "").row(row, entity, FULL)})

    @router.post("/companies/{ident}/timesheet/month")
    async def lock_month(request: Request, ident: str) -> Response:
        """Approve (lock) or reopen a month's hours, as an accountant does in the UI."""
        company = _company(request, ident)
        body = await request.json()
        month, employee, locked = body.get("month"), body.get("employeeId"), body.get("locked")
        if not isinstance(month, str) or len(month) != 7 or not isinstance(locked, bool):
            raise TripletexError(
                422, 18000, developer_message='send {"month": "YYYY-MM", "locked": true|false}'
            )
        changed = set_month_locked(_sandbox(request), company, month, employee, locked)
        return json_response(
            {"month": month, "employeeId": employee, "locked": locked, "entries": changed}
        )

    @router.post("/companies/{ident}/employee-tokens")
    async def add_employee_token(request: Request, ident: str) -> Response:
        """A new employee token, as the owner creates one under "API-tilgang"."""
        company = _company(request, ident)
        body = await request.json()
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise TripletexError(422, 18000, developer_message='send {"token": "..."}')
        entitlements = frozenset(body.get("entitlements") or ["ALL"])
        info = EmployeeToken(token, company.id, entitlements, company.owner_id())
        _sandbox(request).add_token(company, info)
        return json_response({"company": company.id}, 201)

    @router.post("/employee-tokens/revoke")
    async def revoke_employee_token(request: Request) -> Response:
        """The owner deletes an employee token: it and its sessions answer 401 from now on."""
        body = await request.json()
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise TripletexError(422, 18000, developer_message='send {"token": "..."}')
        return json_response({"revoked": _sandbox(request).revoke_token(token)})

    @router.post("/sessions/expire")
    async def expire(request: Request) -> Response:
        return json_response({"expired": _sandbox(request).expire_sessions()})

    @router.post("/reset")
    async def reset(request: Request) -> Response:
        sandbox = _sandbox(request)
        sandbox.clear()
        load_seed(sandbox, copy.deepcopy(request.app.state.initial_seed))
        request.app.state.rate_limiter.windows.clear()
        return json_response({"companies": [c.id for c in sandbox.companies.values()]})

    return router
