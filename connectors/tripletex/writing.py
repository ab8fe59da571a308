"""Writes to Tripletex: batch creates that never duplicate, versioned updates, soft deletes.

A create that times out (:class:`OutcomeUnknownError`) may or may not have happened. Before
anything is re-sent, every item of the batch is looked up by its unique key (exact match,
client-side); only the items not found are sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import httpx

from connectors.errors import OutcomeUnknownError, StaleVersionError
from connectors.tripletex import mapping as m
from connectors.tripletex.entities import (
    CUSTOMERS,
    EMPLOYEES,
    ENTITIES,
    PROJECTS,
    TIMESHEET_ENTRIES,
    EntityApi,
)
from connectors.tripletex.reading import read_all_pages
from sync.records import Customer, Employee, HourEntry, Project, Record

logger = logging.getLogger("connectors.tripletex")

R = TypeVar("R", bound=Record)
MAX_RECONCILE_ROUNDS = 3
CLOCK_SKEW = dt.timedelta(minutes=5)


class TripletexWrites:
    """Write operations; mixed into :class:`TripletexClient`, which provides ``call``."""

    batch_size: int
    call: Callable[..., Awaitable[httpx.Response]]

    # --- creates -----------------------------------------------------------------------

    async def create_customers(self, records: Sequence[Customer]) -> list[Customer]:
        """Create customers via ``POST /customer/list`` in batches; returns them with ids."""
        return await self._create_many(CUSTOMERS, records)

    async def create_customer(self, record: Customer) -> Customer:
        """Create one customer (``POST /customer``)."""
        return (await self._create_batch(CUSTOMERS, [record], single=True))[0]

    async def create_employees(self, records: Sequence[Employee]) -> list[Employee]:
        """Create employees via ``POST /employee/list`` in batches."""
        return await self._create_many(EMPLOYEES, records)

    async def create_employee(self, record: Employee) -> Employee:
        """Create one employee (``POST /employee``)."""
        return (await self._create_batch(EMPLOYEES, [record], single=True))[0]

    async def create_projects(self, records: Sequence[Project]) -> list[Project]:
        """Create projects via ``POST /project/list`` in batches."""
        return await self._create_many(PROJECTS, records)

    async def create_project(self, record: Project) -> Project:
        """Create one project (``POST /project``)."""
        return (await self._create_batch(PROJECTS, [record], single=True))[0]

    async def create_timesheet_entries(self, records: Sequence[HourEntry]) -> list[HourEntry]:
        """Create timesheet entries via ``POST /timesheet/entry/list`` in batches."""
        return await self._create_many(TIMESHEET_ENTRIES, records)

    async def create_timesheet_entry(self, record: HourEntry) -> HourEntry:
        """Create one timesheet entry (``POST /timesheet/entry``)."""
        return (await self._create_batch(TIMESHEET_ENTRIES, [record], single=True))[0]

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
        if api is CUSTOMERS:
            since = m.tripletex_time(sent_at - CLOCK_SKEW)
            params["changedSince"] = since
            variants = [params | {"isInactive": flag} for flag in ("false", "true")]
        elif api is TIMESHEET_ENTRIES:
            dates = [cast(HourEntry, i).date for i in items]
            params["dateFrom"] = min(dates).isoformat()
            params["dateTo"] = (max(dates) + dt.timedelta(days=1)).isoformat()
        raw: list[dict[str, Any]] = []
        for variant in variants:
            raw += await read_all_pages(self.call, api.path, variant, endpoint="reconcile")
        return [api.from_json(r) for r in raw]

    # --- updates -----------------------------------------------------------------------

    async def update_customer(self, record: Customer) -> Customer:
        """PUT the customer with its ``version``; 409 code 8000 → StaleVersionError."""
        return await self._update(CUSTOMERS, record)

    async def update_employee(self, record: Employee) -> Employee:
        """PUT the employee with its ``version`` (``userType`` is left as it is)."""
        return await self._update(EMPLOYEES, record)

    async def update_project(self, record: Project) -> Project:
        """PUT the project with its ``version``."""
        return await self._update(PROJECTS, record)

    async def update(self, record: Record) -> Record:
        """PUT any synced record (customer, employee, project) with its ``version``: the
        record's entity picks the endpoint."""
        return await self._update(ENTITIES[record.entity.value], record)

    async def update_timesheet_entry(self, record: HourEntry) -> HourEntry:
        """PUT the timesheet entry with its ``version``."""
        return await self._update(TIMESHEET_ENTRIES, record)

    async def update_customers(self, records: Sequence[Customer]) -> list[Customer]:
        """PUT many customers with their versions (``PUT /customer/list``), in batches."""
        return await self._update_many(CUSTOMERS, records)

    async def update_projects(self, records: Sequence[Project]) -> list[Project]:
        """PUT many projects with their versions (``PUT /project/list``), in batches.

        Employees have no ``PUT /employee/list`` in the spec: they are updated one by one.
        """
        return await self._update_many(PROJECTS, records)

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

    async def deactivate_customer(self, customer_id: str, version: int | None = None) -> Customer:
        """Set ``isInactive=true`` (Tripletex refuses to delete customers with history)."""
        body = _identity(customer_id, version) | {"isInactive": True}
        response = await self.call("PUT", f"/customer/{customer_id}", json=body)
        return m.customer_from_tripletex(response.json()["value"])

    async def close_project(self, project_id: str, version: int | None = None) -> Project:
        """Set ``isClosed=true`` on the project."""
        body = _identity(project_id, version) | {"isClosed": True}
        response = await self.call("PUT", f"/project/{project_id}", json=body)
        return m.project_from_tripletex(response.json()["value"])

    async def delete_timesheet_entry(self, entry_id: str, version: int) -> None:
        """Delete a timesheet entry (``version`` guards against deleting a changed entry)."""
        await self.call("DELETE", f"/timesheet/entry/{entry_id}", params={"version": version})

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
