"""The timesheet as the hours export sees it: entries by key, allowed activities, batch writes.

Creates go through :meth:`TripletexWrites.create_many` (``Entity.HOURS``) (a timed-out batch is
looked up by employee/date/project/activity before anything is re-sent). Updates use
``PUT /timesheet/entry/list`` with each entry's version; since a PUT is retried after a 5xx or a
timeout, a retry whose first attempt went through answers 409 "stale": the entries are then read
back and accepted when they hold what was sent. ``PUT`` nulls fields that are present but empty,
so a body carries only ``id``, ``version``, ``hours`` and ``comment`` (``""`` clears a comment
on purpose).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from connectors.errors import NotFoundError, OutcomeUnknownError, StaleVersionError
from connectors.fields import Fields
from connectors.http import Answer
from connectors.records import RecordList, read_records
from connectors.tripletex.reading import read_all_pages
from sync.entities import HourEntry
from sync.hours import Content, EntryKey, ProjectActivities, TripletexEntry
from sync.malformed import malformed_context
from sync.records import Entity, System

ENTRY_FIELDS = "id,version,employee(id),project(id),activity(id),date,hours,comment,locked"
ACTIVITY_FIELDS = "id,name,activityType"
GENERAL_TYPES = frozenset({"PROJECT_GENERAL_ACTIVITY", "GENERAL_ACTIVITY"})
LARGEST_PAGE = 10_000  # the largest ``count`` Tripletex is reported to accept (FACTS §2)


def _ref(fields: Fields, name: str) -> str:
    ref = fields.nested(name)
    value = ref.integer("id") if ref is not None else None
    return str(value) if value is not None else ""


def entry_from_tripletex(raw: Any) -> TripletexEntry:
    """A TimesheetEntry JSON (with ``locked``) → :class:`TripletexEntry` (raises
    :class:`~sync.malformed.MalformedFieldError` naming the field it cannot read)."""
    fields = Fields(raw)
    key = EntryKey(
        _ref(fields, "employee"),
        fields.date("date", required=True) or dt.date.min,
        _ref(fields, "project"),
        _ref(fields, "activity"),
    )
    content = Content.of(fields.number("hours") or Decimal(0), fields.text("comment"))
    entry_id = fields.integer("id", required=True)
    return TripletexEntry(
        str(entry_id), fields.integer("version") or 0, key, content, fields.boolean("locked", False)
    )


def allowed_activity_from_tripletex(raw: Any) -> tuple[str, str, bool]:
    """An activity of ``>forTimeSheet`` → (id, name, is general)."""
    fields = Fields(raw)
    return (
        str(fields.integer("id", required=True)),
        fields.text("name") or "",
        fields.text("activityType") in GENERAL_TYPES,
    )


def _as_hour_entry(key: EntryKey, content: Content) -> HourEntry:
    return HourEntry(
        employee_id=key.employee_id,
        project_id=key.project_id,
        activity_id=key.activity_id,
        date=key.date,
        hours=content.hours,
        comment=content.comment,
    )


class TripletexTimesheet:
    """Mixed into :class:`connectors.tripletex.client.TripletexClient` (which gives ``call``)."""

    batch_size: int
    call: Callable[..., Awaitable[Answer]]
    create_many: Callable[[Entity, Sequence[HourEntry]], Awaitable[list[HourEntry]]]
    delete: Callable[[Entity, str, int], Awaitable[None]]

    async def timesheet_entries(
        self, first: dt.date, last: dt.date, *, ids: Sequence[str] = ()
    ) -> RecordList[TripletexEntry]:
        """Entries dated ``first``..``last`` (inclusive), with ``locked``; one read per 10,000.
        Entries that cannot be read are in ``.malformed``."""
        params: dict[str, Any] = {
            "fields": ENTRY_FIELDS,
            "dateFrom": first.isoformat(),
            "dateTo": (last + dt.timedelta(days=1)).isoformat(),  # Tripletex: exclusive
        }
        if ids:
            params["id"] = ",".join(ids)
        raw = await read_all_pages(
            self.call,
            "/timesheet/entry",
            params,
            page_size=LARGEST_PAGE,
            endpoint="GET /timesheet/entry",
        )
        return read_records(System.TRIPLETEX, Entity.HOURS, raw, entry_from_tripletex)

    async def activities_for_timesheet(self, project_id: str) -> ProjectActivities:
        """The activities hours may be registered on for a project (``>forTimeSheet``)."""
        raw = await read_all_pages(
            self.call,
            "/activity/>forTimeSheet",
            {"projectId": project_id, "fields": ACTIVITY_FIELDS},
            endpoint="GET /activity/>forTimeSheet",
        )
        # An activity that cannot be read is left out; hours that may need it are held back
        # (MALFORMED_RECORD naming it) instead of going to another activity.
        allowed = read_records(System.TRIPLETEX, Entity.HOURS, raw, allowed_activity_from_tripletex)
        unreadable = None
        if allowed.malformed:
            names = ("activity", "aktivitet")
            unreadable = {"system": "Tripletex", **malformed_context(allowed.malformed[0], names)}
        return ProjectActivities(project_id, tuple(allowed), unreadable)

    async def post_entries(self, items: Sequence[tuple[EntryKey, Content]]) -> list[TripletexEntry]:
        """Create entries in one ``POST /timesheet/entry/list`` per ``batch_size``."""
        created = await self.create_many(Entity.HOURS, [_as_hour_entry(k, c) for k, c in items])
        return [
            TripletexEntry(str(e.id), int(e.version or 0), key, content)
            for e, (key, content) in zip(created, items, strict=True)
        ]

    async def put_entries(
        self, items: Sequence[tuple[TripletexEntry, Content]]
    ) -> list[TripletexEntry]:
        """Update entries (hours, comment) with their versions in one ``PUT .../list``."""
        body = [
            {
                "id": int(entry.id),
                "version": entry.version,
                "hours": float(content.hours),
                "comment": content.comment or "",
            }
            for entry, content in items
        ]
        try:
            response = await self.call("PUT", "/timesheet/entry/list", json=body)
        except (StaleVersionError, OutcomeUnknownError):
            return await self._read_back(items)
        values = list(response.json().get("values") or [])
        return [entry_from_tripletex(v) for v in values]

    async def _read_back(
        self, items: Sequence[tuple[TripletexEntry, Content]]
    ) -> list[TripletexEntry]:
        """After a retried PUT: the entries, if they hold what was sent (else re-raise)."""
        dates = [entry.key.date for entry, _ in items]
        found = {
            e.id: e
            for e in await self.timesheet_entries(
                min(dates), max(dates), ids=[entry.id for entry, _ in items]
            )
        }
        done = [found.get(entry.id) for entry, _ in items]
        if all(e is not None and e.content == c for e, (_, c) in zip(done, items, strict=True)):
            return [e for e in done if e is not None]
        raise StaleVersionError(
            "timesheet entries changed while they were being updated; the next run re-reads them"
        )

    async def remove_entry(self, entry: TripletexEntry) -> None:
        """Delete one entry with its version (gone already counts as done)."""
        try:
            await self.delete(Entity.HOURS, entry.id, entry.version)
        except NotFoundError:
            return
