"""Hours export for one tenant: find what changed, read both sides for that window, plan, write.

What to look at: a given period (CLI, ops); else the hours Svenn's change feed reports since the
last export (a quiet tick costs one Svenn read and nothing in Tripletex), plus the dates of
writes a killed run left in flight and of entries waiting for a locked period to reopen. The
first export of a tenant (no feed cursor yet) looks at every approved hour.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from config.settings import Settings
from connectors.errors import ApiError, StaleVersionError
from connectors.records import RecordList
from connectors.svenn.client import SvennClient
from connectors.svenn.errors import CursorExpiredError
from connectors.together import together
from connectors.tripletex.client import TripletexClient
from connectors.tripletex.errors import LOCKED_CODE
from connectors.tripletex.writing import write_each
from store.cursors import get_cursor, set_cursor
from store.failures import Failure, open_failures
from store.hours_ledger import (
    begin_writes,
    ledger_dates,
    load_window,
    pending_dates,
    settle_outcomes,
)
from store.integrations import require_approved, turned_off
from store.leases import (
    HOURS_EXPORT,
    INITIAL_SYNC,
    acquire_lease,
    live_lease,
    release_lease,
    renew_lease,
)
from store.state import StateStore
from sync.entities import HourEntry
from sync.hours import (
    ANY_ENTRY,
    Content,
    EntryKey,
    ExportPlan,
    Links,
    ProjectActivities,
    TripletexEntry,
    place_hours,
    plan_export,
    totals_per_employee,
    window_of,
)
from sync.hours_apply import ExportCounts, Intent, Outcome, Refusal, execute
from sync.malformed import MalformedRecord, malformed_context, malformed_failure
from sync.records import Entity
from sync.rules import ReasonCode
from tasks.apply import error_details, error_text
from tasks.hours_failures import log_failures
from tasks.planning import stored_links
from tasks.tenant import tenant_clients

logger = logging.getLogger("tasks.hours_export")
CURSOR_SYSTEM, CURSOR_ENTITY = "svenn", "hours-export"
ACTIVITY_READS = 4  # concurrent >forTimeSheet reads


@dataclass
class HoursReport:
    """What one tenant's export did (the artifact and the flow's return value)."""

    tenant: str
    window: str = "nothing new"
    skipped: str | None = None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    adopted: int = 0
    hours_sent: int = 0
    hours_removed: int = 0
    held: dict[str, int] = field(default_factory=dict)
    hand_changes: int = 0
    totals: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-safe counts (no per-employee totals)."""
        return {
            "tenant": self.tenant,
            "window": self.window,
            "skipped": self.skipped,
            "entries_created": self.created,
            "entries_updated": self.updated,
            "entries_deleted": self.deleted,
            "entries_adopted": self.adopted,
            "hours_sent": self.hours_sent,
            "hours_removed": self.hours_removed,
            "held_back": sum(self.held.values()),
            "changed_by_hand": self.hand_changes,
        }


class TripletexPort:
    """The export's port: Tripletex through the client, intents and outcomes in the store."""

    def __init__(
        self, tripletex: TripletexClient, store: StateStore, tenant: str, run_id: str
    ) -> None:
        self.tripletex, self.store, self.tenant, self.run_id = tripletex, store, tenant, run_id

    async def begin(self, intents: Sequence[Intent]) -> None:
        """Still approved? Still ours? Then record the intents (committed before sending)."""
        with self.store.sessions.begin() as session:
            require_approved(session, self.tenant)
            renew_lease(session, self.tenant, HOURS_EXPORT, self.run_id)
            begin_writes(session, self.tenant, intents)

    async def create(self, items: Sequence[tuple[EntryKey, Content]]) -> list[Any]:
        """POST in batches; refused items come back as refusals, the rest are created."""
        return await send_batch(items, self.tripletex.post_entries, lambda item: item[0])

    async def update(self, items: Sequence[tuple[TripletexEntry, Content]]) -> list[Any]:
        """PUT in batches, with versions."""
        return await send_batch(items, self.tripletex.put_entries, lambda item: item[0].key)

    async def delete(self, items: Sequence[TripletexEntry]) -> list[Refusal | None]:
        """DELETE one by one (Tripletex has no batch delete for timesheet entries)."""
        results: list[Refusal | None] = []
        for entry in items:
            try:
                await self.tripletex.remove_entry(entry)
                results.append(None)
            except ApiError as error:
                if error.retryable or isinstance(error, StaleVersionError):
                    raise
                results.append(refusal_of(error, entry.key))
        return results

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        """Store the outcomes (one transaction)."""
        with self.store.sessions.begin() as session:
            settle_outcomes(session, self.tenant, outcomes)


