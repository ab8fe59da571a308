"""Apply an initial-sync plan: store links, create records, log what fails.

Every write first passes the approval gate (checked again before each batch, so disabling an
integration stops a run between batches). Each batch's links are stored as soon as it is
answered, while the next batch is on its way (:func:`tasks.overlap.overlapped`), so a run that
dies can be rerun: records already linked are skipped, and a record created just before the
crash is found again (Svenn's by its ``externalRef``, Tripletex's by the plan's resume key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.errors import ApiError
from connectors.svenn.client import CreateOutcome, SvennClient
from connectors.tripletex.client import TripletexClient
from store.failures import Failure, open_failure_columns, record_failures, resolve_failures
from store.integrations import renew_sync, require_approved
from store.links import NewLink, save_links
from store.state import StateStore
from sync.decisions import Decisions
from sync.merge import agreed
from sync.plan import PlannedFailure, PlannedLink, failure_for
from sync.records import Direction, Entity, Record, fingerprint_of
from sync.rules import ReasonCode
from sync.target_rules import TargetFacts, prepare_creates
from tasks.numbers import write_back_numbers
from tasks.overlap import batches, overlapped
from tasks.planning import stored_decisions, stored_links

_MISSING = object()


def error_details(error: ApiError) -> dict[str, Any]:
    """The target system's own error, JSON-safe, for the failed-record row."""
    return {
        "error": type(error).__name__,
        "status": error.status,
        "code": error.code,
        "message": error.message,
        "request_id": error.request_id,
        "field_errors": [
            {"field": fe.field, "message": fe.message, "path": fe.path} for fe in error.field_errors
        ],
        "details": error.details,
    }


def error_text(error: ApiError) -> str:
    """The target's own words: its field messages, else its message."""
    texts = [
        f"{fe.field}: {fe.message}" if fe.field else fe.message for fe in error.field_errors
    ] or [error.message]
    return "; ".join(texts)


def rejection(record: Record, direction: Direction, error: ApiError) -> PlannedFailure:
    """A failure carrying the target's own message (Norwegian from Tripletex, as sent)."""
    code = ReasonCode.TARGET_UNAVAILABLE if error.retryable else ReasonCode.TARGET_REJECTED
    failure = failure_for(record, direction, code, detail=error_text(error))
    return replace(failure, details=error_details(error))


@dataclass
class Tally:
    """What one entity's apply did."""

    linked: int = 0
    aligned: int = 0  # of ``linked``: pairs that differed, written to agree
    created_in_svenn: int = 0
    created_in_tripletex: int = 0
    failed: int = 0


