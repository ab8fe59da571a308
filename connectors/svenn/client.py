"""The Svenn API client: reads and writes canonical records over :class:`ApiClient`.

Reads come from :class:`~connectors.svenn.reader.SvennReader`. Creates carry an
``externalRef`` when the caller gives one, which makes them safe to repeat: after a write whose
outcome is unknown (timeout, dropped connection, 5xx) the record is looked up by that key
before anything is sent again, and a repeat that Svenn refuses with 409
external-ref-conflict resolves to the record that already exists. Batch creates report one
:class:`CreateOutcome` per record, so one bad record never sinks the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar, cast

from connectors.errors import ApiError, OutcomeUnknownError, TransientError
from connectors.svenn.errors import ExternalRefConflictError, problem_error
from connectors.svenn.mapping import (
    UnmappableRecordError,
    project_from_svenn,
    record_from_svenn,
    record_to_svenn,
    record_to_svenn_patch,
)
from connectors.svenn.reader import (
    MAX_BATCH,
    PAGE_LIMIT,
    RESOURCE,
    Json,
    SvennReader,
    Tenant,
)
from sync.entities import Project
from sync.records import Entity, Record

__all__ = ["MAX_BATCH", "PAGE_LIMIT", "CreateOutcome", "SvennClient", "Tenant"]

R = TypeVar("R", bound=Record)
# Single-record writes a sync keeps in flight at once per tenant (Svenn has no batch update).
WRITE_CONCURRENCY = 4
Reader = Callable[[Mapping[str, Any]], R]


_UNSURE = (OutcomeUnknownError, TransientError)


@dataclass(frozen=True)
class CreateOutcome(Generic[R]):
    """What became of one record in a (batch) create: the created record, or why not."""

    index: int
    requested: R
    record: R | None = None
    error: ApiError | None = None
    external_ref: str | None = None
    already_existed: bool = False  # a record with this externalRef was there before

    @property
    def ok(self) -> bool:
        """True when the record exists in Svenn now."""
        return self.record is not None


class SvennClient(SvennReader):
    """One tenant's Svenn API: everything :class:`SvennReader` reads, plus writes."""

    # --- creating ----------------------------------------------------------------------------

    async def create_many(
        self,
        entity: Entity,
        records: Sequence[R],
        external_refs: Sequence[str | None] | None = None,
    ) -> list[CreateOutcome[R]]:
        """Create records through the batch endpoint; one outcome per record, in order."""
        return await self._create_many(entity, _reader(entity), records, external_refs)

    async def create(self, record: R, external_ref: str | None = None) -> R:
        """Create one record (or return the one that already carries ``external_ref``; hours
        have no such key)."""
        entity = record.entity
        return await self._create_one(entity, _reader(entity), record, external_ref)

    async def _create_one(
        self, entity: Entity, reader: Reader[R], record: R, external_ref: str | None
    ) -> R:
        body = record_to_svenn(record, external_ref)
        path = RESOURCE[entity]
        attempt = 0
        while True:
            try:
                response = await self.api.request("POST", path, json=body, endpoint=f"POST {path}")
                return reader(response.json())
            except ExternalRefConflictError as error:
                if error.existing_id is None:
                    raise
                return reader(await self._get_json(entity, error.existing_id))
            except _UNSURE:
                if external_ref is None or attempt >= self.api.policy.max_retries:
                    raise
                found = await self._find_json(entity, external_ref)
                if found is not None:
                    return reader(found)
            await asyncio.sleep(self.api.policy.backoff(attempt))
            attempt += 1

    async def _create_many(
        self,
        entity: Entity,
        reader: Reader[R],
        records: Sequence[R],
        external_refs: Sequence[str | None] | None,
    ) -> list[CreateOutcome[R]]:
        refs = list(external_refs) if external_refs is not None else [None] * len(records)
        if len(refs) != len(records):
            raise ValueError("external_refs must have one entry per record")
        outcomes: dict[int, CreateOutcome[R]] = {}
        pending: list[tuple[int, Json]] = []
        for index, (record, ref) in enumerate(zip(records, refs, strict=True)):
            try:
                pending.append((index, record_to_svenn(record, ref)))
            except UnmappableRecordError as error:
                outcomes[index] = CreateOutcome(index, record, error=error, external_ref=ref)
        for start in range(0, len(pending), self.batch_size):
            chunk = pending[start : start + self.batch_size]
            for outcome in await self._create_chunk(entity, reader, records, refs, chunk):
                outcomes[outcome.index] = outcome
        return [outcomes[i] for i in range(len(records))]

    async def _create_chunk(
        self,
        entity: Entity,
        reader: Reader[R],
        records: Sequence[R],
        refs: Sequence[str | None],
        chunk: Sequence[tuple[int, Json]],
    ) -> list[CreateOutcome[R]]:
        try:
            results = await self._post_batch(entity, [body for _, body in chunk])
        except ApiError as error:
            return [
                CreateOutcome(i, records[i], error=error, external_ref=refs[i]) for i, _ in chunk
            ]
        outcomes: list[CreateOutcome[R]] = []
        existing: dict[str, int] = {}
        for (index, _), result in zip(chunk, results, strict=True):
            outcome = CreateOutcome(index, records[index], external_ref=refs[index])
            if result.status == 201 and result.data is not None:
                outcomes.append(_replace(outcome, record=reader(result.data)))
            elif isinstance(result.error, ExternalRefConflictError) and result.error.existing_id:
                existing[result.error.existing_id] = index
            else:
                outcomes.append(_replace(outcome, error=result.error))
        if existing:
            found = {r.id: r for r in await self.get_many(entity, existing)}
            for record_id, index in existing.items():
                outcome = CreateOutcome(index, records[index], external_ref=refs[index])
                record = found.get(record_id)
                if record is None:  # removed between the two calls: report the conflict
                    gone = ApiError(f"{record_id} vanished", code="external-ref-conflict")
                    outcomes.append(_replace(outcome, error=gone))
                else:
                    outcomes.append(_replace(outcome, record=record, already_existed=True))
        return outcomes

    async def _post_batch(self, entity: Entity, items: list[Json]) -> list[BatchItemResult]:
        """POST one batch; an unknown outcome is re-sent only when every item has a key."""
        path = f"{RESOURCE[entity]}/batch"
        keyed = all(item.get("externalRef") for item in items)
        attempt = 0
        while True:
            try:
                response = await self.api.request(
                    "POST", path, json={"items": items}, endpoint=f"POST {path}"
                )
                break
            except _UNSURE:
                # Safe to repeat with keys: an item created the first time now answers 409
                # external-ref-conflict naming the record, which the caller resolves.
                if not keyed or attempt >= self.api.policy.max_retries:
                    raise
            await asyncio.sleep(self.api.policy.backoff(attempt))
            attempt += 1
        results = sorted(response.json()["results"], key=lambda r: int(r["index"]))
        return [batch_item_result(r) for r in results]

    # --- updating ----------------------------------------------------------------------------

    async def update(self, record: R, *, fields: Collection[str] | None = None) -> R:
        """PATCH any synced record at ``record.version`` (its entity decides the resource)."""
        if record.id is None or record.version is None:
            raise ValueError("an update needs the record's id and version as read from Svenn")
        body = record_to_svenn_patch(record, fields)
        data = await self._patch(record.entity, record.id, record.version, body)
        return cast(R, record_from_svenn(record.entity, data))

    async def _patch(self, entity: Entity, record_id: str, version: int, body: Json) -> Json:
        path = RESOURCE[entity]
        response = await self.api.request(
            "PATCH",
            f"{path}/{record_id}",
            json=body,
            headers={"If-Match": f'"{version}"'},
            endpoint=f"PATCH {path}/{{id}}",
        )
        return dict(response.json())

    async def deactivate(
        self, entity: Entity, record_id: str, *, version: int | None = None
    ) -> Record:
        """The soft delete of ``entity``: customers and employees go inactive (idempotent; with
        ``version``, only if still at it); projects close (reading their version first when
        none is given)."""
        if entity is Entity.PROJECT:
            return await self._close_project(record_id, version)
        return record_from_svenn(entity, await self._deactivate(entity, record_id, version))

    async def _deactivate(self, entity: Entity, record_id: str, version: int | None) -> Json:
        path = RESOURCE[entity]
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        response = await self.api.request(
            "POST",
            f"{path}/{record_id}/deactivate",
            headers=headers,
            endpoint=f"POST {path}/{{id}}/deactivate",
            idempotent=True,  # documented as idempotent: safe to retry after a timeout
        )
        return dict(response.json())

    async def _close_project(self, project_id: str, version: int | None) -> Project:
        if version is None:
            # read like any record: one that cannot be read raises MalformedRecordError
            current = await self.get(Entity.PROJECT, project_id)
            assert isinstance(current, Project)
            if current.is_closed:
                return current
            version = current.version or 0
        data = await self._patch(Entity.PROJECT, project_id, version, {"status": "closed"})
        return project_from_svenn(data)


@dataclass(frozen=True)
class BatchItemResult:
    """One entry of a batch response: the created record's JSON, or the problem as an error."""

    index: int
    status: int
    data: Json | None = None
    error: ApiError | None = None


def batch_item_result(data: Mapping[str, Any]) -> BatchItemResult:
    """Parse one ``results`` entry of a batch response."""
    status = int(data["status"])
    problem = data.get("problem")
    error = problem_error(problem, status) if isinstance(problem, Mapping) else None
    if status != 201 and error is None:
        error = ApiError(f"batch item refused with status {status}", status=status)
    return BatchItemResult(int(data["index"]), status, data.get("data"), error)


def _reader(entity: Entity) -> Reader[Any]:
    """The mapping of one record of ``entity`` from its Svenn JSON."""
    return lambda data: record_from_svenn(entity, data)


def _replace(outcome: CreateOutcome[R], **changes: Any) -> CreateOutcome[R]:
    return replace(outcome, **changes)
