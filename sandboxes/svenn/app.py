"""The Svenn sandbox: a FastAPI app that serves our Svenn API contract from memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, Response

from sandboxes import faults as fault_injection
from sandboxes.faults import FaultInjector, FaultSpec

from .admin import build_admin_router
from .api import CONTRACT, bearer_key, build_router
from .problems import install_problem_handlers
from .state import SandboxState


def create_app(
    seed: dict[str, Any] | None = None,
    *,
    feed_retention: int = 100_000,
    faults: Sequence[FaultSpec] = (),
    fault_seed: int | None = None,
) -> FastAPI:
    """A fresh sandbox seeded with ``seed`` (format: README); its state is app.state.sandbox."""
    app = FastAPI(title="Svenn sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    state = SandboxState(seed, feed_retention)
    app.state.sandbox = state
    injector = FaultInjector(seed=fault_seed)
    for spec in faults:
        injector.add(spec)
    app.state.faults = injector
    install_problem_handlers(app)
    app.include_router(build_router())
    app.include_router(build_admin_router())
    contract = CONTRACT.read_bytes()

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document() -> Response:
        return Response(contract, media_type="application/json")

    def tenant_of(request: Request) -> str | None:
        tenant = state.tenant_for_key(bearer_key(request))
        return tenant.id if tenant else None

    fault_injection.install(app, injector, tenant_of)
    return app
