"""The tenant's "Logg" page: one server-rendered Norwegian page (Jinja2, autoescaped, no
JavaScript needed) over the same log query as the JSON API (:mod:`store.tenant_log`).

Search, entity and state are a GET form that carries the link's signature along; paging links
keep all of them. The page is lenient: a malformed ``page`` or ``status`` falls back to the
first page of open rows. Each row is an ``<article id="rad-ID">``; its ``.handlinger`` block
holds the buttons of a held-back or conflict row.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import SecretStr

from intake.logg_actions import DONE, row_actions
from intake.pages import TEMPLATES, refusal
from store.state import StateStore
from store.tenant_log import LogStatus, read_log, read_overview
from sync.tenant_text import ENTITY_TEXT

PAGE_STATUSES: dict[str, LogStatus] = {"open": "open", "all": "all", "resolved": "resolved"}
NOT_ON = "Integrasjonen med Tripletex er ikke slått på."


def render_logg(
    request: Request, store: StateStore, tenant: str, sig: str, key: SecretStr
) -> HTMLResponse:
    """The Logg page for ``tenant`` (its link already checked), as the query asks; held-back
    and conflict rows carry their buttons (:mod:`intake.logg_actions`)."""
    params = request.query_params
    q = (params.get("q") or "").strip()[:200]
    entity = params.get("entity") if params.get("entity") in ENTITY_TEXT else None
    status = _log_status(params.get("status"))
    page = _page_number(params.get("page"))
    with store.sessions() as session:
        overview = read_overview(session, tenant)
        if overview is None:
            return refusal(request, NOT_ON, 404)
        found = read_log(session, tenant, q=q, entity=entity, status=status, page=page)
        actions = row_actions(session, tenant, [e.id for e in found.entries], key, sig)
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
            "actions": actions,
            "action_path": f"/tenants/{quote(tenant, safe='')}/logg/rad/",
            "done": DONE.get(params.get("utfall") or ""),
            "done_row": params.get("rad") if (params.get("rad") or "").isdigit() else None,
        },
    )


def _log_status(text: str | None) -> LogStatus:
    return PAGE_STATUSES.get(text or "", "open")


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) <= 100_000 else 1


def _when(at: dt.datetime | None) -> str:
    """A time as a Norwegian reader writes it (UTC: the page says so)."""
    return at.astimezone(dt.UTC).strftime("%d.%m.%Y %H:%M") if at else "–"