@dataclass
class Applier:
    """Writes one tenant's plan through the connectors and records every outcome."""

    store: StateStore
    tenant: str
    flow_run_id: str | None = None
    on_progress: Callable[[int], None] = lambda _done: None
    tallies: dict[Entity, Tally] = field(default_factory=dict)
    # Who closes the open failed rows of the records this applier syncs (a flow or a person).
    actor: str = "initial-sync"
    # A retry asked for by a person sends a refused record again even when it did not change.
    resend_unchanged: bool = False

    def tally(self, entity: Entity) -> Tally:
        """The running tally for one entity."""
        return self.tallies.setdefault(entity, Tally())

    def _gate(self) -> None:
        """Before each batch: still approved? (and a sign of life for the run's lease)"""
        with self.store.sessions.begin() as session:
            require_approved(session, self.tenant)
            if self.flow_run_id:
                renew_sync(session, self.tenant, self.flow_run_id)

    def check_gate(self) -> None:
        """The approval gate, before a write outside the plan's batches (a repair)."""
        self._gate()

    def links(self, entity: Entity) -> dict[str, str]:
        """Tripletex id → Svenn id for one entity, as stored now."""
        return stored_links(self.store, self.tenant, entity)

    def decisions(self, entity: Entity) -> Decisions:
        """What people decided about this entity's held-back records, as stored now."""
        return stored_decisions(self.store, self.tenant, entity)

    def fail(self, failures: Sequence[PlannedFailure]) -> None:
        """Log planned failures as failed-record rows."""
        if not failures:
            return
        rows = [
            Failure(
                tenant=self.tenant,
                entity=f.entity.value,
                direction=f.direction.value,
                reason_code=f.reason_code,
                message_en=f.message_en,
                message_no=f.message_no,
                svenn_id=f.svenn_id,
                tripletex_id=f.tripletex_id,
                target_error=f.details,
                payload=f.payload,
                flow_run_id=self.flow_run_id,
            )
            for f in failures
        ]
        with self.store.sessions.begin() as session:
            record_failures(session, rows)
        for f in failures:  # a conflict row is a notice: the record synced
            if f.reason_code != ReasonCode.FIELD_CONFLICT:
                self.tally(f.entity).failed += 1

    def link(
        self,
        entity: Entity,
        planned: Sequence[PlannedLink],
        tripletex: Mapping[str, Record],
        svenn: Mapping[str, Record],
    ) -> list[NewLink]:
        """Store the links the matching found (no writes to either system); the links as
        stored (a pair that differs has no fingerprints: not yet agreed)."""
        self._gate()
        new = [
            _new_link(entity, tripletex[p.tripletex_id], svenn[p.svenn_id], p.key, matched=True)
            for p in planned
        ]
        for start in range(0, len(new), 500):
            with self.store.sessions.begin() as session:
                save_links(session, self.tenant, new[start : start + 500])
                self._resolve(session, entity, new[start : start + 500])
        self.tally(entity).linked += len(new)
        self.on_progress(len(new))
        return new

    async def create_in_svenn(
        self,
        svenn: SvennClient,
        entity: Entity,
        records: Sequence[Record],
        *,
        existing: Sequence[Record] = (),
    ) -> list[Record]:
        """Step 1: create Tripletex-only records in Svenn (idempotent by ``externalRef``)."""
        direction = Direction.TRIPLETEX_TO_SVENN
        records, skipped = self._unchanged_rejections(records, direction)
        self.on_progress(skipped)
        ready, failures = self._translate(records, direction, existing=existing)
        self.fail(failures)
        created: list[Record] = []
        Batch = Sequence[tuple[Record, Record]]

        async def send(batch: Batch) -> list[CreateOutcome[Record]]:
            self._gate()
            refs = [f"tripletex:{source.id}" for source, _ in batch]
            return await svenn.create_many(entity, [target for _, target in batch], refs)

        async def settle(batch: Batch, outcomes: list[CreateOutcome[Record]]) -> None:
            pairs, bad = [], []
            for (source, _), outcome in zip(batch, outcomes, strict=True):
                if outcome.record is not None:
                    pairs.append((source, outcome.record))
                elif outcome.error is not None:
                    bad.append(rejection(source, direction, outcome.error))
            self._save_created(entity, pairs, svenn_side_created=True)
            self.fail(bad)
            created.extend(c for _, c in pairs)
            self.tally(entity).created_in_svenn += len(pairs)
            self.on_progress(len(batch))

        await overlapped(batches(ready, svenn.batch_size), send, settle)
        return created

    async def create_in_tripletex(
        self,
        tripletex: TripletexClient,
        entity: Entity,
        records: Sequence[Record],
        *,
        fallback_manager: str | None,
        existing: Sequence[Record] = (),
        project_managers: set[str] | None = None,
        numbers_back: SvennClient | None = None,
    ) -> list[Record]:
        """Step 2: create Svenn-only records in Tripletex, respecting its rules up front.

        Numbers and e-mails already used in Tripletex and managers without project-manager
        access are logged without a request; what Tripletex still refuses keeps its message.
        With ``numbers_back``, the numbers Tripletex assigned are written back to the Svenn
        records before their links are stored (a number Svenn refuses is a failed record).
        """
        direction = Direction.SVENN_TO_TRIPLETEX
        records, skipped = self._unchanged_rejections(records, direction)
        self.on_progress(skipped)
        ready, failures = self._translate(
            records,
            direction,
            fallback_manager=fallback_manager,
            existing=existing,
            project_managers=project_managers,
        )
        self.fail(failures)
        created: list[Record] = []
        Batch = Sequence[tuple[Record, Record]]

        async def send(batch: Batch) -> list[Record | ApiError]:
            self._gate()
            return await tripletex.create_each(entity, [target for _, target in batch])

        async def settle(batch: Batch, results: list[Record | ApiError]) -> None:
            pairs, bad = [], []
            for (source, _), result in zip(batch, results, strict=True):
                if isinstance(result, ApiError):
                    bad.append(rejection(source, direction, result))
                else:
                    pairs.append((result, source))
            if numbers_back is not None:
                pairs, refused = await write_back_numbers(numbers_back, pairs)
                bad += [rejection(c, Direction.TRIPLETEX_TO_SVENN, e) for c, e in refused]
            self._save_created(entity, pairs, svenn_side_created=False)
            self.fail(bad)
            created.extend(c for c, _ in pairs)
            self.tally(entity).created_in_tripletex += len(pairs)
            self.on_progress(len(batch))

        await overlapped(batches(ready, tripletex.batch_size), send, settle)
        return created

    def _save_created(
        self, entity: Entity, pairs: Sequence[tuple[Record, Record]], *, svenn_side_created: bool
    ) -> None:
        """Store links for created records: pairs are (tripletex record, svenn record)."""
        key = "created_in_svenn" if svenn_side_created else "created_in_tripletex"
        links = [_new_link(entity, tx_rec, sv_rec, key) for tx_rec, sv_rec in pairs]
        with self.store.sessions.begin() as session:
            save_links(session, self.tenant, links)
            self._resolve(session, entity, links)

    def _resolve(self, session: Any, entity: Entity, links: Sequence[NewLink]) -> None:
        """The records just linked are synced: their open failed rows are resolved."""
        keys = [f"svenn:{link.svenn_id}" for link in links]
        keys += [f"tripletex:{link.tripletex_id}" for link in links]
        by = f"{self.actor} {self.flow_run_id}" if self.flow_run_id else self.actor
        resolve_failures(session, self.tenant, entity.value, keys, by=by)

    def _unchanged_rejections(
        self, records: Sequence[Record], direction: Direction
    ) -> tuple[list[Record], int]:
        """Leave out records the target refused before, unless they changed since.

        Sending the same content again would be refused again: a rerun over unchanged data
        writes nothing. Fixed records (changed content) are tried again.
        """
        if not records or self.resend_unchanged:
            return list(records), 0
        side = direction.source
        with self.store.sessions() as session:
            refused: dict[str, Any] = {
                row.record_key: row.payload
                for row in open_failure_columns(
                    session,
                    self.tenant,
                    "record_key",
                    "payload",
                    entity=records[0].entity.value,
                    reason_code=ReasonCode.TARGET_REJECTED.value,
                    direction=direction.value,
                )
            }
        keep = [  # a record never refused is kept without dumping it
            r
            for r in records
            if (payload := refused.get(f"{side}:{r.id}", _MISSING)) is _MISSING
            or payload != r.model_dump(mode="json")
        ]
        return keep, len(records) - len(keep)

    def _translate(
        self,
        records: Sequence[Record],
        direction: Direction,
        *,
        fallback_manager: str | None = None,
        existing: Sequence[Record] = (),
        project_managers: set[str] | None = None,
    ) -> tuple[list[tuple[Record, Record]], list[PlannedFailure]]:
        """Pair each record with its copy for the target; refuse what the target would refuse."""
        # Only records that point at others (projects) need the links read (10k rows a side).
        references = bool(records) and bool(records[0].reference_fields)
        customers, employees = self._reference_maps(direction) if references else ({}, {})
        facts = TargetFacts(
            existing=existing,
            customers=customers,
            employees=employees,
            fallback_manager=fallback_manager,
            project_managers=frozenset(project_managers) if project_managers is not None else None,
        )
        return prepare_creates(records, direction, facts)

    def _reference_maps(self, direction: Direction) -> tuple[dict[str, str], dict[str, str]]:
        """(customers, employees): source id → target id, through the stored links."""
        customers = self.links(Entity.CUSTOMER)
        employees = self.links(Entity.EMPLOYEE)
        if direction is Direction.SVENN_TO_TRIPLETEX:
            customers = {s: t for t, s in customers.items()}
            employees = {s: t for t, s in employees.items()}
        return customers, employees


def _new_link(
    entity: Entity, tripletex: Record, svenn: Record, key: str, *, matched: bool = False
) -> NewLink:
    """A link as stored. A created pair, or two records a match linked that already agree, is
    stored as agreed (both fingerprints; Tripletex's fields as the base). Two matched records
    that differ are stored *not yet agreed* (no fingerprints, an empty base): whoever linked
    them aligns them next by the link rules (:func:`tasks.reconcile.align_linked`, the realtime
    tick), and until then every reader takes both sides as changed, so the difference is never
    mistaken for agreement."""
    sv_fields, tx_fields = svenn.synced_fields(), tripletex.synced_fields()
    together = not matched or agreed(entity, sv_fields, tx_fields)
    return NewLink(
        entity=entity.value,
        svenn_id=str(svenn.id),
        tripletex_id=str(tripletex.id),
        svenn_fingerprint=fingerprint_of(sv_fields) if together else None,
        tripletex_fingerprint=fingerprint_of(tx_fields) if together else None,
        base_snapshot=tx_fields if together else {},
        match_key=key,
    )
