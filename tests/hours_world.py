"""A model of both sides for the hours-export tests: Svenn rows, Tripletex as a dict, and the
real ledger code on an in-memory database.

:class:`FakePort` implements :class:`sync.hours_apply.TimesheetPort` over dictionaries and can
"die" at a chosen step (before or after a write reaches Tripletex), like a kill -9, so the
property test can check that a rerun adopts instead of posting twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from store.hours_ledger import begin_writes, load_window, settle_outcomes
from store.models import Base
from sync.entities import HourEntry
from sync.hours import (
    Content,
    EntryKey,
    ExportPlan,
    LedgerRow,
    Links,
    ProjectActivities,
    TripletexEntry,
    WrittenEntry,
    place_hours,
    plan_export,
)
from sync.hours_apply import ExportCounts, Intent, Outcome, Refusal, execute
from sync.rules import ReasonCode

LINKS = Links(
    employees={"e1": "101", "e2": "102"},
    projects={"p1": "201", "p2": "202"},
    task_names={"t-normal": "Normaltid", "t-travel": "Reise", "t-odd": "Sveising"},
    activities={
        "201": ProjectActivities("201", (("301", "Normaltid", True), ("302", "Reise", True))),
        "202": ProjectActivities("202", (("301", "Normaltid", True),)),
    },
)


class Killed(Exception):
    """The process died here (kill -9): nothing after this point happened."""


@dataclass
class Tripletex:
    """Tripletex's timesheet as a dict, with its uniqueness, versions and locked months."""

    entries: dict[str, TripletexEntry] = field(default_factory=dict)
    locked_months: set[str] = field(default_factory=set)
    next_id: int = 1000
    writes: int = 0

    def month_locked(self, day: dt.date) -> bool:
        return day.strftime("%Y-%m") in self.locked_months

    def lock(self, month: str, locked: bool) -> None:
        (self.locked_months.add if locked else self.locked_months.discard)(month)
        for ident, entry in list(self.entries.items()):
            now = self.month_locked(entry.key.date)
            if now != entry.locked:
                self.entries[ident] = TripletexEntry(
                    entry.id, entry.version + 1, entry.key, entry.content, now
                )

    def at(self, key: EntryKey) -> TripletexEntry | None:
        return next((e for e in self.entries.values() if e.key == key), None)

    def refuse(self, key: EntryKey) -> Refusal | None:
        if self.month_locked(key.date):
            month = key.date.strftime("%Y-%m")
            return Refusal(ReasonCode.HOURS_LOCKED, f"Timelisten for {month} er låst.", month)
        return None

    def create(self, key: EntryKey, content: Content) -> TripletexEntry | Refusal:
        refused = self.refuse(key)
        if refused is None and self.at(key) is not None:
            refused = Refusal(ReasonCode.TARGET_REJECTED, "Det er allerede registrert timer")
        if refused is None and content.hours > 24:
            refused = Refusal(ReasonCode.TARGET_REJECTED, "Antall timer må være mellom 0 og 24.")
        if refused is not None:
            return refused
        self.next_id += 1
        entry = TripletexEntry(str(self.next_id), 0, key, content)
        self.entries[entry.id] = entry
        self.writes += 1
        return entry

    def update(self, entry: TripletexEntry, content: Content) -> TripletexEntry | Refusal:
        current = self.entries.get(entry.id)
        if current is None or current.version != entry.version:
            return Refusal(ReasonCode.TARGET_REJECTED, "stale version")
        refused = self.refuse(entry.key)
        if refused is None and content.hours > 24:
            refused = Refusal(ReasonCode.TARGET_REJECTED, "Antall timer må være mellom 0 og 24.")
        if refused is not None:
            return refused
        new = TripletexEntry(entry.id, entry.version + 1, entry.key, content)
        self.entries[entry.id] = new
        self.writes += 1
        return new

    def delete(self, entry: TripletexEntry) -> Refusal | None:
        current = self.entries.get(entry.id)
        if current is None or current.version != entry.version:
            return Refusal(ReasonCode.TARGET_REJECTED, "stale version")
        refused = self.refuse(entry.key)
        if refused is None:
            del self.entries[entry.id]
            self.writes += 1
        return refused

    def hand_edit(self, entry_id: str, hours: Decimal) -> None:
        entry = self.entries[entry_id]
        if not entry.locked:
            content = Content.of(hours, entry.content.comment)
            self.entries[entry_id] = TripletexEntry(entry.id, entry.version + 1, entry.key, content)


class Store:
    """The real ledger code (store.hours_ledger) on an in-memory SQLite database."""

    TENANT = "t-model"

    def __init__(self) -> None:
        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine)
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def begin(self, intents: Sequence[Intent]) -> None:
        with self.sessions.begin() as session:
            begin_writes(session, self.TENANT, intents)

    def settle(self, outcomes: Sequence[Outcome]) -> None:
        with self.sessions.begin() as session:
            settle_outcomes(session, self.TENANT, outcomes)

    def window(self) -> tuple[list[LedgerRow], list[WrittenEntry]]:
        with self.sessions() as session:
            return load_window(session, self.TENANT, dt.date.min, dt.date.max)

    @property
    def ledger(self) -> dict[str, LedgerRow]:
        return {r.svenn_hour_id: r for r in self.window()[0]}

    @property
    def written(self) -> dict[EntryKey, WrittenEntry]:
        return {w.key: w for w in self.window()[1]}


@dataclass
class FakePort:
    """The port over the two dicts; ``die_at`` = the step number at which the run is killed."""

    tripletex: Tripletex
    store: Store
    die_at: int | None = None
    steps: int = 0

    def step(self) -> None:
        self.steps += 1
        if self.die_at is not None and self.steps >= self.die_at:
            raise Killed(self.steps)

    async def begin(self, intents: Sequence[Intent]) -> None:
        self.step()
        self.store.begin(intents)

    async def create(self, items: Sequence[tuple[EntryKey, Content]]) -> list[Any]:
        self.step()
        results = [self.tripletex.create(key, content) for key, content in items]
        self.step()  # the answer is lost if we die now: the write happened
        return results

    async def update(self, items: Sequence[tuple[TripletexEntry, Content]]) -> list[Any]:
        self.step()
        results = [self.tripletex.update(entry, content) for entry, content in items]
        self.step()
        return results

    async def delete(self, items: Sequence[TripletexEntry]) -> list[Refusal | None]:
        self.step()
        results = [self.tripletex.delete(entry) for entry in items]
        self.step()
        return results

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        self.step()
        self.store.settle(outcomes)


def plan_for(svenn: dict[str, HourEntry], tripletex: Tripletex, store: Store) -> ExportPlan:
    """Plan one export over everything (the window is all time in the model)."""
    placed, held = place_hours(svenn.values(), LINKS)
    ledger, written = store.window()
    return plan_export(
        placed,
        ledger,
        written,
        list(tripletex.entries.values()),
        held=held,
    )


async def run_export(
    svenn: dict[str, HourEntry],
    tripletex: Tripletex,
    store: Store,
    *,
    die_at: int | None = None,
    batch_size: int = 3,
) -> tuple[ExportPlan, ExportCounts | None]:
    """One export run; returns the plan and counts (``None`` counts when it was killed)."""
    plan = plan_for(svenn, tripletex, store)
    port = FakePort(tripletex, store, die_at)
    try:
        return plan, await execute(plan, port, batch_size=batch_size)
    except Killed:
        return plan, None
