"""Reading Svenn: records page by page, by ids or by ``externalRef``, and the change feed.

:class:`SvennReader` owns the connection (one :class:`ApiClient` per tenant, Bearer API key,
problem documents as typed errors). Lists page through everything at ``limit=1000`` with keyset
paging on ``after``; ``?ids=`` lookups are chunked by count and URL length.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.http import ApiClient, Connector, HttpPolicy, SharedConnections
from connectors.records import RecordList, read_records, single
from connectors.svenn.changes import ChangePage, change_page_from_svenn
from connectors.svenn.errors import svenn_error_factory
from connectors.svenn.mapping import (
    FIELD_NAMES,
    RECORD_READERS,
    activity_from_svenn,
)
from sync.entities import SPECS
from sync.records import Activity, Entity, Record, System

Json = dict[str, Any]
PAGE_LIMIT = 1000
MAX_BATCH = 500
MAX_IDS = 1000
_IDS_CHARS = 12_000  # keep ``?ids=`` well inside common URL limits
RESOURCE: dict[Entity, str] = {entity: spec.endpoints.svenn for entity, spec in SPECS.items()}


@dataclass(frozen=True)
class Tenant:
    """The Svenn tenant an API key belongs to."""

    id: str
    name: str


class SvennReader(Connector):
    """One tenant's Svenn API (``base_url`` is the API root, e.g. ``http://host/api/v1``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: HttpPolicy | None = None,
        event_hooks: Mapping[str, builtins.list[Callable[..., Any]]] | None = None,
        batch_size: int = MAX_BATCH,
        connections: SharedConnections | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        self.batch_size = batch_size
        self.api = ApiClient(
            base_url,
            policy=policy,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            secrets=(api_key,),
            event_hooks=event_hooks,
            error_factory=svenn_error_factory,
            system="svenn",
            connections=connections,
        )

    # --- reading -----------------------------------------------------------------------------

    async def me(self) -> Tenant:
        """The tenant of this API key (raises AuthenticationError for a bad key)."""
        data = (await self.api.request("GET", "/me")).json()
        return Tenant(id=str(data["id"]), name=str(data["name"]))

    async def iter_pages(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[builtins.list[Json]]:
        """Every page of a list endpoint (``data`` arrays), following ``next`` to the end."""
        query: dict[str, Any] = {**(params or {}), "limit": PAGE_LIMIT}
        while True:
            response = await self.api.request("GET", path, params=query, endpoint=f"GET {path}")
            body = response.json()
            yield list(body["data"])
            if body.get("next") is None:
                return
            query["after"] = body["next"]

    async def _rows(self, path: str, **params: Any) -> builtins.list[Json]:
        """Every row of a list endpoint (parameters that are ``None`` are left out)."""
        query = {k: v for k, v in params.items() if v is not None}
        return [item async for page in self.iter_pages(path, query) for item in page]

    def _records(self, entity: Entity, rows: Iterable[Json]) -> RecordList[Any]:
        """Rows mapped one by one; those that cannot be read land in ``.malformed``."""
        return read_records(
            System.SVENN,
            entity,
            rows,
            RECORD_READERS[entity],
            field_names=FIELD_NAMES[entity],
            redact=self.api.redact,
        )

    async def list(
        self,
        entity: Entity,
        *,
        active: bool | None = None,
        status: str | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        employee_id: str | None = None,
        project_id: str | None = None,
    ) -> RecordList[Record]:
        """Every record of ``entity``, narrowed by the filters given: ``active`` (customers,
        employees), ``status`` (projects: ``active``/``closed``; hours: a
        :class:`~sync.records.HourStatus`), an inclusive date range, an employee or a project
        (hours)."""
        rows = await self._rows(
            RESOURCE[entity],
            active=_flag(active),
            status=status,
            dateFrom=date_from.isoformat() if date_from else None,
            dateTo=date_to.isoformat() if date_to else None,
            employeeId=employee_id,
            projectId=project_id,
        )
        return self._records(entity, rows)

    async def list_activities(self) -> RecordList[Activity]:
        """Every activity; those that cannot be read are in ``.malformed``."""
        rows = await self._rows("/activities")
        return read_records(
            System.SVENN, Entity.HOURS, rows, activity_from_svenn, redact=self.api.redact
        )

    async def get(self, entity: Entity, record_id: str) -> Record:
        """One record by id (NotFoundError when it does not exist, MalformedRecordError when
        it cannot be read)."""
        return self._one(entity, await self._get_json(entity, record_id))

    async def get_many(self, entity: Entity, ids: Iterable[str]) -> RecordList[Record]:
        """The records with these ids (unknown or deleted ids are left out), in id order;
        those that cannot be read are in ``.malformed``."""
        found: RecordList[Record] = RecordList()
        for chunk in _id_chunks(dict.fromkeys(ids)):
            part = self._records(entity, await self._rows(RESOURCE[entity], ids=",".join(chunk)))
            found += part
            found.malformed += part.malformed
        return found

    async def find_by_external_ref(self, entity: Entity, external_ref: str) -> Record | None:
        """The record carrying this ``externalRef``, if there is one."""
        rows = await self._find_json(entity, external_ref)
        return self._one(entity, rows) if rows is not None else None

    def _one(self, entity: Entity, row: Json) -> Record:
        record: Record = single(self._records(entity, [row]))
        return record

    async def _get_json(self, entity: Entity, record_id: str) -> Json:
        path = RESOURCE[entity]
        response = await self.api.request(
            "GET", f"{path}/{record_id}", endpoint=f"GET {path}/{{id}}"
        )
        return dict(response.json())

    async def _find_json(self, entity: Entity, external_ref: str) -> Json | None:
        path = RESOURCE[entity]
        params = {"externalRef": external_ref, "limit": 1}
        response = await self.api.request("GET", path, params=params, endpoint=f"GET {path}")
        data = response.json()["data"]
        return dict(data[0]) if data else None

    # --- change feed -------------------------------------------------------------------------

    async def read_changes(self, cursor: str | None, limit: int = PAGE_LIMIT) -> ChangePage:
        """One page of the feed after ``cursor`` (None: the oldest retained event).

        Raises :class:`~connectors.svenn.errors.CursorExpiredError` when the cursor is too old
        or unknown: read everything again, then continue from :meth:`latest_cursor`.
        """
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = await self.api.request("GET", "/changes", params=params)
        return change_page_from_svenn(response.json())

    async def iter_changes(
        self, cursor: str | None, limit: int = PAGE_LIMIT
    ) -> AsyncIterator[ChangePage]:
        """Pages from ``cursor`` until the feed is drained (the last page may be empty)."""
        while True:
            page = await self.read_changes(cursor, limit)
            yield page
            if not page.has_more:
                return
            cursor = page.next_cursor

    async def latest_cursor(self) -> str:
        """The cursor after the newest event: take it before a full read, continue from it."""
        response = await self.api.request("GET", "/changes/latest")
        return str(response.json()["cursor"])


def _flag(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


def _id_chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    """Ids in groups that respect both the count limit and a URL length budget."""
    chunk: list[str] = []
    size = 0
    for record_id in ids:
        if chunk and (len(chunk) >= MAX_IDS or size + len(record_id) + 1 > _IDS_CHARS):
            yield chunk
            chunk, size = [], 0
        chunk.append(record_id)
        size += len(record_id) + 1
    if chunk:
        yield chunk
