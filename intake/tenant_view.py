"""The tenant's side, read only: the integration's status, its log (JSON) and the Logg page.

``GET /tenants/{tenant}`` and ``GET /tenants/{tenant}/log`` answer Svenn's backend (bearer
token, :mod:`intake.auth`); ``GET /tenants/{tenant}/logg?sig=…`` is the page a tenant's browser
opens through a signed, expiring link (:mod:`intake.logg_link`), never with the token. Both the
JSON and the page read the store through :mod:`store.tenant_log`.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from config.settings import Settings
from intake.answers import Tenant, answer, responses
from intake.logg_link import REFUSALS, LinkCheck, check
from intake.logg_page import render_logg
from intake.pages import refusal
from intake.tenant_models import LogAnswer, TenantAnswer, log_answer, tenant_answer
from store.tenant_log import MAX_PAGE_SIZE, PAGE_SIZE, LogStatus, read_log, read_overview
from tasks.tenant import state_store

PAGE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The Logg page, in Norwegian."},
    403: {"content": {"text/html": {}}, "description": "The link is expired or altered."},
    404: {"content": {"text/html": {}}, "description": "No integration for the tenant."},
    422: {  # a malformed path or query is answered in JSON, as on every route
        "description": responses()[422]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}},
    },
}


def unknown_tenant(tenant: str) -> JSONResponse:
    """The 404 answer for a tenant with no integration."""
    return answer(404, "UNKNOWN_TENANT", f"No integration is known for tenant {tenant}.")


def tenant_router(settings: Settings) -> APIRouter:
    """The read-only routes of the tenant's side, for ``settings``' store and link key."""
    router = APIRouter()

    @router.get(
        "/tenants/{tenant}",
        response_model=TenantAnswer,
        responses=responses(404),
        summary="The integration as the tenant sees it",
    )
    def tenant_status(tenant: Tenant) -> Any:
        with state_store(settings).sessions() as session:
            overview = read_overview(session, tenant)
        return unknown_tenant(tenant) if overview is None else tenant_answer(overview)

    @router.get(
        "/tenants/{tenant}/log",
        response_model=LogAnswer,
        responses=responses(404),
        summary="Why records did not travel, newest first",
    )
    def tenant_log(
        tenant: Tenant,
        q: str | None = Query(None, max_length=200, description="Part of a name, number, …"),
        entity: Literal["customer", "employee", "project", "hours"] | None = None,
        status: LogStatus = "open",
        page: int = Query(1, ge=1, le=100_000),
        page_size: int = Query(PAGE_SIZE, alias="pageSize", ge=1, le=MAX_PAGE_SIZE),
    ) -> Any:
        with state_store(settings).sessions() as session:
            if read_overview(session, tenant) is None:
                return unknown_tenant(tenant)
            found = read_log(
                session, tenant, q=q, entity=entity, status=status, page=page, page_size=page_size
            )
        return log_answer(tenant, found)

    @router.get(
        "/tenants/{tenant}/logg",
        response_class=HTMLResponse,
        responses=PAGE_ANSWERS,
        summary="The tenant's Logg page (opened through a signed link)",
    )
    def logg_page(request: Request, tenant: Tenant, sig: str | None = None) -> HTMLResponse:
        verdict = check(settings.logg_link_key, tenant, sig)
        if verdict is not LinkCheck.VALID:
            return refusal(request, REFUSALS[verdict], 403)
        return render_logg(
            request, state_store(settings), tenant, sig or "", settings.logg_link_key
        )

    return router
