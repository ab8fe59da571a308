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
from typing import Any

import httpx

from connectors.errors import ApiError, AuthenticationError, PermissionDeniedError
from connectors.http import ApiClient, Connector, HttpPolicy
from connectors.tripletex import mapping as m
from connectors.tripletex.entities import CUSTOMERS, EMPLOYEES, ENTITIES, PROJECTS, EntityApi
from connectors.tripletex.errors import TripletexAuthenticationError, tripletex_error
from connectors.tripletex.reading import PAGE_SIZE, read_all_pages, read_changed_pages
from connectors.tripletex.session import SessionAuth, TripletexSession
from connectors.tripletex.timesheet import TripletexTimesheet
from connectors.tripletex.writing import TripletexWrites
from sync.records import Activity, Customer, Employee, Project, Record

ID_CHUNK = 100
PROBES: dict[str, str] = {
    "customers": "/customer",
    "employees": "/employee",
    "projects": "/project",
    "activities": "/activity",
    "timesheet": "/timesheet/entry",
}


@dataclass(frozen=True)
class WhoAmI:
    """Who the employee token belongs to."""

    company_id: int
    employee_id: int
    company_name: str | None


class TripletexClient(TripletexWrites, TripletexTimesheet, Connector):
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
        self.session = TripletexSession(self.api, self._auth, consumer_token, employee_token)
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
        today = dt.date.today()
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

    async def _read(self, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return await read_all_pages(
            self.call, path, params, concurrency=self._concurrency, endpoint=f"GET {path}"
        )

    async def list_customers(
        self, *, changed_since: dt.datetime | None = None, include_inactive: bool = True
    ) -> list[Customer]:
        """Every customer (active ones, and inactive ones unless told otherwise)."""
        params: dict[str, Any] = {"fields": m.CUSTOMER_FIELDS}
        if changed_since is not None:
            params["changedSince"] = m.tripletex_time(changed_since)
        states = (False, True) if include_inactive else (False,)
        raw: list[dict[str, Any]] = []
        for inactive in states:  # Tripletex's isInactive filter defaults to false
            raw += await self._read("/customer", params | {"isInactive": _flag(inactive)})
        return [m.customer_from_tripletex(r) for r in sorted(raw, key=lambda r: int(r["id"]))]

    async def list_employees(self) -> list[Employee]:
        """Every employee (no contacts)."""
        raw = await self._read("/employee", {"fields": m.EMPLOYEE_FIELDS})
        today = dt.date.today()
        return [m.employee_from_tripletex(r, today=today) for r in raw]

    async def list_project_manager_ids(self) -> set[str]:
        """Ids of the employees Tripletex accepts as project manager (one cheap read)."""
        params = {"assignableProjectManagers": "true", "fields": "id"}
        return {str(r["id"]) for r in await self._read("/employee", params)}

    async def list_projects(self) -> list[Project]:
        """Every project, closed ones included."""
        raw = await self._read("/project", {"fields": m.PROJECT_FIELDS})
        return [m.project_from_tripletex(r) for r in raw]

    async def list_activities(self) -> list[Activity]:
        """Every activity."""
        raw = await self._read("/activity", {"fields": m.ACTIVITY_FIELDS})
        return [m.activity_from_tripletex(r) for r in raw]

    async def list_timesheet_entries(self, date_from: dt.date, date_to: dt.date) -> list[Record]:
        """Timesheet entries with ``date_from <= date < date_to`` (Tripletex's own convention)."""
        params = {
            "fields": m.TIMESHEET_FIELDS,
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
        }
        raw = await self._read("/timesheet/entry", params)
        return [m.hour_entry_from_tripletex(r) for r in raw]

    async def _by_ids(self, entity: EntityApi, ids: Iterable[str]) -> list[dict[str, Any]]:
        wanted = sorted({str(i) for i in ids}, key=int)
        raw: list[dict[str, Any]] = []
        for start in range(0, len(wanted), ID_CHUNK):
            params = {"fields": entity.fields, "id": ",".join(wanted[start : start + ID_CHUNK])}
            if entity is CUSTOMERS:
                for inactive in (False, True):
                    raw += await self._read(entity.path, params | {"isInactive": _flag(inactive)})
            else:
                raw += await self._read(entity.path, params)
        return raw

    async def get_customers_by_ids(self, ids: Iterable[str]) -> list[Customer]:
        """The customers with these ids (active or not); unknown ids are left out."""
        return [m.customer_from_tripletex(r) for r in await self._by_ids(CUSTOMERS, ids)]

    async def get_employees_by_ids(self, ids: Iterable[str]) -> list[Employee]:
        """The employees with these ids; unknown ids are left out."""
        today = dt.date.today()
        raw = await self._by_ids(EMPLOYEES, ids)
        return [m.employee_from_tripletex(r, today=today) for r in raw]

    async def get_projects_by_ids(self, ids: Iterable[str]) -> list[Project]:
        """The projects with these ids (closed ones fetched one by one: Tripletex issue #101)."""
        wanted = {str(i) for i in ids}
        found = [m.project_from_tripletex(r) for r in await self._by_ids(PROJECTS, wanted)]
        for missing in sorted(wanted - {p.id for p in found}, key=int):
            try:
                response = await self.call(
                    "GET", f"/project/{missing}", params={"fields": m.PROJECT_FIELDS}
                )
            except ApiError as error:
                if error.status == 404:
                    continue
                raise
            found.append(m.project_from_tripletex(response.json()["value"]))
        return found

    async def list_changed(
        self, entity: str, digest: str | None
    ) -> tuple[list[Record] | None, str]:
        """All records of ``entity`` unless unchanged since ``digest`` (then ``None``)."""
        api = ENTITIES[entity]
        raw, new_digest = await read_changed_pages(
            self.call, api.path, {"fields": api.fields}, digest, endpoint=f"GET {api.path}"
        )
        if raw is None:
            return None, new_digest
        return [_map(api, r) for r in raw], new_digest

    async def poll_versions(
        self, entity: str, digest: str | None
    ) -> tuple[dict[str, int] | None, str]:
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
        return {str(r["id"]): int(r.get("version") or 0) for r in raw}, new_digest

    async def list_versions(self, entity: str) -> dict[str, int]:
        """``id → version`` of every record of ``entity`` (cheap change detection)."""
        api = ENTITIES[entity]
        params = {"fields": "id,version"}
        if api is CUSTOMERS:
            raw = []
            for inactive in (False, True):
                raw += await self._read(api.path, params | {"isInactive": _flag(inactive)})
        else:
            raw = await self._read(api.path, params)
        return {str(r["id"]): int(r.get("version") or 0) for r in raw}


def _map(api: EntityApi, raw: Mapping[str, Any]) -> Record:
    if api is EMPLOYEES:
        return m.employee_from_tripletex(raw, today=dt.date.today())
    return api.from_json(raw)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _next_day(day: dt.date) -> str:
    return (day + dt.timedelta(days=1)).isoformat()


__all__ = ["PAGE_SIZE", "TripletexClient", "WhoAmI"]
