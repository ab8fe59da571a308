"""Carry out an export plan through a port, in the order that keeps it crash-safe.

For every batch: the intent is stored first (what we are about to write, on which key), then
the write goes to Tripletex, then its outcome is stored with the ledger rows it covers. A run
killed anywhere leaves either no write (the intent is dropped on the next plan, since the key
holds nothing of it) or a write whose intent names it (the next plan adopts it by key, never
posting twice). Removals go before additions, so a moved hour is never in two entries at once.

The port is the only thing that does I/O: :mod:`tasks.hours_export` implements it with the
Tripletex client and the state store; the property tests implement it with dictionaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync.hours import Action, Content, EntryKey, ExportPlan, KeyPlan, TripletexEntry
from sync.rules import ReasonCode

WRITE_ORDER: tuple[Action, ...] = ("delete", "update", "create")


@dataclass(frozen=True)
class Refusal:
    """Tripletex refused one item for good (a 4xx): the reason and its own words."""

    reason: ReasonCode
    detail: str
    period: str | None = None
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class Intent:
    """A write about to be sent: ``content`` for a create/update, ``None`` for a delete."""

    key: EntryKey
    entry_id: str | None
    content: Content | None


@dataclass(frozen=True)
class Outcome:
    """How one key's plan ended: the entry Tripletex now holds (or none), or a refusal."""

    plan: KeyPlan
    entry: TripletexEntry | None
    refusal: Refusal | None = None


class TimesheetPort(Protocol):
    """Where the export writes: Tripletex's timesheet and our store."""

    async def begin(self, intents: Sequence[Intent]) -> None:
        """Store the intents (committed before the write is sent)."""

    async def create(self, items: Sequence[tuple[EntryKey, Content]]) -> list[Any]:
        """Create entries; per item a :class:`TripletexEntry` or a :class:`Refusal`."""

    async def update(self, items: Sequence[tuple[TripletexEntry, Content]]) -> list[Any]:
        """Update entries (with their versions); per item an entry or a refusal."""

    async def delete(self, items: Sequence[TripletexEntry]) -> list[Refusal | None]:
        """Delete entries (with their versions); per item ``None`` or a refusal."""

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        """Store outcomes: written entries, ledger rows, intents cleared (one transaction)."""


@dataclass
class ExportCounts:
    """What one run did, for the artifact and the logs."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    adopted: int = 0
    refused: int = 0
    hours_sent: int = 0
    hours_removed: int = 0
    refusals: list[Outcome] = field(default_factory=list)


async def execute(plan: ExportPlan, port: TimesheetPort, *, batch_size: int) -> ExportCounts:
    """Apply ``plan``: settle what needs no write, then deletes, updates and creates."""
    counts = ExportCounts()
    quiet = [k for k in plan.keys if k.action in ("adopt", "keep", "forget", "hold")]
    if quiet:
        await port.settle([Outcome(k, k.entry if k.action != "forget" else None) for k in quiet])
        adopted = [k for k in quiet if k.action == "adopt"]
        counts.adopted += len(adopted)
        counts.hours_sent += sum(len(k.changed) for k in adopted)
    for action in WRITE_ORDER:
        todo = plan.by_action(action)
        for start in range(0, len(todo), max(1, batch_size)):
            chunk = todo[start : start + batch_size]
            await port.begin([_intent(k) for k in chunk])
            results = await _send(port, action, chunk)
            outcomes = [_outcome(k, r) for k, r in zip(chunk, results, strict=True)]
            await port.settle(outcomes)
            _count(counts, outcomes)
    return counts


def _intent(plan: KeyPlan) -> Intent:
    entry_id = plan.entry.id if plan.entry is not None else None
    return Intent(plan.key, entry_id, plan.content if plan.action != "delete" else None)


async def _send(port: TimesheetPort, action: str, chunk: Sequence[KeyPlan]) -> list[Any]:
    if action == "delete":
        return list(await port.delete([_entry(k) for k in chunk]))
    if action == "update":
        return await port.update([(_entry(k), _content(k)) for k in chunk])
    return await port.create([(k.key, _content(k)) for k in chunk])


def _entry(plan: KeyPlan) -> TripletexEntry:
    assert plan.entry is not None, f"{plan.action} needs the entry Tripletex holds"
    return plan.entry


def _content(plan: KeyPlan) -> Content:
    assert plan.content is not None, f"{plan.action} needs the content to write"
    return plan.content


def _outcome(plan: KeyPlan, result: Any) -> Outcome:
    if isinstance(result, Refusal):
        return Outcome(plan, plan.entry, result)
    if plan.action == "delete":
        return Outcome(plan, None)
    return Outcome(plan, result)


def _count(counts: ExportCounts, outcomes: Sequence[Outcome]) -> None:
    for outcome in outcomes:
        plan = outcome.plan
        if outcome.refusal is not None:
            counts.refused += 1
            counts.refusals.append(outcome)
            continue
        if plan.action == "create":
            counts.created += 1
        elif plan.action == "update":
            counts.updated += 1
        else:
            counts.deleted += 1
        counts.hours_sent += len(plan.changed)
        counts.hours_removed += len(plan.left)
