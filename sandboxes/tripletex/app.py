"""The Tripletex sandbox: a FastAPI app that behaves like Tripletex API v2 (see README)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException

from sandboxes.faults import FaultInjector, FaultSpec, install
from sandboxes.routes import allowed_methods

from .admin import admin_router
from .api import json_response
from .edge import RateLimiter, TripletexEdge, session_of
from .errors import TripletexError
from .routes_entities import entity_router
from .routes_events import subscription_router, webhook_admin_router
from .routes_misc import session_router, work_router
from .seed import default_seed, load_seed
from .state import Sandbox
from .webhooks import WebhookHub


def create_app(
    seed: dict[str, Any] | None = None,
    *,
    consumer_token: str = "sandbox-consumer-token",  # noqa: S107 - a sandbox's fixed token
    environment: str = "production",
    rate_limit: int = 100,
    rate_window_seconds: float = 10.0,
    faults: Sequence[FaultSpec] = (),
    fault_seed: int | None = None,
) -> FastAPI:
    """A Tripletex sandbox app; ``app.state.sandbox`` holds its in-memory state.

    ``seed=None`` gives one default company (see README). ``rate_limit`` is requests per
    employee token per ``rate_window_seconds``; 0 switches the limit off.
    """
    if environment not in ("production", "test"):
        raise ValueError("environment must be 'production' or 'test'")
    initial = copy.deepcopy(seed if seed is not None else default_seed(environment))
    sandbox = Sandbox(consumer_token=consumer_token, environment=environment)
    load_seed(sandbox, copy.deepcopy(initial))
    app = FastAPI(title="Tripletex sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = sandbox
    app.state.initial_seed = initial
    limiter = RateLimiter(rate_limit, rate_window_seconds)
    app.state.rate_limiter = limiter

    app.include_router(session_router())
    app.include_router(work_router())
    app.state.webhooks = WebhookHub()
    app.include_router(subscription_router())
    app.include_router(entity_router())
    injector = FaultInjector(seed=fault_seed)
    for spec in faults:
        injector.add(spec)
    app.state.faults = injector
    app.include_router(admin_router())
    app.include_router(webhook_admin_router())
    app.add_exception_handler(TripletexError, _tripletex_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(TripletexEdge, sandbox=sandbox, limiter=limiter)

    def tenant_of(request: Request) -> int | None:
        if not request.url.path.startswith("/v2/"):
            return None
        try:
            return session_of(sandbox, request.scope["headers"]).employee_token.company_id
        except TripletexError:
            return None

    install(app, injector, tenant_of)  # outermost: faults hit before auth and rate limits
    return app


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


async def _tripletex_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, TripletexError)
    return json_response(error.body(_request_id(request)), error.status)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: 6000, 405: 4000}.get(error.status_code, 4000)
    message = "Object not found" if error.status_code == 404 else str(error.detail)
    body = TripletexError(
        error.status_code, code, message=message, developer_message=str(error.detail)
    ).body(_request_id(request))
    response = json_response(body, error.status_code)
    response.headers.update(error.headers or {})
    if error.status_code == 405:  # every method served at this path (RFC 9110 §15.5.6)
        response.headers["allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return response


async def _internal_error(request: Request, error: Exception) -> Response:
    body = TripletexError(500, 1000, developer_message=type(error).__name__).body(
        _request_id(request)
    )
    return json_response(body, 500)
