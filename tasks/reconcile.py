"""Nightly reconciliation tasks: compare linked pairs, write the repairs, report the drift."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from connectors.errors import ApiError
from connectors.svenn.client import WRITE_CONCURRENCY, SvennClient
from connectors.together import together
from connectors.tripletex.client import TripletexClient
from store.failures import open_failure_columns
from store.links import NewLink, link_states, save_links
from store.state import StateStore
from sync.merge import MergeDecision
from sync.plan import PlannedFailure
from sync.realtime import conflict_row, with_fields
from sync.reconcile import DRIFT_TEXT, DriftKind, LinkedDrift, StoredLink, compare_linked
from sync.records import SYNC_ORDER, Direction, Entity, Record
from tasks.apply import Applier, rejection
from tasks.extract import Extracts, unwalked
from tasks.overlap import batches, overlapped
from tasks.report import MAX_TABLE_ROWS, artifact_key, markdown_table

_NOT_REPAIRED = ("reported", "failed")


@dataclass
class DriftReport:
    """What one tenant's reconciliation found and did, per entity."""

    tenant: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per drifted record

    def add(
        self,
        entity: Entity,
        kind: DriftKind,
        svenn_id: str | None,
        tripletex_id: str | None,
        repair: str,
        fields: Sequence[str] = (),
    ) -> None:
        """One drifted record, and what was done about it."""
        english, norwegian = DRIFT_TEXT[kind]
        self.rows.append(
            {
                "entity": entity.value,
                "drift": kind.value,
                "svenn_id": svenn_id or "",
                "tripletex_id": tripletex_id or "",
                "repair": repair,
                "fields": ", ".join(fields),
                "what": english,
                "hva": norwegian,
            }
        )

    def counts(self) -> list[dict[str, Any]]:
        """Per entity: records drifted, repaired, and how many of each kind found."""
        table = []
        for entity in SYNC_ORDER:
            rows = [r for r in self.rows if r["entity"] == entity.value]
            kinds = Counter(r["drift"] for r in rows)
            table.append(
                {
                    "entity": entity.value,
                    "drifted": len(rows),
                    "repaired": sum(1 for r in rows if r["repair"] not in _NOT_REPAIRED),
                    "kinds": ", ".join(f"{kind}: {n}" for kind, n in sorted(kinds.items())) or "-",
                }
            )
        return table

    @property
    def repaired(self) -> int:
        """Records whose drift was repaired (written, linked or created)."""
        return sum(1 for r in self.rows if r["repair"] not in _NOT_REPAIRED)

    def repaired_per_entity(self) -> Counter[str]:
        """How many pairs were repaired, per entity name."""
        return Counter(r["entity"] for r in self.rows if r["repair"] not in _NOT_REPAIRED)


def stored_pairs(
    store: StateStore, tenant: str, entity: Entity, *, unagreed_only: bool = False
) -> list[StoredLink]:
    """The tenant's links of one entity as the comparison reads them (only those a match
    stored while the two differed, with ``unagreed_only``)."""
    with store.sessions() as session:
        rows = link_states(session, tenant, entity.value, unagreed_only=unagreed_only)
    return [StoredLink(*row) for row in rows]


@task(name="compare-linked", cache_policy=NO_CACHE)
def compare_tenant(
    store: StateStore, tenant: str, extracts: Extracts, *, unagreed_only: bool = False
) -> list[LinkedDrift]:
    """Every linked pair of the tenant that drifted since the sides last agreed (only the pairs
    a match linked while they differed, with ``unagreed_only``)."""
    drifts: list[LinkedDrift] = []
    for entity in SYNC_ORDER:
        drifts += compare_linked(
            entity,
            stored_pairs(store, tenant, entity, unagreed_only=unagreed_only),
            {str(r.id): r for r in extracts.svenn[entity]},
            {str(r.id): r for r in extracts.tripletex[entity]},
        )
    return drifts


_KNOWN_BY = ("entity", "direction", "svenn_id", "tripletex_id", "reason_code")


@dataclass
class ReconcileApplier(Applier):
    """The initial sync's applier, but a failure already open is not logged again each night."""

    def fail(self, failures: Sequence[PlannedFailure]) -> None:
        """Log only failures that are not already open (a quiet night writes nothing)."""
        if not failures:
            return
        with self.store.sessions() as session:
            known = {tuple(row) for row in open_failure_columns(session, self.tenant, *_KNOWN_BY)}
        new = [
            f
            for f in failures
            if (f.entity.value, f.direction.value, f.svenn_id, f.tripletex_id, f.reason_code)
            not in known
        ]
        super().fail(new)


REPAIR_CHUNK = 200  # drifts per approval check and per transaction of links
_Written = Record | ApiError | None  # a side's record after its write, its refusal, or no write


@dataclass(frozen=True)
class _Repair:
    """A drifted pair with a decision and both records: something to write."""

    drift: LinkedDrift
    decision: MergeDecision
    svenn: Record
    tripletex: Record


