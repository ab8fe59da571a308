"""Writes to Tripletex: batch creates that never duplicate, versioned updates, soft deletes,
and the batch-write protocol (:func:`write_each`).

A create that times out (:class:`OutcomeUnknownError`) may or may not have happened. Before
anything is re-sent, every item of the batch is looked up by its unique key (exact match,
client-side); only the items not found are sent again.

Tripletex batches are all-or-nothing, and a refusal names the item it blames by its index
(``[3].projectManager.id``): :func:`write_each` takes that item out as failed and sends the
rest again, so a batch with k bad items costs k + 1 requests; a refusal naming no item sends
the rest one by one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from connectors.errors import ApiError, OutcomeUnknownError, StaleVersionError
from connectors.http import Answer
from connectors.tripletex import mapping as m
from connectors.tripletex.entities import ENTITIES, EntityApi
from connectors.tripletex.reading import read_all_pages
from sync.entities import HourEntry
from sync.records import Entity, Record

logger = logging.getLogger("connectors.tripletex")

R = TypeVar("R", bound=Record)
T = TypeVar("T")
W = TypeVar("W")
MAX_RECONCILE_ROUNDS = 3
CLOCK_SKEW = dt.timedelta(minutes=5)
_ITEM_INDEX = re.compile(r"^\[(\d+)\]")


def failed_item(error: ApiError) -> int | None:
    """The batch index Tripletex blamed (validation paths look like ``[3].projectManager.id``)."""
    for field_error in error.field_errors:
        found = _ITEM_INDEX.match(field_error.path or field_error.field or "")
        if found:
            return int(found.group(1))
    return None


def _retryable(error: ApiError) -> bool:
    return error.retryable


async def write_each(
    items: Sequence[T],
    write_many: Callable[[list[T]], Awaitable[Sequence[W]]],
    write_one: Callable[[T], Awaitable[W]] | None = None,
    *,
    fatal: Callable[[ApiError], bool] = _retryable,
    smallest_batch: int = 1,
) -> list[W | ApiError | None]:
    """Tripletex's batch-write protocol: one outcome per item, in order.

    The items go in one ``write_many`` batch. A refusal that names an item by its index takes
    that item out (its outcome is the error) and sends the rest again; a refusal that names
    none sends the rest one by one through ``write_one`` (without it they stay unsent: their
    outcome is ``None``, for the caller to send its own way), as does a rest smaller than
    ``smallest_batch``. Errors ``fatal`` picks (by default those worth retrying: 5xx, timeouts,
    429s once the HTTP policy gave up) are raised: what was written before stays written.
    """
    results: dict[int, W | ApiError] = {}
    pending = list(range(len(items)))
    while pending and len(pending) >= smallest_batch:
        try:
            done = await write_many([items[i] for i in pending])
        except ApiError as error:
            if fatal(error):
                raise
            bad = failed_item(error)
            if bad is None or bad >= len(pending):
                break
            results[pending.pop(bad)] = error
            continue
        results.update(zip(pending, done, strict=True))
        pending = []
    if write_one is not None:
        for index in pending:
            try:
                results[index] = await write_one(items[index])
            except ApiError as error:
                if fatal(error):
                    raise
                results[index] = error
    return [results.get(i) for i in range(len(items))]


class TripletexWrites:
    """Write operations; mixed into :class:`TripletexClient`, which provides ``call``."""

    batch_size: int
    call: Callable[..., Awaitable[Answer]]

    # --- creates -----------------------------------------------------------------------

    async def create_many(self, entity: Entity, records: Sequence[R]) -> list[R]:
        """Create records via ``POST <path>/list`` in batches of ``batch_size``; returns them
        with ids, in order. A refusal raises (see :func:`write_each` for one outcome each)."""
        return await self._create_many(ENTITIES[entity], records)

    async def create(self, record: R) -> R:
        """Create one record (``POST <path>``; its entity picks the endpoint)."""
        api = ENTITIES[record.entity]
        return (await self._create_batch(api, [record], single=True))[0]

    async def create_each(self, entity: Entity, records: Sequence[R]) -> list[R | ApiError]:
        """Create by :func:`write_each`: one outcome per record, the created record or
        Tripletex's refusal of it (see :meth:`_each_batch`)."""
        outcomes = await self._each_batch(
            records, lambda batch: self.create_many(entity, batch), self.create
        )
        return [cast(R | ApiError, outcome) for outcome in outcomes]

    async def _each_batch(
        self,
        records: Sequence[R],
        write_many: Callable[[list[R]], Awaitable[Sequence[R]]],
        write_one: Callable[[R], Awaitable[R]] | None,
        *,
        fatal: Callable[[ApiError], bool] = _retryable,
        smallest_batch: int = 1,
    ) -> list[R | ApiError | None]:
        """:func:`write_each` on one ``<path>/list`` batch of at most ``batch_size`` records at
        a time, so an index Tripletex names in a refusal is always one of that batch."""
        size = max(1, self.batch_size)
        outcomes: list[R | ApiError | None] = []
        for start in range(0, len(records), size):
            done = await write_each(
                records[start : start + size],
                write_many,
                write_one,
                fatal=fatal,
                smallest_batch=smallest_batch,
            )
            outcomes += [cast(R | ApiError | None, outcome) for outcome in done]
        return outcomes

    async def _create_many(self, api: EntityApi, records: Sequence[R]) -> list[R]:
        created: list[R] = []
        for start in range(0, len(records), max(1, self.batch_size)):
            created += await self._create_batch(api, records[start : start + self.batch_size])
        return created

    async def _create_batch(
        self, api: EntityApi, batch: Sequence[R], *, single: bool = False
    ) -> list[R]:
        done: dict[int, R] = {}
        pending = list(range(len(batch)))
        for round_ in range(MAX_RECONCILE_ROUNDS + 1):
            sent_at = dt.datetime.now(dt.UTC)
            try:
                done |= await self._post(api, batch, pending, single)
                break
            except OutcomeUnknownError:
                if round_ == MAX_RECONCILE_ROUNDS:
                    raise
                found = await self._reconcile(api, [batch[i] for i in pending], sent_at)
                logger.warning(
                    "tripletex %s create timed out; %d of %d found by lookup, re-sending the rest",
                    api.name,
                    sum(f is not None for f in found),
                    len(pending),
                )
                for index, record in zip(list(pending), found, strict=True):
                    if record is not None:
                        done[index] = cast(R, record)
                pending = [i for i in pending if i not in done]
                if not pending:
                    break
        return [done[i] for i in range(len(batch))]

    async def _post(
        self, api: EntityApi, batch: Sequence[R], pending: list[int], single: bool
    ) -> dict[int, R]:
        bodies = [api.to_json(batch[i], False) for i in pending]
        if single and len(bodies) == 1:
            response = await self.call("POST", api.path, json=bodies[0])
            values = [response.json()["value"]]
        else:
            response = await self.call("POST", api.batch_path, json=bodies)
            values = list(response.json().get("values") or [])
        return {i: cast(R, api.from_json(v)) for i, v in zip(pending, values, strict=True)}

    async def _reconcile(
        self, api: EntityApi, items: Sequence[Record], sent_at: dt.datetime
    ) -> list[Record | None]:
        """For each item, the record Tripletex holds with the same unique key (or None)."""
        index: dict[tuple[str, str], Record] = {}
        for candidate in await self._candidates(api, items, sent_at):
            for key in api.keys(candidate):
                index.setdefault(key, candidate)
        found: list[Record | None] = []
        for item in items:
            keys = api.keys(item)
            found.append(index.get(keys[0]) if keys else None)  # strongest key only
        return found

    async def _candidates(
        self, api: EntityApi, items: Sequence[Record], sent_at: dt.datetime
    ) -> list[Record]:
        params: dict[str, Any] = {"fields": api.fields}
        variants: list[dict[str, Any]] = [params]
        if api.endpoints.inactive_filter:
            since = m.tripletex_time(sent_at - CLOCK_SKEW)
            params["changedSince"] = since
            variants = [params | {"isInactive": flag} for flag in ("false", "true")]
        elif api.endpoints.dated:
            dates = [cast(HourEntry, i).date for i in items]
            params["dateFrom"] = min(dates).isoformat()
            params["dateTo"] = (max(dates) + dt.timedelta(days=1)).isoformat()
        raw: list[dict[str, Any]] = []
        for variant in variants:
            raw += await read_all_pages(self.call, api.path, variant, endpoint="reconcile")
        return [api.from_json(r) for r in raw]

    # --- updates -----------------------------------------------------------------------

    async def update(self, record: R) -> R:
        """PUT any record with its ``version`` (its entity picks the endpoint); 409 code 8000
        → StaleVersionError. Employees keep their ``userType``."""
        return await self._update(ENTITIES[record.entity], record)

    def has_update_many(self, entity: Entity) -> bool:
        """True when ``entity`` has a batch update (``PUT <path>/list``); employees have none."""
        return ENTITIES[entity].endpoints.batch_update

    async def update_many(self, entity: Entity, records: Sequence[R]) -> list[R]:
        """PUT many records with their versions (``PUT <path>/list``), in batches."""
        api = ENTITIES[entity]
        if not api.endpoints.batch_update:
            raise ValueError(f"Tripletex has no batch update for {api.name} records")
        return await self._update_many(api, records)

    async def update_each(
        self,
        entity: Entity,
        records: Sequence[R],
        *,
        fatal: Callable[[ApiError], bool] = _retryable,
        smallest_batch: int = 1,
        one_by_one: bool = True,
    ) -> list[R | ApiError | None]:
        """Update by :func:`write_each`, one outcome per record: the record as Tripletex holds
        it after, or its refusal (``None``: left unsent for the caller, ``one_by_one=False``);
        see :meth:`_each_batch`."""
        return await self._each_batch(
            records,
            lambda batch: self.update_many(entity, batch),
            self.update if one_by_one else None,
            fatal=fatal,
            smallest_batch=smallest_batch,
        )

    async def _update_many(self, api: EntityApi, records: Sequence[R]) -> list[R]:
        """The records as Tripletex holds them after the update, in order.

        A batch is all-or-nothing: any refusal (409 code 8000 for a stale version of one item,
        a 422 naming ``[i].field``) raises and nothing of that batch was written.
        """
        if any(r.id is None for r in records):
            raise ValueError(f"cannot update a {api.name} without an id")
        updated: list[R] = []
        for start in range(0, len(records), max(1, self.batch_size)):
            bodies = [api.to_json(r, True) for r in records[start : start + self.batch_size]]
            response = await self.call("PUT", api.batch_path, json=bodies)
            values = list(response.json().get("values") or [])
            if len(values) != len(bodies):
                raise ValueError(
                    f"PUT {api.batch_path} answered {len(values)} values for {len(bodies)} items"
                )
            updated += [cast(R, api.from_json(v)) for v in values]
        return updated

    async def _update(self, api: EntityApi, record: R) -> R:
        if record.id is None:
            raise ValueError(f"cannot update a {api.name} without an id")
        body = api.to_json(record, True)
        try:
            response = await self.call("PUT", f"{api.path}/{record.id}", json=body)
        except StaleVersionError:
            # A retried PUT whose first attempt went through looks stale: check the content.
            current = await self._get(api, record.id)
            if _same_content(current, record):
                return cast(R, current)
            raise
        return cast(R, api.from_json(response.json()["value"]))

    async def _get(self, api: EntityApi, record_id: str) -> Record:
        response = await self.call("GET", f"{api.path}/{record_id}", params={"fields": api.fields})
        return api.from_json(response.json()["value"])

    # --- soft deletes and rights -------------------------------------------------------

    async def deactivate(
        self, entity: Entity, record_id: str, version: int | None = None
    ) -> Record:
        """The soft delete of ``entity``: customers go inactive (Tripletex refuses to delete
        customers with history), projects close. ``version`` guards against a changed record."""
        api = ENTITIES[entity]
        if api.endpoints.deactivate is None:
            raise ValueError(f"Tripletex has no soft delete for {api.name} records")
        body = _identity(record_id, version) | dict(api.endpoints.deactivate)
        response = await self.call("PUT", f"{api.path}/{record_id}", json=body)
        return api.from_json(response.json()["value"])

    async def delete(self, entity: Entity, record_id: str, version: int) -> None:
        """Delete a record (timesheet entries; ``version`` guards against a changed one)."""
        path = ENTITIES[entity].path
        await self.call("DELETE", f"{path}/{record_id}", params={"version": version})

    async def grant_project_manager(self, employee_id: str) -> None:
        """Give an employee the rights needed to be a project manager (ALL_PRIVILEGES)."""
        params = {"employeeId": int(employee_id), "template": "ALL_PRIVILEGES"}
        await self.call("PUT", "/employee/entitlement/:grantEntitlementsByTemplate", params=params)


def _identity(record_id: str, version: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": int(record_id)}
    if version is not None:
        body["version"] = version
    return body


def _same_content(current: Record, wanted: Record) -> bool:
    skip = {"id", "version"}
    return current.model_dump(exclude=skip) == wanted.model_dump(exclude=skip)
