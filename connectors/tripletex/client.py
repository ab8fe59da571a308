"""TripletexClient: the Tripletex API v2 spoken in canonical records.

Reads page through whole lists with only the mapped fields; writes use the batch ``/list``
endpoints; versioned PUTs raise :class:`StaleVersionError` on 409 code 8000. Creates whose
outcome is unknown (timeout) are reconciled by exact key lookup before anything is re-sent
(see :mod:`connectors.tripletex.writing`).
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from connectors.errors import ApiError, AuthenticationError, PermissionDeniedError
from connectors.http import Answer, ApiClient, Connector, HttpPolicy, SharedConnections
from connectors.records import RecordList, read_records
from connectors.tripletex import mapping as m
from connectors.tripletex.clock import Clock, oslo_today, utc_now
from connectors.tripletex.entities import ENTITIES, EntityApi
from connectors.tripletex.errors import TripletexAuthenticationError, tripletex_error
from connectors.tripletex.reading import PAGE_SIZE, read_all_pages, read_changed_pages
from connectors.tripletex.session import SessionAuth, TripletexSession
from connectors.tripletex.subscriptions import TripletexSubscriptions
from connectors.tripletex.timesheet import TripletexTimesheet
from connectors.tripletex.writing import TripletexWrites
from sync.malformed import MalformedFieldError, MalformedRecord, Problem
from sync.records import Activity, Entity, Record, System

R = TypeVar("R")

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
        connections: SharedConnections | None = None,
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
            connections=connections,
        )
        self.session = TripletexSession(
            self.api, self._auth, consumer_token, employee_token, now=now
        )
        self.batch_size = batch_size
        self._concurrency = max(1, self.api.policy.max_connections // 2)

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer:
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

    def _mapper(self, api: EntityApi) -> Callable[[Mapping[str, Any]], Record]:
        today = oslo_today(self.session.now)  # employments end on Oslo dates
        return lambda raw: m.record_from_tripletex(api.entity, raw, today=today)

    async def _read(self, path: str, params: Mapping[str, Any]) -> builtins.list[dict[str, Any]]:
        return await read_all_pages(
            self.call, path, params, concurrency=self._concurrency, endpoint=f"GET {path}"
        )

    async def list(
        self,
        entity: Entity,
        *,
        changed_since: dt.datetime | None = None,
        include_inactive: bool = True,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> RecordList[Record]:
        """Every record of ``entity``: customers active and (unless told otherwise) inactive,
        projects closed ones included. Timesheet entries (``Entity.HOURS``) need the dates:
        ``date_from <= date < date_to`` (Tripletex's own convention)."""
        api = ENTITIES[entity]
        params: dict[str, Any] = {"fields": api.fields}
        if changed_since is not None:
            params["changedSince"] = m.tripletex_time(changed_since)
        if date_from is not None:
            params["dateFrom"] = date_from.isoformat()
        if date_to is not None:
            params["dateTo"] = date_to.isoformat()
        if api.endpoints.inactive_filter:
            states = (False, True) if include_inactive else (False,)
            raw: builtins.list[dict[str, Any]] = []
            for inactive in states:  # Tripletex's isInactive filter defaults to false
                raw += await self._read(api.path, params | {"isInactive": _flag(inactive)})
            raw.sort(key=_id_order)
        else:
            raw = await self._read(api.path, params)
        return self._records(api.entity, raw, self._mapper(api))

    async def list_project_manager_ids(self) -> set[str]:
        """Ids of the employees Tripletex accepts as project manager (one cheap read)."""
        params = {"assignableProjectManagers": "true", "fields": "id"}
        return {str(r["id"]) for r in await self._read("/employee", params)}

    async def list_activities(self) -> builtins.list[Activity]:
        """Every activity."""
        raw = await self._read("/activity", {"fields": m.ACTIVITY_FIELDS})
        return [m.activity_from_tripletex(r) for r in raw]

    async def _by_ids(self, api: EntityApi, ids: Iterable[str]) -> builtins.list[dict[str, Any]]:
        """One ``id=1,2,3`` list read per chunk of ids. Customers: active ones first
        (Tripletex's ``isInactive`` filter defaults to false and takes one value), then the
        inactive filter only for the ids the first read did not return."""
        wanted = sorted({str(i) for i in ids}, key=int)
        raw = await self._id_chunks(api, wanted, {})
        if api.endpoints.inactive_filter:
            found = {str(r.get("id")) for r in raw}
            rest = [i for i in wanted if i not in found]
            raw += await self._id_chunks(api, rest, {"isInactive": _flag(True)})
        return raw

    async def _id_chunks(
        self, api: EntityApi, ids: builtins.list[str], extra: Mapping[str, str]
    ) -> builtins.list[dict[str, Any]]:
        raw: builtins.list[dict[str, Any]] = []
        for start in range(0, len(ids), ID_CHUNK):
            params = {"fields": api.fields, "id": ",".join(ids[start : start + ID_CHUNK])}
            if api.endpoints.inactive_filter:
                params["isInactive"] = _flag(False)
            raw += await self._read(api.path, params | dict(extra))
        return raw

    async def get_many(self, entity: Entity, ids: Iterable[str]) -> RecordList[Record]:
        """The records of ``entity`` with these ids (customers active or not, projects closed
        or not); unknown ids are left out. Closed projects are fetched one by one: Tripletex
        issue #101."""
        api = ENTITIES[entity]
        wanted = {str(i) for i in ids}
        found = self._records(api.entity, await self._by_ids(api, wanted), self._mapper(api))
        if not api.endpoints.closed_hidden_from_ids:
            return found
        seen = {r.id for r in found} | {bad.record_id for bad in found.malformed}
        for missing in sorted(wanted - seen, key=int):
            try:
                response = await self.call(
                    "GET", f"{api.path}/{missing}", params={"fields": api.fields}
                )
            except ApiError as error:
                if error.status == 404:
                    continue
                raise
            one = self._records(api.entity, [response.json()["value"]], self._mapper(api))
            found += one
            found.malformed += one.malformed
        return found

    async def list_changed(
        self, entity: Entity, digest: str | None
    ) -> tuple[RecordList[Record] | None, str]:
        """All records of ``entity`` unless unchanged since ``digest`` (then ``None``)."""
        api = ENTITIES[entity]
        raw, new_digest = await read_changed_pages(
            self.call, api.path, {"fields": api.fields}, digest, endpoint=f"GET {api.path}"
        )
        if raw is None:
            return None, new_digest
        return self._records(api.entity, raw, self._mapper(api)), new_digest

    async def poll_versions(
        self, entity: Entity, digest: str | None
    ) -> tuple[Versions | None, str]:
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

    async def list_versions(self, entity: Entity) -> Versions:
        """``id → version`` of every record of ``entity`` (cheap change detection)."""
        api = ENTITIES[entity]
        params = {"fields": "id,version"}
        if api.endpoints.inactive_filter:
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
            api.entity,
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
