"""The HTTP key intake: what Svenn's marketplace "Slå på" button calls.

``POST /tenants/{tenant}/activation`` with ``Authorization: Bearer <SVENN_SYNC_INTAKE_TOKEN>``
and the keys in the JSON body (``tripletexEmployeeToken``, ``svennApiKey``; TLS in front of it
in production). The keys are validated at once and stored encrypted, or refused with the same
one-sentence answers as ``svenn-sync activate``; then the activation run starts with the
tenant as its only parameter: through the ``activate-integration/activate`` deployment when a
Prefect server is configured (``PREFECT_API_URL``), in this process otherwise.

No answer, log line or error echoes a key: validation errors name the field, never its value.
The tenant's side (status, log, the Logg page) is read through :mod:`intake.tenant_view`.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from config.settings import Settings, load_settings
from intake.answers import Answer, Tenant, answer, malformed_message, refused, responses
from intake.auth import BearerGate
from intake.body_limit import BodyLimit
from intake.keys import (
    TURN_ON_DEPLOYMENT,
    Accepted,
    run_in_process,
    server_configured,
    start_on_server,
    take_keys,
    turn_on_in_process,
)
from intake.logg_actions import logg_router
from intake.tenant_control import router as tenant_control
from intake.tenant_decisions import router as decisions_router
from intake.tenant_view import tenant_router
from intake.webhooks import webhook_router
from tasks.activation import Refusal

logger = logging.getLogger(__name__)


class ActivationKeys(BaseModel):
    """The body: both keys of one tenant (and, optionally, who pasted them)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tripletex_employee_token: SecretStr = Field(alias="tripletexEmployeeToken", min_length=1)
    svenn_api_key: SecretStr = Field(alias="svennApiKey", min_length=1)
    by: str | None = Field(
        default=None, max_length=200, description="The person (name or e-mail), if known."
    )


class Account(BaseModel):
    """A Tripletex company or Svenn tenant: id and name."""

    id: int | str
    name: str | None


class ActivationAnswer(Answer):
    """The keys are stored: in review (a new integration) or turning on again."""

    tenant: str
    status: str = Field(description="review, or syncing when turned on again.")
    activationRun: str | None = Field(description="The Prefect run started, on a server.")
    tripletexCompany: Account
    svennTenant: Account


class IntakeUnavailableError(RuntimeError):
    """The intake cannot start: it has no bearer token to check callers against."""


def _parties(accepted: Accepted) -> dict[str, Any]:
    parties = accepted.parties
    return {
        "tripletexCompany": {
            "id": parties.tripletex_company_id,
            "name": parties.tripletex_company_name,
        },
        "svennTenant": {"id": parties.svenn_tenant_id, "name": parties.svenn_tenant_name},
    }


def create_app(
    settings: Settings | None = None, run_on: Literal["auto", "server", "process"] = "auto"
) -> FastAPI:
    """The intake app; ``run_on`` says where the activation run runs (``auto``: on the Prefect
    server's deployment when ``PREFECT_API_URL`` is set, else in this process)."""
    settings = settings or load_settings()
    if settings.intake_token is None or not settings.intake_token.get_secret_value():
        raise IntakeUnavailableError(
            "SVENN_SYNC_INTAKE_TOKEN is not set: the key intake refuses to run unauthenticated"
        )
    expected = settings.intake_token.get_secret_value().encode()
    app = FastAPI(title="svenn-sync key intake", docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit)  # 413 before a large body is read (intake/body_limit.py)
    app.add_middleware(BearerGate, token=expected)  # before any body is read (intake/auth.py)
    app.include_router(decisions_router)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        return answer(422, "MALFORMED_REQUEST", malformed_message(error.errors()))

    app.include_router(logg_router(settings))  # the Logg page's buttons
    app.include_router(tenant_router(settings))  # status, log and Logg page (intake/tenant_view.py)
    app.include_router(webhook_router(settings))  # Tripletex deliveries (intake/webhooks.py)

    @app.post(
        "/tenants/{tenant}/activation",
        status_code=202,
        responses=responses(202, 409, 503, models={202: ActivationAnswer}),
        summary="Turn the integration on (Slå på): keys in review, or on again",
    )
    async def activation(
        tenant: Tenant,
        keys: ActivationKeys,
        background: BackgroundTasks,
    ) -> JSONResponse:
        """Validate and store both keys. A new integration goes to review (a person approves);
        one that was approved and turned off, with keys of the same accounts, is turned on
        again: no new review, a reconciliation first, then active."""
        taken = await take_keys(
            tenant, keys.tripletex_employee_token, keys.svenn_api_key, by=keys.by
        )
        if isinstance(taken, Refusal):
            return refused(taken.code, taken.message)
        on_server = run_on == "server" or (run_on == "auto" and server_configured())
        run_id: str | None = None
        if taken.turning_on_again:
            code = "TURNING_ON"
            text = f"{tenant} reconciles what changed while it was off, then is active again"
            if on_server:
                run_id = await start_on_server(tenant, TURN_ON_DEPLOYMENT)
            else:
                background.add_task(turn_on_in_process, tenant)
        else:
            code, text = "IN_REVIEW", f"{tenant} is in review"
            if on_server:
                run_id = await start_on_server(tenant)
            else:  # no Prefect server: the run publishes the plan here, the tenant stays in review
                background.add_task(run_in_process, tenant)
        return answer(
            202,
            code,
            f"The keys are valid and stored; {text} for {taken.parties.describe()}.",
            tenant=tenant,
            status=taken.status,
            activationRun=run_id,
            **_parties(taken),
        )

    app.include_router(tenant_control)
    return app


def serve(host: str, port: int) -> None:
    """Serve the intake (no access log: it would add nothing, and paths name tenants only)."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, access_log=False, log_level="info")
