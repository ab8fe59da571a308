"""The tenant's switches, as Svenn's Marketplace tab calls them: turn off ("Slå av") and put a
new Tripletex key in place of a revoked one. Turning on again is the activation route itself
(:mod:`intake.app`): keys of the same accounts for an integration that was turned off.

The rules live in :mod:`tasks.tenant_control`, which the CLI calls too. No answer holds a key.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from config.settings import load_settings
from intake.answers import Answer, Tenant, answer, refused, responses
from tasks.activation import Refusal
from tasks.tenant_control import Done, replace_tripletex_key, turn_off

router = APIRouter()


class Deactivation(BaseModel):
    """Who turns the integration off, and why (kept in its history)."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=200, description="The person (name or e-mail).")
    reason: str | None = Field(default=None, max_length=2000, description="Why, in a sentence.")


class NewKey(BaseModel):
    """A new Tripletex employee token of the same company, and who pasted it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tripletex_employee_token: SecretStr = Field(alias="tripletexEmployeeToken", min_length=1)
    by: str | None = Field(
        default=None, max_length=200, description="The person (name or e-mail), if known."
    )


class ControlAnswer(Answer):
    """What the action did, and the status it left."""

    tenant: str
    status: str = Field(description="The integration's status now (disabled, active, ...).")
    keysErased: bool = Field(description="Whether the stored keys were erased by this action.")


def _answered(tenant: str, outcome: Done | Refusal) -> JSONResponse:
    if isinstance(outcome, Refusal):
        return refused(outcome.code, outcome.message)
    extra: dict[str, Any] = {"status": outcome.status, "keysErased": outcome.keys_erased}
    return answer(200, outcome.code, outcome.message, tenant=tenant, **extra)


@router.post(
    "/tenants/{tenant}/deactivation",
    status_code=200,
    responses=responses(200, 404, 409, models={200: ControlAnswer}),
    summary="Turn the integration off (Slå av)",
)
async def deactivation(tenant: Tenant, body: Deactivation) -> JSONResponse:
    """Status ``disabled`` from the next tick on; the stored keys are erased; links, cursors
    and the hours ledger are kept, so turning it on again with the same accounts resumes."""
    return _answered(tenant, await turn_off(load_settings(), tenant, body.by, body.reason))


@router.put(
    "/tenants/{tenant}/keys",
    status_code=200,
    responses=responses(200, 404, 409, 503, models={200: ControlAnswer}),
    summary="Replace the Tripletex key",
)
async def keys(tenant: Tenant, body: NewKey) -> JSONResponse:
    """A new Tripletex key of the same company: validated at once, stored encrypted, the old
    one erased; the next successful sync clears the error the old key left."""
    outcome = await replace_tripletex_key(
        load_settings(), tenant, body.tripletex_employee_token, body.by or "tenant"
    )
    return _answered(tenant, outcome)
