"""The tenant API's decisions about held-back records (same bearer gate as the intake):

- ``POST /tenants/{tenant}/links``: the same thing (both systems: link and merge; ``ofId``:
  a duplicate of another record of the same system, left out of the sync);
- ``POST /tenants/{tenant}/keep-apart``: different things (never proposed again; ``ofId``:
  not a duplicate);
- ``POST /tenants/{tenant}/unlink``: undo either (nothing is deleted);
- ``POST /tenants/{tenant}/failures/{row_id}/keep``: answer a ``FIELD_CONFLICT`` row.

The same application services as ``svenn-sync link|keep-apart|unlink|failures resolve``
(:mod:`tasks.decisions`); the rows that waited on a decision are retried after the answer.
Every answer is ``{code, message}`` with one sentence.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from store.decisions import Pair
from tasks.decisions import DecisionOutcome, DecisionRefused
from tasks.tenant import state_store

router = APIRouter()


class PairBody(BaseModel):
    """Two records: ``svennId`` and ``tripletexId``, or one of them and ``ofId``."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    entity: str
    by: str = Field(min_length=1, max_length=200)
    svenn_id: str | None = Field(None, alias="svennId")
    tripletex_id: str | None = Field(None, alias="tripletexId")
    of_id: str | None = Field(None, alias="ofId")
    reason: str | None = None

    def pair(self) -> Pair:
        """The pair named, or a refusal."""
        if self.svenn_id and self.tripletex_id and not self.of_id:
            return Pair(svenn_id=self.svenn_id, tripletex_id=self.tripletex_id)
        if self.of_id and bool(self.svenn_id) != bool(self.tripletex_id):
            side = "svenn" if self.svenn_id else "tripletex"
            return Pair(
                side=side, record_id=self.svenn_id or self.tripletex_id, other_id=self.of_id
            )
        raise DecisionRefused("name svennId and tripletexId, or one of them and ofId")


class KeepBody(BaseModel):
    """Whose value of a conflict row stays, and who says so."""

    model_config = ConfigDict(extra="forbid")

    keep: str
    by: str = Field(min_length=1, max_length=200)


ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Done, or nothing to do (`code` says which); `message` says what."},
    401: {"description": "No or wrong bearer token."},
    422: {
        "description": "Refused in one sentence (unknown tenant or id, another entity, "
        "linked elsewhere, malformed body); nothing changed."
    },
}


def _answer(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


async def _body(request: Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(await request.json())
    except (ValueError, ValidationError) as bad:
        names = ", ".join(model.model_fields)
        raise DecisionRefused(f"send a JSON object with {names}") from bad


def schedule_retry(
    outcome: DecisionOutcome, tenant: str, background: BackgroundTasks, by: str
) -> None:
    """After a decision that changed something, retry the rows that waited on it."""
    if outcome.changed and outcome.retry_rows:
        background.add_task(_retry, tenant, outcome.retry_rows, by)


def _done(outcome: DecisionOutcome, tenant: str, background: BackgroundTasks, by: str) -> Any:
    schedule_retry(outcome, tenant, background, by)
    code = "DONE" if outcome.changed else "NOTHING_TO_DO"
    return _answer(200, code, outcome.message, retrying=len(outcome.retry_rows))


async def _retry(tenant: str, rows: list[int], by: str) -> None:
    from flows.retry_failed import retry_failed

    await retry_failed(tenant, failure_ids=rows, retried_by=by)


async def apply_decision(
    tenant: str, verb: str, entity: str, pair: Pair, *, by: str, reason: str | None
) -> DecisionOutcome:
    """``verb`` ("link", "keep-apart", "unlink") about ``pair``, through the decision service:
    the one dispatch the tenant API and the Logg page's buttons share."""
    from tasks.decisions import keep_apart, link_records, mark_duplicate, undo_decision

    store = state_store()
    if verb == "link" and pair.same_side:
        return await mark_duplicate(store, tenant, entity, pair, by=by, reason=reason)
    if verb == "link":
        return await link_records(
            store, tenant, entity, str(pair.svenn_id), str(pair.tripletex_id),
            by=by, reason=reason,
        )  # fmt: skip
    if verb == "keep-apart":
        return await keep_apart(store, tenant, entity, pair, by=by, reason=reason)
    return await undo_decision(store, tenant, entity, pair, by=by)


async def _decide(request: Request, tenant: str, background: BackgroundTasks, verb: str) -> Any:
    try:
        body = await _body(request, PairBody)
        outcome = await apply_decision(
            tenant, verb, body.entity, body.pair(), by=body.by, reason=body.reason
        )
    except DecisionRefused as refused:
        return _answer(422, "REFUSED", str(refused))
    return _done(outcome, tenant, background, body.by)


@router.post("/tenants/{tenant}/links", responses=ANSWERS)
async def link(tenant: str, request: Request, background: BackgroundTasks) -> Any:
    """These two records are the same thing (or, with ofId, a duplicate left out)."""
    return await _decide(request, tenant, background, "link")


@router.post("/tenants/{tenant}/keep-apart", responses=ANSWERS)
async def apart(tenant: str, request: Request, background: BackgroundTasks) -> Any:
    """These two records are different things (or, with ofId, not a duplicate)."""
    return await _decide(request, tenant, background, "keep-apart")


@router.post("/tenants/{tenant}/unlink", responses=ANSWERS)
async def unlink(tenant: str, request: Request, background: BackgroundTasks) -> Any:
    """Undo a link or decision about two records; nothing is deleted in either system."""
    return await _decide(request, tenant, background, "unlink")


@router.post("/tenants/{tenant}/failures/{row_id}/keep", responses=ANSWERS)
async def keep(tenant: str, row_id: int, request: Request) -> Any:
    """Answer a FIELD_CONFLICT row: keep that system's value on both sides."""
    from tasks.conflict_choice import keep_value

    try:
        body = await _body(request, KeepBody)
        outcome = await keep_value(state_store(), tenant, row_id, body.keep, by=body.by)
    except DecisionRefused as refused:
        return _answer(422, "REFUSED", str(refused))
    return _answer(200, "DONE" if outcome.changed else "NOTHING_TO_DO", outcome.message)