def refusal_of(error: ApiError, key: EntryKey) -> Refusal:
    """Tripletex's refusal of one entry: a locked period, or anything else in its own words."""
    if error.status == 409 and error.code == LOCKED_CODE:
        period = key.date.strftime("%Y-%m")
        return Refusal(ReasonCode.HOURS_LOCKED, error_text(error), period, error_details(error))
    return Refusal(ReasonCode.TARGET_REJECTED, error_text(error), None, error_details(error))


async def send_batch(
    items: Sequence[Any],
    write: Callable[[list[Any]], Awaitable[list[Any]]],
    key_of: Callable[[Any], EntryKey],
) -> list[Any]:
    """Send a batch by Tripletex's batch-write protocol (:func:`write_each`); each refused
    item comes back as a :class:`Refusal`, the rest as written.

    5xx, timeouts and 429s are retried by the HTTP policy; when they persist, or a version is
    stale, the run stops here (the intents are stored, so the next run recognises whatever did
    get written).
    """

    async def one(item: Any) -> Any:
        return (await write([item]))[0]

    outcomes = await write_each(items, write, one, fatal=_stops_the_run)
    return [
        refusal_of(outcome, key_of(item)) if isinstance(outcome, ApiError) else outcome
        for item, outcome in zip(items, outcomes, strict=True)
    ]


def _stops_the_run(error: ApiError) -> bool:
    return error.retryable or isinstance(error, StaleVersionError)


# --- the run -------------------------------------------------------------------------------


async def export_tenant(
    store: StateStore,
    settings: Settings,
    tenant: str,
    run_id: str,
    period: tuple[dt.date, dt.date] | None = None,
) -> HoursReport:
    """One tenant's export under its lease (skipped while its initial sync runs)."""
    ttl = dt.timedelta(seconds=settings.sync_lease_seconds)
    with store.sessions.begin() as session:
        if live_lease(session, tenant, INITIAL_SYNC, ttl=ttl) is not None:
            return HoursReport(tenant, skipped="the initial sync is running")
        if turned_off(session, tenant):
            return HoursReport(tenant, skipped="the integration is turned off")
        require_approved(session, tenant)
        acquire_lease(session, tenant, HOURS_EXPORT, run_id, ttl=ttl)
    try:
        async with tenant_clients(tenant, settings) as (tripletex, svenn):
            tripletex.batch_size = settings.hours_batch_size
            return await _export(store, settings, tenant, run_id, tripletex, svenn, period)
    finally:
        with store.sessions.begin() as session:
            release_lease(session, tenant, HOURS_EXPORT, run_id)


async def _export(
    store: StateStore,
    settings: Settings,
    tenant: str,
    run_id: str,
    tripletex: TripletexClient,
    svenn: SvennClient,
    period: tuple[dt.date, dt.date] | None,
) -> HoursReport:
    new_cursor: str | None = None
    approved: list[HourEntry] | None = None
    if period is not None:
        window: tuple[dt.date, dt.date] | None = period
    else:
        window, new_cursor, approved = await _what_changed(store, tenant, svenn)
    report = HoursReport(tenant)
    if window is not None:
        report = await _export_window(
            store, settings, tenant, run_id, tripletex, svenn, window, approved
        )
    if new_cursor is not None:
        with store.sessions.begin() as session:
            set_cursor(session, tenant, CURSOR_SYSTEM, CURSOR_ENTITY, new_cursor)
    return report


async def approved_hours(
    svenn: SvennClient, first: dt.date | None = None, last: dt.date | None = None
) -> RecordList[HourEntry]:
    """Svenn's approved hours (dated ``first``..``last`` when given); those that cannot be
    read are in ``.malformed``."""
    found = await svenn.list(Entity.HOURS, status="approved", date_from=first, date_to=last)
    return found.of(HourEntry)