async def repair_linked(
    applier: Applier,
    tripletex: TripletexClient,
    svenn: SvennClient,
    drifts: Sequence[LinkedDrift],
    report: DriftReport,
) -> None:
    """Write each merge to the side(s) that missed it; store the new agreed state on the link.

    A chunk of drifts at a time: the chunk's conflicts logged before anything is overwritten;
    the approval gate; Tripletex's updates in ``PUT <path>/list`` batches where it has them;
    then Svenn's (it has no batch update) a few side by side, for the pairs whose Tripletex
    write went through; the chunk's links and refusals in one transaction each, stored while
    the next chunk is written (:func:`tasks.overlap.overlapped`)."""
    repairs: list[_Repair] = []
    for drift in drifts:
        if drift.decision is None or drift.svenn is None or drift.tripletex is None:
            report.add(drift.entity, drift.kind, drift.svenn_id, drift.tripletex_id, "reported")
        else:
            repairs.append(_Repair(drift, drift.decision, drift.svenn, drift.tripletex))

    async def settle(chunk: Sequence[_Repair], written: list[tuple[_Written, _Written]]) -> None:
        _settle_chunk(applier, chunk, written, report)

    send = partial(_write_chunk, applier, tripletex, svenn)
    await overlapped(batches(repairs, REPAIR_CHUNK), send, settle)


async def _write_chunk(
    applier: Applier, tripletex: TripletexClient, svenn: SvennClient, chunk: Sequence[_Repair]
) -> list[tuple[_Written, _Written]]:
    """The chunk's conflicts logged, the gate, then its writes: (Tripletex, Svenn) per pair."""
    applier.fail(
        [
            conflict_row(
                r.decision.conflicts,
                r.svenn,
                r.tripletex,
                linked=r.drift.kind is DriftKind.LINKED_DIFFERENT,
            )
            for r in chunk
            if r.decision.conflicts
        ]
    )
    applier.check_gate()
    to_tripletex = await _write_tripletex(tripletex, chunk)
    to_svenn = await _write_svenn(svenn, chunk, to_tripletex)
    return list(zip(to_tripletex, to_svenn, strict=True))


def _settle_chunk(
    applier: Applier,
    chunk: Sequence[_Repair],
    written: Sequence[tuple[_Written, _Written]],
    report: DriftReport,
) -> None:
    """The chunk's links (the pairs' agreed state) and refusals, one transaction each."""
    links: list[NewLink] = []
    refused: list[PlannedFailure] = []
    for repair, (tx_out, sv_out) in zip(chunk, written, strict=True):
        drift = repair.drift
        tx_rec = tx_out if isinstance(tx_out, Record) else repair.tripletex
        sv_rec = sv_out if isinstance(sv_out, Record) else repair.svenn
        if isinstance(tx_out, ApiError):
            refused.append(rejection(sv_rec, Direction.SVENN_TO_TRIPLETEX, tx_out))
        elif isinstance(sv_out, ApiError):
            refused.append(rejection(tx_rec, Direction.TRIPLETEX_TO_SVENN, sv_out))
        else:
            links.append(
                NewLink(
                    entity=drift.entity.value,
                    svenn_id=drift.svenn_id,
                    tripletex_id=drift.tripletex_id,
                    svenn_fingerprint=sv_rec.fingerprint(),
                    tripletex_fingerprint=tx_rec.fingerprint(),
                    base_snapshot=dict(repair.decision.merged),
                    match_key="reconciled",
                )
            )
            done = _repair(repair.decision)
            report.add(
                drift.entity, drift.kind, drift.svenn_id, drift.tripletex_id, done, drift.fields
            )
            continue
        report.add(drift.entity, drift.kind, drift.svenn_id, drift.tripletex_id, "failed")
    applier.fail(refused)
    with applier.store.sessions.begin() as session:
        save_links(session, applier.tenant, links)


async def _write_tripletex(tripletex: TripletexClient, chunk: Sequence[_Repair]) -> list[_Written]:
    """Per repair, Tripletex's record after its update, its refusal, or None (nothing to
    write)."""
    outcomes: list[_Written] = [None] * len(chunk)
    by_entity: dict[Entity, list[int]] = {}
    for index, repair in enumerate(chunk):
        if repair.decision.to_tripletex:
            by_entity.setdefault(repair.drift.entity, []).append(index)
    for entity, indices in by_entity.items():
        records = [with_fields(chunk[i].tripletex, chunk[i].decision.to_tripletex) for i in indices]
        done: Sequence[Record | ApiError | None]
        if tripletex.has_update_many(entity) and len(records) > 1:
            done = await tripletex.update_each(entity, records, fatal=_never)
        else:
            done = await _side_by_side([partial(tripletex.update, r) for r in records])
        for index, outcome in zip(indices, done, strict=True):
            outcomes[index] = outcome
    return outcomes


