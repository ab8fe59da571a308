"""The HTTP key intake: what Svenn's marketplace "Slå på" button calls.

``POST /tenants/{tenant}/activation`` with ``Authorization: Bearer <SVENN_SYNC_INTAKE_TOKEN>``
and the keys in the JSON body (``tripletexEmployeeToken``, ``svennApiKey``; TLS in front of it
in production). The keys are validated at once and stored encrypted, or refused with the same
one-sentence answers as ``svenn-sync activate``; then the activation run starts with the
tenant as its only parameter: through the ``activate-integration/activate`` deployment when a
Prefect server is configured (``PREFECT_API_URL``), in this process otherwise.

No answer, log line or error echoes a key: validation errors name the field, never its value.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from config.settings import Settings, load_settings
from intake.auth import BearerGate
from intake.keys import Accepted, run_in_process, server_configured, start_on_server, take_keys
from intake.tenant_decisions import router as decisions_router
from tasks.activation import Refusal

logger = logging.getLogger(__name__)

# The HTTP status each refusal is answered with; anything else about the keys is 422.
STATUS_FOR_CODE = {
    "TRIPLETEX_UNAVAILABLE": 503,
    "SVENN_UNAVAILABLE": 503,
    "ALREADY_ACTIVATED": 409,
    "FOREIGN_SVENN_KEY": 409,
    "OTHER_COMPANY_IN_REVIEW": 409,
    "COMPANY_ALREADY_CONNECTED": 409,
    "SVENN_TENANT_ALREADY_CONNECTED": 409,
}


class ActivationKeys(BaseModel):
    """The body: both keys of one tenant."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tripletex_employee_token: SecretStr = Field(alias="tripletexEmployeeToken", min_length=1)
    svenn_api_key: SecretStr = Field(alias="svennApiKey", min_length=1)


class IntakeUnavailableError(RuntimeError):
    """The intake cannot start: it has no bearer token to check callers against."""


def answer(http_status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """One JSON answer: a stable code and one sentence (plus details on success)."""
    return JSONResponse({"code": code, "message": message, **extra}, status_code=http_status)


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
    app.add_middleware(BearerGate, token=expected)  # before any body is read (intake/auth.py)
    app.include_router(decisions_router)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        fields = sorted({str(e["loc"][-1]) for e in error.errors() if e.get("loc")})
        return answer(
            422,
            "MALFORMED_REQUEST",
            "Send a JSON body with tripletexEmployeeToken and svennApiKey (problem with: "
            + ", ".join(fields)
            + ").",
        )

    @app.post("/tenants/{tenant}/activation")
    async def activation(
        tenant: str,
        keys: ActivationKeys,
        background: BackgroundTasks,
    ) -> JSONResponse:
        taken = await take_keys(tenant, keys.tripletex_employee_token, keys.svenn_api_key)
        if isinstance(taken, Refusal):
            return answer(STATUS_FOR_CODE.get(taken.code, 422), taken.code, taken.message)
        run_id: str | None = None
        if run_on == "server" or (run_on == "auto" and server_configured()):
            run_id = await start_on_server(tenant)
        else:  # no Prefect server: the run publishes the plan here and leaves the tenant in review
            background.add_task(run_in_process, tenant)
        return answer(
            202,
            "IN_REVIEW",
            f"The keys are valid and stored; {tenant} is in review for {taken.parties.describe()}.",
            tenant=tenant,
            status="review",
            activationRun=run_id,
            **_parties(taken),
        )

    return app


def serve(host: str, port: int) -> None:
    """Serve the intake (no access log: it would add nothing, and paths name tenants only)."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, access_log=False, log_level="info")