async def _what_changed(
    store: StateStore, tenant: str, svenn: SvennClient
) -> tuple[tuple[dt.date, dt.date] | None, str | None, list[HourEntry] | None]:
    """(window, cursor to store after it, approved hours when all of them were read)."""
    with store.sessions() as session:
        cursor = get_cursor(session, tenant, CURSOR_SYSTEM, CURSOR_ENTITY)
        dates = pending_dates(session, tenant) + locked_dates(session, tenant)
    changed: list[str] = []
    if cursor is not None:
        try:
            async for page in svenn.iter_changes(cursor):
                changed += page.ids_by_entity().get(Entity.HOURS, [])
                cursor = page.next_cursor
        except CursorExpiredError:
            cursor = None
    if cursor is None:  # first export (or the feed moved on): every approved hour
        latest = await svenn.latest_cursor()
        approved = await approved_hours(svenn)
        with store.sessions() as session:
            ledger = load_window(session, tenant, dt.date.min, dt.date.max)[0]
        dates += [h.date for h in approved] + [r.key.date for r in ledger]
        return window_of(dates), latest, approved
    if changed:
        now = await svenn.get_many(Entity.HOURS, changed)
        dates += [h.date for h in now if isinstance(h, HourEntry)]
        with store.sessions() as session:
            dates += list(ledger_dates(session, tenant, changed).values())
    return window_of(dates), cursor, None


def locked_dates(session: Session, tenant: str) -> list[dt.date]:
    """Dates of hours waiting for a locked period to reopen (looked at again every run)."""
    found = []
    for failure in open_failures(session, tenant, entity=Entity.HOURS.value):
        day = (failure.payload or {}).get("date")
        if failure.reason_code == ReasonCode.HOURS_LOCKED.value and day:
            found.append(dt.date.fromisoformat(day))
    return found


async def _export_window(
    store: StateStore,
    settings: Settings,
    tenant: str,
    run_id: str,
    tripletex: TripletexClient,
    svenn: SvennClient,
    window: tuple[dt.date, dt.date],
    approved: Sequence[HourEntry] | None,
) -> HoursReport:
    first, last = window
    if approved is None:
        approved = await approved_hours(svenn, first, last)
    unread = UnreadableRecords.of(approved)
    approved = [h for h in approved if first <= h.date <= last]
    links = await _links(
        store, tenant, tripletex, svenn, approved, settings.hours_standard_activity
    )
    placed, held = place_hours(approved, links)
    unread.held = [h.svenn_hour_id for h in held if h.reason is ReasonCode.MALFORMED_RECORD]
    with store.sessions() as session:
        ledger, written = load_window(session, tenant, first, last)
    theirs = await tripletex.timesheet_entries(first, last)
    unread.entries = theirs.malformed
    plan = plan_export(
        placed,
        ledger,
        written,
        theirs,
        held=held,
        unread_hours=unread.hour_ids(),
        unread_entries=unread.entry_contexts(),
    )
    port = TripletexPort(tripletex, store, tenant, run_id)
    counts = await execute(plan, port, batch_size=settings.hours_batch_size)
    seen = {h.id for h in approved if h.id} | {r.svenn_hour_id for r in ledger}
    log_failures(store, tenant, run_id, plan, counts, window, seen, unread.failures(tenant, run_id))
    report = _report(tenant, window, plan, counts)
    report.totals = {k: float(v) for k, v in totals_per_employee(placed).items()}
    logger.info("hours export %s %s: %s", tenant, report.window, report.summary())
    return report


ENTRY_NAMES = ("timesheet entry", "timeføring")
TASK_NAMES = ("activity", "aktivitet")


