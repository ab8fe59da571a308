"""The tenant's side, read only: the integration's status, its log (JSON) and the Logg page.

``GET /tenants/{tenant}`` and ``GET /tenants/{tenant}/log`` answer Svenn's backend (bearer
token, :mod:`intake.auth`); ``GET /tenants/{tenant}/logg?sig=…`` is the page a tenant's browser
opens through a signed, expiring link (:mod:`intake.logg_link`), never with the token. Both the
JSON and the page read the store through :mod:`store.tenant_log`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from config.settings import Settings
from intake.logg_link import REFUSALS, LinkCheck, check
from intake.tenant_models import ErrorBody, LogAnswer, TenantAnswer, log_answer, tenant_answer
from store.tenant_log import MAX_PAGE_SIZE, PAGE_SIZE, LogStatus, read_log, read_overview
from sync.tenant_text import ENTITY_TEXT
from tasks.tenant import state_store

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
UNAUTHENTICATED = {"model": ErrorBody, "description": "The bearer token is missing or wrong."}
MALFORMED = {"model": ErrorBody, "description": "A path or query parameter is malformed."}
UNKNOWN = {"model": ErrorBody, "description": "No integration is known for this tenant."}
ERROR_BODY_REF = {"$ref": "#/components/schemas/ErrorBody"}  # documented by the JSON routes
PAGE_STATUSES: dict[str, LogStatus] = {"open": "open", "all": "all", "resolved": "resolved"}


def unknown_tenant(tenant: str) -> JSONResponse:
    """The 404 answer for a tenant with no integration."""
    body = {"code": "UNKNOWN_TENANT", "message": f"No integration is known for tenant {tenant}."}
    return JSONResponse(body, status_code=404)


def tenant_router(settings: Settings) -> APIRouter:
    """The read-only routes of the tenant's side, for ``settings``' store and link key."""
    router = APIRouter()

    @router.get(
        "/tenants/{tenant}",
        response_model=TenantAnswer,
        responses={401: UNAUTHENTICATED, 404: UNKNOWN, 422: MALFORMED},
        summary="The integration as the tenant sees it",
    )
    def tenant_status(tenant: str) -> Any:
        with state_store(settings).sessions() as session:
            overview = read_overview(session, tenant)
        return unknown_tenant(tenant) if overview is None else tenant_answer(overview)

    @router.get(
        "/tenants/{tenant}/log",
        response_model=LogAnswer,
        responses={401: UNAUTHENTICATED, 404: UNKNOWN, 422: MALFORMED},
        summary="Why records did not travel, newest first",
    )
    def tenant_log(
        tenant: str,
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
        responses={
            200: {"content": {"text/html": {}}, "description": "The Logg page, in Norwegian."},
            403: {"content": {"text/html": {}}, "description": "The link is expired or altered."},
            404: {"content": {"text/html": {}}, "description": "No integration for the tenant."},
            422: {
                "description": MALFORMED["description"],
                "content": {"application/json": {"schema": ERROR_BODY_REF}},
            },
        },
        summary="The tenant's Logg page (opened through a signed link)",
    )
    def logg_page(request: Request, tenant: str, sig: str | None = None) -> HTMLResponse:
        verdict = check(settings.logg_link_key, tenant, sig)
        if verdict is not LinkCheck.VALID:
            return _refusal(request, REFUSALS[verdict], 403)
        return _page(request, tenant, sig or "")

    def _page(request: Request, tenant: str, sig: str) -> HTMLResponse:
        params = request.query_params
        q = (params.get("q") or "").strip()[:200]
        entity = params.get("entity") if params.get("entity") in ENTITY_TEXT else None
        status = _log_status(params.get("status"))
        page = _page_number(params.get("page"))
        with state_store(settings).sessions() as session:
            overview = read_overview(session, tenant)
            if overview is None:
                return _refusal(request, "Integrasjonen med Tripletex er ikke slått på.", 404)
            found = read_log(session, tenant, q=q, entity=entity, status=status, page=page)
        kept = {"sig": sig, "q": q, "entity": entity or "", "status": status}

        def href(to_page: int) -> str:
            return "?" + urlencode({**kept, "page": to_page})

        return TEMPLATES.TemplateResponse(
            request,
            "logg.html",
            {
                "overview": overview,
                "log": found,
                "q": q,
                "entity": entity or "",
                "status": status,
                "sig": sig,
                "entities": ENTITY_TEXT,
                "previous": href(page - 1) if page > 1 else None,
                "next": href(page + 1) if page < found.pages else None,
                "reasons": {e.reason_code: e for e in found.entries},
                "when": _when,
            },
        )

    def _refusal(request: Request, sentence: str, status_code: int) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request, "refused.html", {"sentence": sentence}, status_code=status_code
        )

    return router


def _log_status(text: str | None) -> LogStatus:
    return PAGE_STATUSES.get(text or "", "open")


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) <= 100_000 else 1


def _when(at: dt.datetime | None) -> str:
    """A time as a Norwegian reader writes it (UTC: the page says so)."""
    return at.astimezone(dt.UTC).strftime("%d.%m.%Y %H:%M") if at else "–"