async def _write_svenn(
    svenn: SvennClient,
    chunk: Sequence[_Repair],
    to_tripletex: Sequence[_Written],
) -> list[_Written]:
    """Per repair, Svenn's record after its update, its refusal, or None (nothing to write, or
    the pair's Tripletex write was refused)."""
    indices = [
        i
        for i, repair in enumerate(chunk)
        if repair.decision.to_svenn and not isinstance(to_tripletex[i], ApiError)
    ]
    calls = [
        partial(
            svenn.update,
            with_fields(chunk[i].svenn, chunk[i].decision.to_svenn),
            fields=list(chunk[i].decision.to_svenn),
        )
        for i in indices
    ]
    outcomes: list[_Written] = [None] * len(chunk)
    for index, outcome in zip(indices, await _side_by_side(calls), strict=True):
        outcomes[index] = outcome
    return outcomes


async def _side_by_side(
    calls: Sequence[Callable[[], Awaitable[Record]]],
) -> list[Record | ApiError]:
    """Each call's record or its refusal, at most :data:`WRITE_CONCURRENCY` at once, in order."""
    gate = asyncio.Semaphore(WRITE_CONCURRENCY)

    async def one(call: Callable[[], Awaitable[Record]]) -> Record | ApiError:
        async with gate:
            try:
                return await call()
            except ApiError as error:
                return error

    return list(await together(*(one(call) for call in calls)))


def _never(_error: ApiError) -> bool:
    return False  # every refusal becomes the pair's failed-record row, as one by one


async def align_linked(
    applier: Applier,
    tripletex: TripletexClient,
    svenn: SvennClient,
    extracts: Extracts,
    report: DriftReport,
) -> None:
    """Pairs this run linked while their two records differed: merged by the rules a person's
    link follows (a field one side lacks is copied; a difference keeps the precedence winner's
    value, and the lost value is a ``FIELD_CONFLICT`` row) and written, so that every linked
    pair agrees on every synced field from the start. Uses ``extracts`` as read before the run's
    writes: the pairs it aligns are ones no write of this run touched."""
    drifts = compare_tenant(applier.store, applier.tenant, unwalked(extracts), unagreed_only=True)
    await repair_linked(applier, tripletex, svenn, drifts, report)


def _repair(decision: MergeDecision) -> str:
    targets = [
        name
        for name, writes in (("Svenn", decision.to_svenn), ("Tripletex", decision.to_tripletex))
        if writes
    ]
    conflicts = len(decision.conflicts)
    text = "updated " + " and ".join(targets)
    return text + (f" ({conflicts} conflict(s), precedence rule applied)" if conflicts else "")


def report_unlinked(
    report: DriftReport,
    entity: Entity,
    links: Sequence[tuple[str, str]],
    created_in_svenn: Sequence[Record],
    created_in_tripletex: Sequence[Record],
    linked: Mapping[str, str],
) -> None:
    """Report what the plan linked again or created; ``linked`` maps Tripletex → Svenn ids."""
    to_tripletex = {svenn_id: tripletex_id for tripletex_id, svenn_id in linked.items()}
    for tripletex_id, svenn_id in links:
        report.add(entity, DriftKind.UNLINKED_PAIR, svenn_id, tripletex_id, "linked")
    for record in created_in_svenn:  # Tripletex-only records, now in Svenn too
        svenn_id = str(record.id)
        report.add(
            entity,
            DriftKind.ONLY_IN_TRIPLETEX,
            svenn_id,
            to_tripletex.get(svenn_id),
            "created in Svenn",
        )
    for record in created_in_tripletex:  # Svenn-only records, now in Tripletex too
        tripletex_id = str(record.id)
        report.add(
            entity,
            DriftKind.ONLY_IN_SVENN,
            linked.get(tripletex_id),
            tripletex_id,
            "created in Tripletex",
        )


async def publish_drift(report: DriftReport) -> None:
    """The drift report in the UI: a summary per entity and the drifted records."""
    tenant = report.tenant
    counts = report.counts()
    verdict = (
        "No drift: both systems agree with the links. Nothing was written."
        if not report.rows
        else f"{len(report.rows)} record(s) drifted; {report.repaired} repaired."
    )
    text = "\n\n".join(
        [
            f"# Nightly reconciliation of `{tenant}`",
            f"**{verdict}**",
            "## Drift per entity\n" + markdown_table(counts),
            "## What the kinds mean\n"
            + markdown_table(
                [
                    {"kind": f"`{kind.value}`", "English": english, "norsk": norwegian}
                    for kind, (english, norwegian) in DRIFT_TEXT.items()
                ]
            ),
            f"Every drifted record and what was done: artifact `reconcile-drift-{tenant}`.",
        ]
    )
    await acreate_markdown_artifact(
        text, key=artifact_key("reconcile", tenant), description="Nightly reconciliation"
    )
    await acreate_table_artifact(
        report.rows[:MAX_TABLE_ROWS] or [{"entity": "-", "drift": "none"}],
        key=artifact_key("reconcile-drift", tenant),
        description=f"Drifted records ({len(report.rows)} in all)",
    )