@dataclass
class UnreadableRecords:
    """Svenn hours and Tripletex entries of a run that could not be read: each is a
    ``MALFORMED_RECORD`` row, and none is taken for withdrawn or deleted."""

    hours: list[MalformedRecord] = field(default_factory=list)
    entries: list[MalformedRecord] = field(default_factory=list)
    held: list[str | None] = field(default_factory=list)  # hours on an unreadable activity

    @classmethod
    def of(cls, approved: Sequence[HourEntry]) -> UnreadableRecords:
        """What could not be read of ``approved`` (a :class:`RecordList` keeps it)."""
        return cls(list(getattr(approved, "malformed", ())))

    def hour_ids(self) -> set[str] | None:
        """Ids of the Svenn hours that could not be read (``None``: one's id is unreadable)."""
        if any(m.record_id is None or m.field == "id" for m in self.hours):
            return None
        return {str(m.record_id) for m in self.hours} | {i for i in self.held if i}

    def entry_contexts(self) -> dict[str, dict[str, str]]:
        """Entry id (:data:`ANY_ENTRY` when it could not be read) → the message's
        placeholders."""
        return {
            str(m.record_id) if m.record_id is not None and m.field != "id" else ANY_ENTRY: {
                "system": "Tripletex",
                **malformed_context(m, ENTRY_NAMES),
            }
            for m in self.entries
        }

    def failures(self, tenant: str, run_id: str) -> list[Failure]:
        """One failed-record row per record that could not be read."""
        rows = []
        for bad in self.hours + self.entries:
            planned = malformed_failure(bad)
            rows.append(
                Failure(
                    tenant=tenant,
                    entity=Entity.HOURS.value,
                    direction=planned.direction.value,
                    reason_code=planned.reason_code,
                    message_en=planned.message_en,
                    message_no=planned.message_no,
                    svenn_id=planned.svenn_id,
                    tripletex_id=planned.tripletex_id,
                    target_error=planned.details,
                    payload=None,
                    flow_run_id=run_id,
                )
            )
        return rows


async def _links(
    store: StateStore,
    tenant: str,
    tripletex: TripletexClient,
    svenn: SvennClient,
    approved: Sequence[HourEntry],
    standard: str | None,
) -> Links:
    """Svenn → Tripletex ids, task names, and the activities each project allows."""
    employees = {s: t for t, s in stored_links(store, tenant, Entity.EMPLOYEE).items()}
    projects = {s: t for t, s in stored_links(store, tenant, Entity.PROJECT).items()}
    if not approved:
        return Links(employees, projects, {}, {}, standard)
    activities = await svenn.list_activities()
    tasks = {str(a.id): a.name for a in activities}
    unreadable_tasks: dict[str, dict[str, str]] = {}
    for bad in activities.malformed:
        context = {"system": "Svenn", **malformed_context(bad, TASK_NAMES)}
        if bad.record_id is not None and bad.field != "id":
            unreadable_tasks[str(bad.record_id)] = context
        else:  # whose id cannot be read: any activity the hours name that was not read
            unknown = {h.activity_id for h in approved if h.activity_id not in tasks}
            unreadable_tasks |= {str(i): context for i in unknown if i}
    wanted = sorted({projects[h.project_id] for h in approved if h.project_id in projects})
    gate = asyncio.Semaphore(ACTIVITY_READS)

    async def allowed(project: str) -> ProjectActivities:
        async with gate:
            return await tripletex.activities_for_timesheet(project)

    found = await together(*(allowed(p) for p in wanted))
    allowed_by_project = {a.project_id: a for a in found}
    return Links(employees, projects, tasks, allowed_by_project, standard, unreadable_tasks)


def _report(
    tenant: str, window: tuple[dt.date, dt.date], plan: ExportPlan, counts: ExportCounts
) -> HoursReport:
    held: dict[str, int] = {}
    for hour in plan.held:
        held[hour.reason.value] = held.get(hour.reason.value, 0) + 1
    for outcome in counts.refusals:
        if outcome.refusal is not None:
            code = outcome.refusal.reason.value
            held[code] = held.get(code, 0) + max(1, len(outcome.plan.rows))
    return HoursReport(
        tenant=tenant,
        window=f"{window[0].isoformat()}..{window[1].isoformat()}",
        created=counts.created,
        updated=counts.updated,
        deleted=counts.deleted,
        adopted=counts.adopted,
        hours_sent=counts.hours_sent,
        hours_removed=counts.hours_removed,
        held=dict(sorted(held.items())),
        hand_changes=sum(k.hand_change is not None for k in plan.keys),
    )
