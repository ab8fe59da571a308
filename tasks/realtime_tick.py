"""One realtime tick of one tenant: detect changes on both sides, decide, apply, commit.

1. **Detect.** Svenn: the change feed from the stored cursor (no cursor, or 410: take the
   latest cursor, then compare everything once). Tripletex, per entity: the ``id,version`` list
   with ``If-None-Match`` (304 = nothing changed, one request); on a change, the ids whose
   version moved (or that left the list) are fetched by id.
2. **Decide** (pure, ``sync.realtime``): per linked record, a three-way merge against the link's
   base; deletes per ``ON_DELETE``; new records are matched against the other side's unlinked
   records first (the initial sync's planner), then created.
3. **Apply** through the connectors. A stale version (Tripletex 409 8000, Svenn 412) re-reads,
   re-decides and retries once, then becomes a failed record.
4. **Commit** links, failed records, the Svenn cursor and the Tripletex digests in one
   transaction. Conflicts and notices are logged *before* the writes, so a run killed in between
   never loses one; everything else is recomputed by the rerun, which finds both sides already
   agreeing and writes nothing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.errors import ApiError, StaleVersionError
from connectors.records import MalformedRecordError, RecordList
from connectors.svenn.client import WRITE_CONCURRENCY, SvennClient
from connectors.svenn.errors import CursorExpiredError
from connectors.together import together
from connectors.tripletex.client import TripletexClient
from store.decisions import decisions_for
from store.failures import resolve_failures
from store.links import NewLink, links_for
from store.models import Link
from store.realtime import (
    PollState,
    TickState,
    drop_links,
    poll_versions,
    save_poll_state,
    set_svenn_cursor,
    set_svenn_echoes,
    tick_state,
    update_link,
)
from store.state import StateStore
from store.tombstones import remember_survivors, tombstones_for
from sync.entities import Customer
from sync.malformed import malformed_failure
from sync.merge import same_value
from sync.plan import PlannedFailure, failure_for, plan_entity
from sync.push_schedule import TickPlan
from sync.realtime import (
    LinkDecision,
    LinkState,
    OnDelete,
    decide_link,
    feed_changes,
    link_twins,
    version_changes,
)
from sync.records import SYNC_ORDER, Direction, Entity, Record, System
from sync.rules import ReasonCode
from sync.tombstones import Tombstone, resting_keys, tombstone_for
from tasks.apply import Applier, rejection

# Log rows a later sync of the record must not close: a person should read them.
KEEP_OPEN = (
    ReasonCode.FIELD_CONFLICT.value,
    ReasonCode.CHANGE_NOT_SYNCED.value,
    ReasonCode.DELETE_NOT_SYNCED.value,
)
FULL_READ_ABOVE = 300  # more changed ids than this: read the whole list instead of by id
UNKNOWN_VERSION = -1  # a feed event without a version: never taken for our own echo


@dataclass
class EntityCounts:
    """What one tick did for one entity (the run's summary artifact shows these)."""

    changed_in_svenn: int = 0  # records changed there: a synced field, deleted, or new
    changed_in_tripletex: int = 0
    written_to_svenn: int = 0
    written_to_tripletex: int = 0
    created_in_svenn: int = 0
    created_in_tripletex: int = 0
    linked: int = 0
    conflicts: int = 0
    failures: int = 0

    def add(self, other: EntityCounts) -> None:
        """Add another tick's counts to these."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)

    @property
    def writes(self) -> int:
        """Writes sent to either system."""
        return (
            self.written_to_svenn
            + self.written_to_tripletex
            + self.created_in_svenn
            + self.created_in_tripletex
        )


@dataclass
class TickReport:
    """One tenant's tick."""

    tenant: str
    entities: dict[Entity, EntityCounts] = field(default_factory=dict)
    resynced: bool = False

    @property
    def writes(self) -> int:
        """Writes sent to either system in this tick."""
        return sum(c.writes for c in self.entities.values())


@dataclass
class DetectedChanges:
    """One side's detected changes for one entity: ids, and records already read."""

    ids: set[str] = field(default_factory=set)
    records: dict[str, Record] = field(default_factory=dict)
    full: bool = False  # ``records`` holds every record of the entity
    # Records read that could not be read (each logged as MALFORMED_RECORD): by id, never
    # taken for deleted; ``id_unreadable`` when one's id could not be read either, so that no
    # record missing from this tick's reads is taken for deleted.
    unreadable: set[str] = field(default_factory=set)
    id_unreadable: bool = False
    stand_ins: list[Record] = field(default_factory=list)

    def readable(self, record_id: str) -> bool:
        """True when ``record_id`` was read, or its absence means it is gone."""
        if record_id in self.unreadable:
            return False
        return record_id in self.records or not self.id_unreadable


@dataclass
class Commit:
    """Everything a tick stores at its end, in one transaction."""

    link_updates: list[tuple[Entity, str, Record, Record, Mapping[str, Any]]] = field(
        default_factory=list
    )
    unlinks: dict[Entity, set[str]] = field(default_factory=dict)
    synced_keys: dict[Entity, set[str]] = field(default_factory=dict)
    polls: dict[Entity, PollState] = field(default_factory=dict)
    cursor: str | None = None
    echoes: dict[str, dict[str, int]] = field(default_factory=dict)  # entity → id → version
    tombstones: list[Tombstone] = field(default_factory=list)


class TenantTick:
    """A tick of one tenant (create one per tick)."""

    def __init__(
        self,
        store: StateStore,
        tenant: str,
        tripletex: TripletexClient,
        svenn: SvennClient,
        run_id: str | None = None,
        *,
        state: TickState | None = None,
        plan: TickPlan | None = None,
    ) -> None:
        self.store, self.tenant, self.tripletex, self.svenn = store, tenant, tripletex, svenn
        self._state = state
        self.plan = plan or TickPlan(poll_tripletex=True, pushed={})
        self.applier = Applier(store, tenant, run_id)
        self.by = f"realtime sync run {run_id}" if run_id else "realtime sync"
        self.report = TickReport(tenant)
        self.commit = Commit()
        self._semaphore = asyncio.Semaphore(WRITE_CONCURRENCY)
        self._malformed_logged: set[tuple[str, str, str | None, str]] = set()

    async def run(self) -> TickReport:
        """Detect, decide, apply and commit every entity of the tenant."""
        state = self._state
        if state is None:
            with self.store.sessions() as session:
                state = tick_state(session, self.tenant, [e.value for e in SYNC_ORDER])
        cursor, echoes = state.cursor, state.echoes
        self._digests = {e: state.digests.get(e.value) for e in SYNC_ORDER}
        self._stored_versions: dict[Entity, dict[str, int]] = {}
        self._loaded_cursor = cursor
        self._loaded_echoes = echoes
        feed, self.commit.cursor, resync = await self._read_feed(cursor)
        self.report.resynced = resync
        for entity in SYNC_ORDER:
            ids = feed_changes(feed.get(entity, {}), echoes.get(entity.value, {}))
            svenn = await self._svenn_side(entity, ids, resync)
            tripletex = await self._tripletex_changes(entity)
            await self._sync_entity(entity, svenn, tripletex)
        self._store_commit()
        return self.report

    # --- detect -------------------------------------------------------------------------

    async def _read_feed(
        self, cursor: str | None
    ) -> tuple[dict[Entity, dict[str, int]], str, bool]:
        """Changed ids (with their newest version) per entity from the feed, the cursor after
        them, and whether to resync."""
        if cursor:
            ids: dict[Entity, dict[str, int]] = {}
            try:
                async for page in self.svenn.iter_changes(cursor):
                    for event in page.events:
                        seen = ids.setdefault(event.entity, {})
                        before = seen.get(event.id, 0)
                        unknown = event.version is None or before == UNKNOWN_VERSION
                        seen[event.id] = (
                            UNKNOWN_VERSION if unknown else max(event.version or 0, before)
                        )
                    for bad in page.malformed:  # an event naming no readable record
                        self._add_read(bad.entity, DetectedChanges(), RecordList(malformed=[bad]))
                    cursor = page.next_cursor
                return ids, cursor, False
            except CursorExpiredError:
                pass  # too old (or the feed was reset): compare everything once
        return {}, await self.svenn.latest_cursor(), True

    async def _svenn_side(self, entity: Entity, ids: set[str], resync: bool) -> DetectedChanges:
        if not resync:
            return DetectedChanges(ids)
        side = DetectedChanges(full=True)
        self._add_read(entity, side, await self.svenn.list(entity))
        side.ids = set(side.records) | side.unreadable
        return side

    async def _tripletex_side(self, entity: Entity) -> DetectedChanges:
        digest = self._digests[entity]
        seen, new_digest = await self.tripletex.poll_versions(entity, digest or None)
        if seen is None:
            return DetectedChanges()  # 304: the stored list stands, unread
        changed, vanished = version_changes(self._versions(entity), seen)
        self.commit.polls[entity] = PollState(new_digest, dict(seen))
        side = DetectedChanges()
        self._add_read(entity, side, RecordList(malformed=seen.malformed))
        if digest and len(changed) <= FULL_READ_ABOVE:
            side.ids = changed | vanished
            return side
        side.full = True
        self._add_read(entity, side, await self.tripletex.list(entity))
        side.ids = set(side.records) | vanished
        return side

    async def _tripletex_changes(self, entity: Entity) -> DetectedChanges:
        """What changed in Tripletex: the checksum poll when the plan says so, plus the
        records webhook events named, read by id (``sync.push_schedule``). Their versions go
        into the poll list, so the next poll does not read them again."""
        side = await self._tripletex_side(entity) if self.plan.poll_tripletex else DetectedChanges()
        pushed = sorted(self.plan.pushed.get(entity, frozenset()) - set(side.records))
        if pushed and not side.full:
            self._add_read(entity, side, await self.tripletex.get_many(entity, pushed))
            side.ids |= set(pushed)
            for record_id in pushed:
                record = side.records.get(record_id)
                if record is not None:
                    self._note_version(entity, record)
                elif record_id not in side.unreadable:  # deleted: the poll list forgets it
                    self._poll(entity).versions.pop(record_id, None)
        return side

    def _versions(self, entity: Entity) -> dict[str, int]:
        """The stored ``id → version`` list of the entity's poll, read once in a tick and only
        when needed (a poll that changed, a version to note): a quiet tick reads none."""
        if entity not in self._stored_versions:
            with self.store.sessions() as session:
                self._stored_versions[entity] = poll_versions(session, self.tenant, entity.value)
        return self._stored_versions[entity]

    def _poll(self, entity: Entity) -> PollState:
        """The entity's poll as this tick leaves it (the stored one until something changes)."""
        poll = self.commit.polls.get(entity)
        if poll is None:
            poll = PollState(self._digests[entity], dict(self._versions(entity)))
            self.commit.polls[entity] = poll
        return poll

    def _add_read(self, entity: Entity, side: DetectedChanges, found: RecordList[Record]) -> None:
        """Add what was read to ``side``; log each record that could not be read, once."""
        side.records.update({str(r.id): r for r in found})
        for bad in found.malformed:
            if bad.record_id is not None and bad.field != "id":
                side.unreadable.add(bad.record_id)
            else:
                side.id_unreadable = True
            if bad.stand_in is not None:
                side.stand_ins.append(bad.stand_in)
            key = (bad.system.value, bad.entity.value, bad.record_id, bad.field)
            if key not in self._malformed_logged:
                self._malformed_logged.add(key)
                self.applier.fail([malformed_failure(bad)])
                self.report.entities.setdefault(entity, EntityCounts()).failures += 1

    # --- decide and apply ------------------------------------------------------------------

    async def _sync_entity(
        self, entity: Entity, svenn: DetectedChanges, tripletex: DetectedChanges
    ) -> None:
        self.report.entities.setdefault(entity, EntityCounts())
        if not svenn.ids and not tripletex.ids:
            return
        with self.store.sessions() as session:
            links = links_for(session, self.tenant, entity.value)
        by_sv = {link.svenn_id: link for link in links}
        by_tx = {link.tripletex_id: link for link in links}
        touched_by_sv = {i: by_sv[i] for i in svenn.ids if i in by_sv}
        touched_by_sv |= {by_tx[i].svenn_id: by_tx[i] for i in tripletex.ids if i in by_tx}
        touched = list(touched_by_sv.values())
        await self._fetch(entity, svenn, {link.svenn_id for link in touched} | svenn.ids, "svenn")
        await self._fetch(
            entity, tripletex, {link.tripletex_id for link in touched} | tripletex.ids, "tripletex"
        )
        # A record that could not be read is neither changed nor deleted: its link waits.
        await self._settle(
            entity,
            [
                _state(link)
                for link in touched
                if svenn.readable(link.svenn_id) and tripletex.readable(link.tripletex_id)
            ],
            svenn,
            tripletex,
            count_changes=True,
        )
        new_sv = [r for i, r in svenn.records.items() if i in svenn.ids and i not in by_sv]
        new_tx = [r for i, r in tripletex.records.items() if i in tripletex.ids and i not in by_tx]
        if new_sv or new_tx:
            await self._new_records(entity, new_sv, new_tx, svenn, tripletex, by_sv, by_tx)

    async def _settle(
        self,
        entity: Entity,
        links: Sequence[LinkState],
        svenn: DetectedChanges,
        tripletex: DetectedChanges,
        *,
        count_changes: bool = False,
    ) -> None:
        """Decide each link on both sides' records as read, log what must be logged, write;
        ``count_changes``: count the records a person changed (not the pairs just linked, which
        the new records' count covers)."""
        decisions = [
            decide_link(
                link, svenn.records.get(link.svenn_id), tripletex.records.get(link.tripletex_id)
            )
            for link in links
        ]
        self.applier.fail([row for d in decisions for row in d.log])  # before any write
        counts = self.report.entities[entity]
        for decision in decisions if count_changes else ():
            in_svenn, in_tripletex = _changed_sides(decision, svenn, tripletex)
            counts.changed_in_svenn += in_svenn
            counts.changed_in_tripletex += in_tripletex
        counts.conflicts += sum(
            r.reason_code == ReasonCode.FIELD_CONFLICT for d in decisions for r in d.log
        )
        batched = await self._batch_tripletex_updates(entity, decisions)
        await together(
            *(
                self._apply(entity, d, svenn, tripletex, batched.get(d.link.svenn_id))
                for d in decisions
            )
        )

    async def _fetch(
        self, entity: Entity, side: DetectedChanges, ids: set[str], system: str
    ) -> None:
        missing = sorted(ids - set(side.records))
        if side.full or not missing:
            return
        client: SvennClient | TripletexClient = self.svenn if system == "svenn" else self.tripletex
        self._add_read(entity, side, await client.get_many(entity, missing))

    async def _batch_tripletex_updates(
        self, entity: Entity, decisions: Sequence[LinkDecision]
    ) -> dict[str, Record]:
        """Send the tick's Tripletex updates of ``entity`` in ``PUT /<entity>/list`` batches.

        Returns what Tripletex holds afterwards, by the link's Svenn id. A batch is
        all-or-nothing: an item Tripletex names (``[i].field``) is taken out and the rest sent
        again; a refusal without an index (a stale version, 409 code 8000) leaves the whole
        rest to the per-record path, which re-reads, re-merges and retries each one once.
        Employees have no ``PUT /employee/list``: they always go one by one.
        """
        pending = [d for d in decisions if d.tripletex_write is not None]
        writes = [d.tripletex_write for d in decisions if d.tripletex_write is not None]
        if not self.tripletex.has_update_many(entity) or len(pending) < 2:
            return {}
        outcomes = await self.tripletex.update_each(
            entity,
            writes,
            smallest_batch=2,  # the rest goes one by one: a clean refusal, or a stale retry
            fatal=_stops_the_tick,
            one_by_one=False,  # ...by the per-record path, which re-reads and re-merges
        )
        return {
            d.link.svenn_id: written
            for d, written in zip(pending, outcomes, strict=True)
            if isinstance(written, Record)
        }

    async def _apply(
        self,
        entity: Entity,
        decision: LinkDecision,
        svenn: DetectedChanges,
        tripletex: DetectedChanges,
        tx_written: Record | None = None,
    ) -> None:
        counts = self.report.entities[entity]
        link = decision.link
        sv_now = svenn.records.get(link.svenn_id)
        tx_now = tripletex.records.get(link.tripletex_id)
        async with self._semaphore:
            for attempt in (1, 2):
                try:
                    sv_after, tx_after = await self._write(
                        entity, decision, sv_now, tx_now, tx_written
                    )
                    break
                except StaleVersionError:
                    if attempt == 2:
                        self._stale(entity, decision, sv_now, tx_now)
                        return
                    tx_written = None  # the re-merge below decides anew what to write there
                    sv_now, tx_now = await self._reread(entity, link)
                    if sv_now is None or tx_now is None:  # gone or unreadable: the next tick
                        self._stale(entity, decision, sv_now, tx_now)  # sees which
                        return
                    decision = decide_link(decision.link, sv_now, tx_now)
                    self.applier.fail(decision.log)
                except ApiError as error:
                    if error.retryable or error.status in (401, 403):
                        raise
                    self._rejected(entity, decision, sv_now, tx_now, error)
                    return
                except MalformedRecordError as error:  # read again to write, and unreadable
                    self._add_read(
                        entity, DetectedChanges(), RecordList(malformed=[error.malformed])
                    )
                    return
        if decision.svenn_write is not None and sv_after is not None:
            self._note_echo(entity, link.svenn_id, sv_after)
        counts.written_to_svenn += decision.svenn_write is not None
        counts.written_to_tripletex += decision.tripletex_write is not None
        if decision.on_delete in (OnDelete.DEACTIVATE_IN_SVENN, OnDelete.CLOSE_IN_SVENN):
            counts.written_to_svenn += 1
        elif decision.on_delete is OnDelete.CLOSE_IN_TRIPLETEX:
            counts.written_to_tripletex += 1
        keys = self.commit.synced_keys.setdefault(entity, set())
        keys.update({f"svenn:{link.svenn_id}", f"tripletex:{link.tripletex_id}"})
        if decision.unlink:
            self.commit.unlinks.setdefault(entity, set()).add(link.svenn_id)
            self._remember_survivor(decision, sv_after, tx_after)
        elif decision.merge is not None and sv_after is not None and tx_after is not None:
            self.commit.link_updates.append(
                (entity, link.svenn_id, sv_after, tx_after, decision.merge.merged)
            )
            self._note_version(entity, tx_after)

    async def _write(
        self,
        entity: Entity,
        d: LinkDecision,
        sv_now: Record | None,
        tx_now: Record | None,
        tx_written: Record | None = None,
    ) -> tuple[Record | None, Record | None]:
        """Send one link's writes; ``tx_written``: its Tripletex update already went in a batch."""
        sv_after, tx_after = sv_now, tx_now
        if tx_written is not None:
            tx_after = tx_written
        elif d.tripletex_write is not None:
            tx_after = await self.tripletex.update(d.tripletex_write)
        if d.svenn_write is not None:
            sv_after = await self.svenn.update(d.svenn_write, fields=d.svenn_fields)
        if d.on_delete in (OnDelete.DEACTIVATE_IN_SVENN, OnDelete.CLOSE_IN_SVENN):
            sv_after = await self.svenn.deactivate(entity, d.link.svenn_id)
        elif d.on_delete is OnDelete.CLOSE_IN_TRIPLETEX:
            tx_after = await self.tripletex.deactivate(entity, d.link.tripletex_id)
        return sv_after, tx_after

    def _remember_survivor(
        self, d: LinkDecision, sv_after: Record | None, tx_after: Record | None
    ) -> None:
        """A dropped link's survivor, as the delete rule left it: not a new record later."""
        if sv_after is not None and tx_after is None:
            self.commit.tombstones.append(
                tombstone_for(sv_after, System.TRIPLETEX, d.link.tripletex_id)
            )
        elif tx_after is not None and sv_after is None:
            self.commit.tombstones.append(tombstone_for(tx_after, System.SVENN, d.link.svenn_id))

    async def _reread(self, entity: Entity, link: LinkState) -> tuple[Record | None, Record | None]:
        svenn = await self.svenn.get_many(entity, [link.svenn_id])
        tripletex = await self.tripletex.get_many(entity, [link.tripletex_id])
        return (svenn[0] if svenn else None), (tripletex[0] if tripletex else None)

    def _stale(
        self, entity: Entity, d: LinkDecision, sv_now: Record | None, tx_now: Record | None
    ) -> None:
        to_tripletex = d.tripletex_write is not None or d.on_delete is OnDelete.CLOSE_IN_TRIPLETEX
        record = tx_now if to_tripletex else sv_now
        if record is None:
            return
        direction = (
            Direction.TRIPLETEX_TO_SVENN if not to_tripletex else Direction.SVENN_TO_TRIPLETEX
        )
        system = "Tripletex" if to_tripletex else "Svenn"
        row = failure_for(record, direction, ReasonCode.STALE_VERSION, system=system)
        self._log_for_link(entity, row, d.link)

    def _rejected(
        self,
        entity: Entity,
        d: LinkDecision,
        sv_now: Record | None,
        tx_now: Record | None,
        error: ApiError,
    ) -> None:
        source = sv_now if d.tripletex_write is not None else tx_now
        if source is None:
            return
        direction = (
            Direction.SVENN_TO_TRIPLETEX
            if d.tripletex_write is not None
            else Direction.TRIPLETEX_TO_SVENN
        )
        self._log_for_link(entity, rejection(source, direction, error), d.link)

    def _log_for_link(self, entity: Entity, row: PlannedFailure, link: LinkState) -> None:
        self.applier.fail([_with_link_ids(row, link)])
        self.report.entities[entity].failures += 1

    def _note_version(self, entity: Entity, record: Record) -> None:
        """Our own write's version, so the next poll does not take it for a change."""
        if record.id is None or record.version is None:
            return
        poll = self._poll(entity)
        if isinstance(record, Customer) and not record.is_active:
            poll.versions.pop(record.id, None)  # the poll lists active customers only
        else:
            poll.versions[record.id] = record.version

    def _note_echo(self, entity: Entity, svenn_id: str, record: Record) -> None:
        """Our own Svenn write's version, so the next tick does not read it back."""
        if record.version is not None:
            self.commit.echoes.setdefault(entity.value, {})[svenn_id] = record.version

    # --- new records -----------------------------------------------------------------------

    async def _new_records(
        self,
        entity: Entity,
        new_sv: Sequence[Record],
        new_tx: Sequence[Record],
        svenn: DetectedChanges,
        tripletex: DetectedChanges,
        by_sv: Mapping[str, Link],
        by_tx: Mapping[str, Link],
    ) -> None:
        """Match new records against the other side's unlinked ones first, then create.

        The planner sees every record of both sides (it leaves the linked ones out itself), so
        a new record that duplicates a linked one on its own side is held back as the initial
        sync holds it back, instead of being created on the other side.
        """
        counts = self.report.entities[entity]
        all_sv = await self._read_all(entity, svenn, "svenn")
        all_tx = await self._read_all(entity, tripletex, "tripletex")
        with self.store.sessions() as session:
            linked = {link.tripletex_id: link.svenn_id for link in by_tx.values()}
            customers = {
                link.tripletex_id: link.svenn_id
                for link in links_for(session, self.tenant, Entity.CUSTOMER.value)
            }
            tombstones = tombstones_for(session, self.tenant, entity)
            decisions = decisions_for(session, self.tenant, entity.value)
        resting = resting_keys(tombstones, {System.SVENN: all_sv, System.TRIPLETEX: all_tx})
        plan = plan_entity(
            entity,
            all_tx,
            all_sv,
            linked=linked,
            customer_links=customers,
            unreadable={"svenn": svenn.stand_ins, "tripletex": tripletex.stand_ins},
            resting=resting,
            decisions=decisions,
        )
        link_twins(plan, new_tx, new_sv, decisions)  # one customer typed into both systems, no key
        new_ids = {f"svenn:{r.id}" for r in new_sv} | {f"tripletex:{r.id}" for r in new_tx}
        failures = [f for f in plan.failures if _key(f) in new_ids]
        self.applier.fail(failures)
        fresh_links = [
            link
            for link in plan.links
            if f"svenn:{link.svenn_id}" in new_ids or f"tripletex:{link.tripletex_id}" in new_ids
        ]
        tx_by_id = {str(r.id): r for r in all_tx}
        sv_by_id = {str(r.id): r for r in all_sv}
        stored = self.applier.link(entity, fresh_links, tx_by_id, sv_by_id)
        counts.linked += len(fresh_links)
        # Two records matched while they differ are aligned now, by the rules a person's link
        # follows (the link was stored not yet agreed: no fingerprints, an empty base).
        differing = [state for state in map(_state, stored) if state.unagreed]
        await self._settle(entity, differing, svenn, tripletex)
        keys = self.commit.synced_keys.setdefault(entity, set())
        for link in fresh_links:
            keys.update({f"svenn:{link.svenn_id}", f"tripletex:{link.tripletex_id}"})
        new_tx_ids = {r.id for r in new_tx}
        new_sv_ids = {r.id for r in new_sv}
        to_svenn = [r for r in plan.create_in_svenn if r.id in new_tx_ids]
        to_tripletex = [r for r in plan.create_in_tripletex if r.id in new_sv_ids]
        before, made_in_svenn, made_in_tripletex = self.applier.tally(entity).failed, 0, 0
        # The applier resolves the failed rows of what it created; what it could not create
        # keeps the row it just wrote (marking these keys synced would close it unseen).
        if to_svenn:
            created = await self.applier.create_in_svenn(
                self.svenn, entity, to_svenn, existing=all_sv
            )
            counts.created_in_svenn += len(created)
            made_in_svenn = len(created)
            for record in created:
                if record.id is not None:
                    self._note_echo(entity, record.id, record)
        if to_tripletex:
            created = await self._create_in_tripletex(entity, to_tripletex, all_tx)
            counts.created_in_tripletex += len(created)
            made_in_tripletex = len(created)
            for record in created:
                self._note_version(entity, record)
        counts.failures += self.applier.tally(entity).failed - before
        counts.failures += sum(not _whole_list(f, svenn, tripletex) for f in failures)
        linked_sv = sum(link.svenn_id in new_sv_ids for link in fresh_links)
        linked_tx = sum(link.tripletex_id in new_tx_ids for link in fresh_links)
        counts.changed_in_svenn += _new_changed(new_sv, svenn, linked_sv + made_in_tripletex)
        counts.changed_in_tripletex += _new_changed(new_tx, tripletex, linked_tx + made_in_svenn)

    async def _read_all(self, entity: Entity, side: DetectedChanges, system: str) -> list[Record]:
        if not side.full:
            client: SvennClient | TripletexClient = (
                self.svenn if system == "svenn" else self.tripletex
            )
            self._add_read(entity, side, await client.list(entity))
            side.full = True
        return list(side.records.values())

    async def _create_in_tripletex(
        self, entity: Entity, records: Sequence[Record], existing: Sequence[Record]
    ) -> list[Record]:
        manager: str | None = None
        managers: set[str] | None = None
        if entity is Entity.PROJECT:
            manager = str((await self.tripletex.who_am_i()).employee_id)
            managers = await self.tripletex.list_project_manager_ids()
        return await self.applier.create_in_tripletex(
            self.tripletex,
            entity,
            records,
            fallback_manager=manager,
            existing=existing,
            project_managers=managers,
            numbers_back=self.svenn,
        )

    # --- commit ------------------------------------------------------------------------------

    def _store_commit(self) -> None:
        c = self.commit
        changed_polls = {
            e: p
            for e, p in c.polls.items()
            if (p.digest, p.versions) != (self._digests[e], self._stored_versions.get(e))
        }
        moved = c.cursor is not None and c.cursor != self._loaded_cursor
        echoes = c.echoes != self._loaded_echoes
        if not (c.link_updates or c.unlinks or c.synced_keys or changed_polls or moved or echoes):
            return  # a quiet tick stores nothing
        with self.store.sessions.begin() as session:
            for entity, svenn_id, svenn, tripletex, merged in c.link_updates:
                update_link(
                    session,
                    self.tenant,
                    entity.value,
                    svenn_id,
                    svenn_fingerprint=svenn.fingerprint(),
                    tripletex_fingerprint=tripletex.fingerprint(),
                    base=merged,
                )
            for entity, ids in c.unlinks.items():
                drop_links(session, self.tenant, entity.value, ids)
            remember_survivors(session, self.tenant, c.tombstones)
            for entity, keys in c.synced_keys.items():
                resolve_failures(
                    session, self.tenant, entity.value, keys, by=self.by, keep_reasons=KEEP_OPEN
                )
            for entity, poll in changed_polls.items():
                save_poll_state(session, self.tenant, entity.value, poll)
            if moved and c.cursor:
                set_svenn_cursor(session, self.tenant, c.cursor)
            if echoes:  # replaced whole: last tick's echoes were consumed by this tick's feed
                set_svenn_echoes(session, self.tenant, c.echoes)


def _changed_sides(
    decision: LinkDecision, svenn: DetectedChanges, tripletex: DetectedChanges
) -> tuple[bool, bool]:
    """(changed in Svenn, changed in Tripletex) for a linked record: deleted there, or a synced
    field edited there that the other side does not hold (our own writes coming back, or a
    stale base both sides already agree on, change nothing)."""
    link = decision.link
    if decision.unlink:
        return link.svenn_id not in svenn.records, link.tripletex_id not in tripletex.records
    merge = decision.merge
    if merge is None:
        return False, False
    ours = svenn.records[link.svenn_id].synced_fields()
    theirs = tripletex.records[link.tripletex_id].synced_fields()
    apart = {
        name
        for name in merge.changed_in_svenn | merge.changed_in_tripletex
        if not same_value(name, ours.get(name), theirs.get(name))
    }
    return bool(apart & merge.changed_in_svenn), bool(apart & merge.changed_in_tripletex)


def _new_changed(records: Sequence[Record], side: DetectedChanges, travelled: int) -> int:
    """How many unlinked records of one side count as changed: each one read by id (the feed
    or a version named it); of a whole list read (a first tick, a resync) only the ``travelled``
    ones (linked or created), as the rest were there before (e.g. still failing)."""
    return travelled if side.full else len(records)


def _whole_list(
    failure: PlannedFailure, svenn: DetectedChanges, tripletex: DetectedChanges
) -> bool:
    """True when the failed record was read in a whole list (not named as changed)."""
    return (svenn if failure.direction is Direction.SVENN_TO_TRIPLETEX else tripletex).full


def _state(link: Link | NewLink) -> LinkState:
    return LinkState(
        entity=_entity(link.entity),
        svenn_id=link.svenn_id,
        tripletex_id=link.tripletex_id,
        svenn_fingerprint=link.svenn_fingerprint,
        tripletex_fingerprint=link.tripletex_fingerprint,
        base=link.base_snapshot,
    )


def _entity(value: str) -> Entity:
    return Entity(value)


def _key(failure: PlannedFailure) -> str:
    if failure.direction is Direction.SVENN_TO_TRIPLETEX:
        return f"svenn:{failure.svenn_id}"
    return f"tripletex:{failure.tripletex_id}"


def _with_link_ids(row: PlannedFailure, link: LinkState) -> PlannedFailure:
    return PlannedFailure(
        entity=row.entity,
        direction=row.direction,
        reason_code=row.reason_code,
        message_en=row.message_en,
        message_no=row.message_no,
        svenn_id=link.svenn_id,
        tripletex_id=link.tripletex_id,
        payload=row.payload,
        details=row.details,
    )


def _stops_the_tick(error: ApiError) -> bool:
    return error.retryable or error.status in (401, 403)


def tick_time() -> dt.datetime:
    """Now, in UTC (the time a tick is recorded under)."""
    return dt.datetime.now(dt.UTC)
