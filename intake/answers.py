"""The service's answers: one ``{code, message}`` shape, and the table that documents them.

Every route declares its answers with :func:`responses` (its own statuses plus the ones any
route can give: 401 before the body is read, 413 for a body over the limit, 422 for a body or
path that does not fit), so the OpenAPI document Svenn's backend generates its client from
lists every status the route really answers. :func:`answer` builds the JSON; a refusal's code
decides its status through :data:`STATUS_FOR_CODE`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

# A tenant's name in a path: what the integrations table can hold.
Tenant = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="The tenant (Svenn's name for the customer account).",
    ),
]


class Answer(BaseModel):
    """Every answer's body: a stable code for programs and one sentence for people."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable, upper-case; programs branch on it.")
    message: str = Field(description="One sentence that says what happened or what to do.")


# The HTTP status each refusal code is answered with; a code not listed is 422.
STATUS_FOR_CODE = {
    "UNKNOWN_TENANT": 404,
    "TRIPLETEX_UNAVAILABLE": 503,
    "SVENN_UNAVAILABLE": 503,
    "ALREADY_ACTIVATED": 409,
    "FOREIGN_SVENN_KEY": 409,
    "OTHER_COMPANY_IN_REVIEW": 409,
    "COMPANY_ALREADY_CONNECTED": 409,
    "SVENN_TENANT_ALREADY_CONNECTED": 409,
    "NOT_THE_SAME_ACCOUNTS": 409,
    "OTHER_COMPANY": 409,
    "NOT_ON": 409,
    "NOT_TURNED_OFF": 409,
    "INITIAL_SYNC_RUNNING": 409,
}

DESCRIPTIONS = {
    200: "Done; the message says what changed.",
    202: "Accepted; the work continues in a run or the next realtime tick (the message says "
    "what happens next).",
    401: "No or wrong bearer token (answered before the body is read); on a webhook "
    "delivery: no or wrong signature, or a tenant without a webhook secret (unknown tenants "
    "are answered the same way, so the answer tells nobody which tenants exist).",
    404: "There is no integration for this tenant.",
    409: "Not possible in the integration's current state, or the keys belong to other "
    "accounts; nothing changed.",
    410: "The integration is not on (turned off, in review or rejected): the signed "
    "delivery was not taken.",
    413: "The body is larger than the service takes; nothing was read or changed.",
    422: "The body or the path does not fit (the message names the field, never its value), "
    "or a key was refused; nothing changed.",
    503: "Tripletex or Svenn could not be reached; nothing changed, try again later.",
}
ANY_ROUTE = (401, 413, 422)


def responses(
    *statuses: int, models: Mapping[int, type[BaseModel]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: ``statuses`` plus those any route gives, each with the
    ``{code, message}`` body (or the richer model in ``models``)."""
    models = models or {}
    return {
        status: {"model": models.get(status, Answer), "description": DESCRIPTIONS[status]}
        for status in sorted({*statuses, *ANY_ROUTE})
    }


def answer(http_status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """One JSON answer: a stable code and one sentence (plus details on success)."""
    return JSONResponse({"code": code, "message": message, **extra}, status_code=http_status)


def refused(code: str, message: str) -> JSONResponse:
    """A refusal, with the status its code calls for."""
    return answer(STATUS_FOR_CODE.get(code, 422), code, message)


def malformed_message(errors: Sequence[Mapping[str, Any]], expected: Iterable[str] = ()) -> str:
    """One sentence about a request that does not fit: names the fields, never a value."""
    kinds = {str(e.get("type")) for e in errors}
    if "json_invalid" in kinds:
        return "The body is not valid JSON."
    unknown = _fields(e for e in errors if e.get("type") == "extra_forbidden")
    if unknown:
        return f"The body has unknown fields: {', '.join(unknown)}."
    if any(e.get("loc", ("",))[0] == "path" for e in errors):
        return "The tenant in the path is not a valid tenant name."
    if errors and all(e.get("loc", ("",))[0] == "query" for e in errors):
        return f"Check the query parameters (problem with: {', '.join(_fields(errors))})."
    fields = _fields(errors)
    wanted = ", ".join(expected)
    return (
        f"Send a JSON object{f' with {wanted}' if wanted else ''} "
        f"(problem with: {', '.join(fields) or 'the body'})."
    )


def _fields(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    names = {str(e["loc"][-1]) for e in errors if e.get("loc") and e["loc"][-1] != "body"}
    return sorted(names)
