"""TripletexClient: the Tripletex API v2 spoken in canonical records.

Reads page through whole lists with only the mapped fields; writes use the batch ``/list``
endpoints; versioned PUTs raise :class:`StaleVersionError` on 409 code 8000. Creates whose
outcome is unknown (timeout) are reconciled by exact key lookup before anything is re-sent
(see :mod:`connectors.tripletex.writing`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from connectors.errors import ApiError, AuthenticationError, PermissionDeniedError
from connectors.http import ApiClient, Connector, HttpPolicy
from connectors.records import RecordList, read_records
from connectors.tripletex import mapping as m
from connectors.tripletex.clock import Clock, oslo_today, utc_now
from connectors.tripletex.entities import CUSTOMERS, EMPLOYEES, ENTITIES, PROJECTS, EntityApi
from connectors.tripletex.errors import TripletexAuthenticationError, tripletex_error
from connectors.tripletex.reading import PAGE_SIZE, read_all_pages, read_changed_pages
from connectors.tripletex.session import SessionAuth, TripletexSession
from connectors.tripletex.subscriptions import TripletexSubscriptions
from connectors.tripletex.timesheet import TripletexTimesheet
from connectors.tripletex.writing import TripletexWrites
from sync.malformed import MalformedFieldError, MalformedRecord, Problem
from sync.records import Activity, Customer, Employee, Entity, Project, Record, System

R = TypeVar("R")
ENTITY_OF: dict[str, Entity] = {
    "customer": Entity.CUSTOMER,
    "employee": Entity.EMPLOYEE,
    "project": Entity.PROJECT,
    "timesheet_entry": Entity.HOURS,
}

ID_CHUNK = 100
PROBES: dict[str, str] = {
    "customers": "/customer",
    "employees": "/employee",
    "projects": "/project",
    "activities": "/activity",
    "timesheet": "/timesheet/entry",
}


UNREADABLE_VERSION = -1  # no real record has it: the record shows as changed, and is fetched


class Versions(dict[str, int]):
    """``id → version`` of a list; ``malformed``: rows whose id could not be read."""

    def __init__(self, versions: Mapping[str, int] | None = None) -> None:
        super().__init__(versions or {})
        self.malformed: list[MalformedRecord] = []


@dataclass(frozen=True)
class WhoAmI:
    """Who the employee token belongs to."""

    company_id: int
    employee_id: int
    company_name: str | None


class TripletexClient(TripletexWrites, TripletexTimesheet, TripletexSubscriptions, Connector):
    """Async Tripletex client for one tenant (one employee token)."""

    def __init__(
        self,
        base_url: str,
        consumer_token: str,
        employee_token: str,
        *,
        policy: HttpPolicy | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        company_id: int = 0,
        batch_size: int = 100,
        now: Clock = utc_now,
    ) -> None:
        self._auth = SessionAuth(company_id)
        self.api = ApiClient(
            base_url,
            policy=policy,
            auth=self._auth,
            secrets=(consumer_token, employee_token),
            event_hooks=event_hooks,
            error_factory=tripletex_error,
            system="tripletex",
        )
        self.session = TripletexSession(
            self.api, self._auth, consumer_token, employee_token, now=now
        )
        self.batch_size = batch_size
        self._concurrency = max(1, self.api.policy.max_connections // 2)

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call with a session: renews once on 401, then fails clearly."""
        await self.session.ensure()
        generation = self.session.generation
        try:
            return await self.api.request(method, path, **kwargs)
        except AuthenticationError:
            await self.session.renew(generation)
        try:
            return await self.api.request(method, path, **kwargs)
        except AuthenticationError as error:
            raise TripletexAuthenticationError(
                "Tripletex refused a freshly created session token "
                f"(wrong company id or revoked employee token?): {error.message}",
                status=error.status,
                code=error.code,
                request_id=error.request_id,
                details=error.details,
                method=method,
                path=path,
            ) from None

    # --- identity and access -------------------------------------------------------------

    async def who_am_i(self) -> WhoAmI:
        """The company and employee the token belongs to."""
        fields = "employeeId,companyId,company(id,name)"
        response = await self.call("GET", "/token/session/>whoAmI", params={"fields": fields})
        value = response.json()["value"]
        company = value.get("company") or {}
        return WhoAmI(int(value["companyId"]), int(value["employeeId"]), company.get("name"))

    async def probe_access(self) -> dict[str, str | None]:
        """Area → ``None`` if the token can read it, else the reason (one cheap read each).

        Only a clear refusal (401/403) means the token lacks access; anything else (5xx, 429,
        a dropped connection once the policy's retries are spent) is raised, because it says
        nothing about the key.
        """
        today = oslo_today(self.session.now)
        result: dict[str, str | None] = {}
        for area, path in PROBES.items():
            params: dict[str, Any] = {"from": 0, "count": 1, "fields": "id"}
            if area == "timesheet":
                params |= {"dateFrom": today.isoformat(), "dateTo": _next_day(today)}
            try:
                await self.call("GET", path, params=params, endpoint=f"probe {area}")
                result[area] = None
            except (AuthenticationError, PermissionDeniedError) as error:
                result[area] = f"{type(error).__name__}: {error.message}"
        return result

    # --- reading ---------------------------------------------------------------------------

    def _records(
        self, entity: Entity, rows: Iterable[Mapping[str, Any]], mapper: Callable[[Any], R]
    ) -> RecordList[R]:
        """Rows mapped one by one; those that cannot be read (or have no id) land in
        ``.malformed``."""

        def identified(row: Any) -> R:
            record = mapper(row)
            if getattr(record, "id", None) is None:
                raise MalformedFieldError("id", None, Problem.MISSING)
            return record

        return read_records(System.TRIPLETEX, entity, rows, identified, redact=self.api.redact)

    def _employee_mapper(self) -> Callable[[Mapping[str, Any]], Employee]:
        today = oslo_today(self.session.now)  # employments end on Oslo dates
        return lambda raw: m.employee_from_tripletex(raw, today=today)

    async def _read(self, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return await read_all_pages(
            self.call, path, params, concurrency=self._concurrency, endpoint=f"GET {path}"
        )

    async def list_customers(
        self, *, changed_since: dt.datetime | None = None, include_inactive: bool = True
    ) -> RecordList[Customer]:
        """Every customer (active ones, and inactive ones unless told otherwise)."""
        params: dict[str, Any] = {"fields": m.CUSTOMER_FIELDS}
        if changed_since is not None:
            params["changedSince"] = m.tripletex_time(changed_since)
        states = (False, True) if include_inactive else (False,)
        raw: list[dict[str, Any]] = []
        for inactive in states:  # Tripletex's isInactive filter defaults to false
            raw += await self._read("/customer", params | {"isInactive": _flag(inactive)})
        return self._records(Entity.CUSTOMER, sorted(raw, key=_id_order), m.customer_from_tripletex)

    async def list_employees(self) -> RecordList[Employee]:
        """Every employee (no contacts)."""
        raw = await self._read("/employee", {"fields": m.EMPLOYEE_FIELDS})
        return self._records(Entity.EMPLOYEE, raw, self._employee_mapper())

    async def list_project_manager_ids(self) -> set[str]:
        """Ids of the employees Tripletex accepts as project manager (one cheap read)."""
        params = {"assignableProjectManagers": "true", "fields": "id"}
        return {str(r["id"]) for r in await self._read("/employee", params)}

    async def list_projects(self) -> RecordList[Project]:
        """Every project, closed ones included."""
        raw = await self._read("/project", {"fields": m.PROJECT_FIELDS})
        return self._records(Entity.PROJECT, raw, m.project_from_tripletex)

    async def list_activities(self) -> list[Activity]:
        """Every activity."""
        raw = await self._read("/activity", {"fields": m.ACTIVITY_FIELDS})
        return [m.activity_from_tripletex(r) for r in raw]

    async def list_timesheet_entries(
        self, date_from: dt.date, date_to: dt.date
    ) -> RecordList[Record]:
        """Timesheet entries with ``date_from <= date < date_to`` (Tripletex's own convention)."""
        params = {
            "fields": m.TIMESHEET_FIELDS,
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
        }
        raw = await self._read("/timesheet/entry", params)
        return self._records(Entity.HOURS, raw, m.hour_entry_from_tripletex)

    async def _by_ids(self, entity: EntityApi, ids: Iterable[str]) -> list[dict[str, Any]]:
        """One ``id=1,2,3`` list read per chunk of ids. Customers: active ones first
        (Tripletex's ``isInactive`` filter defaults to false and takes one value), then the
        inactive filter only for the ids the first read did not return."""
        wanted = sorted({str(i) for i in ids}, key=int)
        raw = await self._id_chunks(entity, wanted, {})
        if entity is CUSTOMERS:
            found = {str(r.get("id")) for r in raw}
            rest = [i for i in wanted if i not in found]
            raw += await self._id_chunks(entity, rest, {"isInactive": _flag(True)})
        return raw

    async def _id_chunks(
        self, entity: EntityApi, ids: list[str], extra: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        raw: list[dict[str, Any]] = []
        for start in range(0, len(ids), ID_CHUNK):
            params = {"fields": entity.fields, "id": ",".join(ids[start : start + ID_CHUNK])}
            if entity is CUSTOMERS:
                params["isInactive"] = _flag(False)
            raw += await self._read(entity.path, params | dict(extra))
        return raw

    async def get_customers_by_ids(self, ids: Iterable[str]) -> RecordList[Customer]:
        """The customers with these ids (active or not); unknown ids are left out."""
        raw = await self._by_ids(CUSTOMERS, ids)
        return self._records(Entity.CUSTOMER, raw, m.customer_from_tripletex)

    async def get_employees_by_ids(self, ids: Iterable[str]) -> RecordList[Employee]:
        """The employees with these ids; unknown ids are left out."""
        raw = await self._by_ids(EMPLOYEES, ids)
        return self._records(Entity.EMPLOYEE, raw, self._employee_mapper())

    async def get_projects_by_ids(self, ids: Iterable[str]) -> RecordList[Project]:
        """The projects with these ids (closed ones fetched one by one: Tripletex issue #101)."""
        wanted = {str(i) for i in ids}
        raw = await self._by_ids(PROJECTS, wanted)
        found = self._records(Entity.PROJECT, raw, m.project_from_tripletex)
        seen = {p.id for p in found} | {bad.record_id for bad in found.malformed}
        for missing in sorted(wanted - seen, key=int):
            try:
                response = await self.call(
                    "GET", f"/project/{missing}", params={"fields": m.PROJECT_FIELDS}
                )
            except ApiError as error:
                if error.status == 404:
                    continue
                raise
            one = self._records(
                Entity.PROJECT, [response.json()["value"]], m.project_from_tripletex
            )
            found += one
            found.malformed += one.malformed
        return found

    async def list_changed(
        self, entity: str, digest: str | None
    ) -> tuple[RecordList[Record] | None, str]:
        """All records of ``entity`` unless unchanged since ``digest`` (then ``None``)."""
        api = ENTITIES[entity]
        raw, new_digest = await read_changed_pages(
            self.call, api.path, {"fields": api.fields}, digest, endpoint=f"GET {api.path}"
        )
        if raw is None:
            return None, new_digest
        mapper = self._employee_mapper() if api is EMPLOYEES else api.from_json
        return self._records(ENTITY_OF[api.name], raw, mapper), new_digest

    async def poll_versions(self, entity: str, digest: str | None) -> tuple[Versions | None, str]:
        """``id → version`` of ``entity`` unless unchanged since ``digest`` (then ``None``).

        One ``If-None-Match`` request per page when nothing changed (a 304). Customers are
        polled active only (Tripletex's default): an inactivated customer leaves the list.
        """
        api = ENTITIES[entity]
        raw, new_digest = await read_changed_pages(
            self.call, api.path, {"fields": "id,version"}, digest, endpoint=f"poll {api.path}"
        )
        if raw is None:
            return None, new_digest
        return self._versions(api, raw), new_digest

    async def list_versions(self, entity: str) -> Versions:
        """``id → version`` of every record of ``entity`` (cheap change detection)."""
        api = ENTITIES[entity]
        params = {"fields": "id,version"}
        if api is CUSTOMERS:
            raw = []
            for inactive in (False, True):
                raw += await self._read(api.path, params | {"isInactive": _flag(inactive)})
        else:
            raw = await self._read(api.path, params)
        return self._versions(api, raw)

    def _versions(self, api: EntityApi, raw: Iterable[Mapping[str, Any]]) -> Versions:
        """``id → version``, read row by row. A row with a readable id and an unreadable
        version gets :data:`UNREADABLE_VERSION` (so it is fetched, and set aside there as a
        malformed record); a row whose id cannot be read is left out, in ``.malformed``."""
        rows = read_records(
            System.TRIPLETEX,
            ENTITY_OF[api.name],
            raw,
            m.version_from_tripletex,
            redact=self.api.redact,
        )
        versions = Versions(dict(rows))
        for bad in rows.malformed:
            if bad.field != "id" and bad.record_id is not None:
                versions[bad.record_id] = UNREADABLE_VERSION
            else:
                versions.malformed.append(bad)
        return versions


def _id_order(row: Mapping[str, Any]) -> tuple[int, int, str]:
    """Sort by numeric id; a malformed id sorts last instead of failing the whole read."""
    value = row.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _next_day(day: dt.date) -> str:
    return (day + dt.timedelta(days=1)).isoformat()


__all__ = ["PAGE_SIZE", "TripletexClient", "WhoAmI"]
