"""Hours export, pure part: which Svenn hours go to Tripletex, summed into which entries.

Tripletex holds one timesheet entry per employee/date/project/activity (:class:`EntryKey`), so
every approved Svenn hour row is *placed* on a key and the rows on one key are summed into one
entry (comments joined). :func:`place_hours` applies Svenn's rules (approved, non-zero, with a
project, employee and project synced, an activity to put it on); :func:`plan_export` compares
the placements with what the ledger says we wrote and what Tripletex holds now, and decides per
key: create, update, delete, adopt an entry a crashed run already wrote, or hold back with a
reason. No I/O here: the caller reads both sides and the store, and applies the plan
(:mod:`sync.hours_apply`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, NamedTuple

from sync.entities import HourEntry
from sync.rules import ReasonCode

CENT = Decimal("0.01")
COMMENT_SEPARATOR = "; "


class EntryKey(NamedTuple):
    """What Tripletex keeps one entry per: Tripletex ids of employee, project and activity."""

    employee_id: str
    date: dt.date
    project_id: str
    activity_id: str

    def label(self) -> str:
        """Short readable form for logs and failure payloads."""
        return f"{self.employee_id}/{self.date.isoformat()}/{self.project_id}/{self.activity_id}"


class Content(NamedTuple):
    """The part of an entry we write: hours and comment (normalised for comparison)."""

    hours: Decimal
    comment: str | None

    @classmethod
    def of(cls, hours: Decimal | float | int | str, comment: str | None) -> Content:
        """Hours rounded to the cent, blank comments as ``None`` (Tripletex nulls ``""``)."""
        text = (comment or "").strip() or None
        return cls(Decimal(str(hours)).quantize(CENT), text)


ANY_ENTRY = "*"  # in ``unread_entries``: an entry whose id could not be read


@dataclass(frozen=True)
class TripletexEntry:
    """A timesheet entry as Tripletex holds it now."""

    id: str
    version: int
    key: EntryKey
    content: Content
    locked: bool = False


@dataclass(frozen=True)
class WrittenEntry:
    """What the store says we wrote on a key, and a write we may have started (crash-safe).

    ``entry_id`` is ``None`` until a create is confirmed. ``pending`` is the content of a write
    that was sent but not confirmed (``None`` after a delete was sent: ``pending_delete``).
    """

    key: EntryKey
    entry_id: str | None
    content: Content | None
    version: int | None = None
    pending: Content | None = None
    pending_delete: bool = False

    @property
    def has_pending(self) -> bool:
        """Whether a write was started and not confirmed."""
        return self.pending is not None or self.pending_delete


@dataclass(frozen=True)
class LedgerRow:
    """Which entry one exported Svenn hour row is part of, and what it was when sent."""

    svenn_hour_id: str
    key: EntryKey
    hours: Decimal
    fingerprint: str
    comment: str | None = None


@dataclass(frozen=True)
class Placement:
    """An eligible Svenn hour row and the entry it belongs on."""

    svenn_hour_id: str
    key: EntryKey
    hours: Decimal
    comment: str | None
    fingerprint: str
    svenn_employee_id: str


@dataclass(frozen=True)
class HeldHour:
    """A Svenn hour row that is not (or no longer) where it should be in Tripletex, and why.

    ``svenn_hour_id`` is ``None`` when no Svenn row is known for the entry (an entry a killed
    run wrote whose hours were then withdrawn): the failure is then keyed on ``entry_id``.
    """

    svenn_hour_id: str | None
    reason: ReasonCode
    date: dt.date
    context: Mapping[str, str] = field(default_factory=dict)
    key: EntryKey | None = None
    entry_id: str | None = None


@dataclass(frozen=True)
class ProjectActivities:
    """The activities Tripletex allows hours on for one project: (id, name, is general)."""

    project_id: str
    allowed: tuple[tuple[str, str, bool], ...]
    # The MALFORMED_RECORD message's placeholders when an activity of the project could not be
    # read: hours whose task is not one of the readable activities are then held, not put on
    # another activity by mistake.
    unreadable: Mapping[str, str] | None = None


def _norm(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def choose_activity(
    task_name: str | None, allowed: ProjectActivities, standard: str | None = None
) -> str | None:
    """Tripletex activity for a Svenn task on a project: same name, else the standard one.

    The standard activity is the configured name when the project allows it, otherwise the
    first general project activity Tripletex allows (lowest id). ``None``: nothing allowed.
    """
    by_name = {_norm(name): ident for ident, name, _ in allowed.allowed}
    if task_name and _norm(task_name) in by_name:
        return by_name[_norm(task_name)]
    if standard and _norm(standard) in by_name:
        return by_name[_norm(standard)]
    general = sorted((int(i), i) for i, _, is_general in allowed.allowed if is_general)
    return general[0][1] if general else None


def hour_fingerprint(key: EntryKey, hours: Decimal, comment: str | None) -> str:
    """Stable hash of what a row contributes to an entry (a change means: write again)."""
    text = f"{key.label()}|{Decimal(hours).quantize(CENT)}|{(comment or '').strip()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Links:
    """What the export needs to translate Svenn ids to Tripletex ids."""

    employees: Mapping[str, str]  # svenn employee id → tripletex id
    projects: Mapping[str, str]  # svenn project id → tripletex id
    task_names: Mapping[str, str]  # svenn activity (task) id → name
    activities: Mapping[str, ProjectActivities]  # tripletex project id → allowed activities
    standard_activity: str | None = None
    # Svenn activities (tasks) that could not be read → the MALFORMED_RECORD message's
    # placeholders: hours on them are held, never put on the standard activity by mistake.
    unreadable_tasks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def place_hours(hours: Iterable[HourEntry], links: Links) -> tuple[list[Placement], list[HeldHour]]:
    """Apply Svenn's export rules: approved, non-zero, project, both synced, an activity.

    Hours that are not approved are neither placed nor held (they are simply not ready).
    """
    placed: list[Placement] = []
    held: list[HeldHour] = []
    for hour in hours:
        if hour.status != "approved" or hour.id is None:
            continue
        reason, context = _hold_reason(hour, links)
        if reason is not None:
            held.append(HeldHour(hour.id, reason, hour.date, context))
            continue
        unread = links.unreadable_tasks.get(hour.activity_id or "")
        if unread is not None:
            held.append(HeldHour(hour.id, ReasonCode.MALFORMED_RECORD, hour.date, unread))
            continue
        project = links.projects[str(hour.project_id)]
        allowed = links.activities.get(project, ProjectActivities(project, ()))
        task = links.task_names.get(hour.activity_id or "")
        named = {_norm(name) for _, name, _ in allowed.allowed}
        if allowed.unreadable is not None and (not task or _norm(task) not in named):
            held.append(
                HeldHour(hour.id, ReasonCode.MALFORMED_RECORD, hour.date, allowed.unreadable)
            )
            continue
        activity = choose_activity(task, allowed, links.standard_activity)
        if activity is None:
            held.append(
                HeldHour(hour.id, ReasonCode.HOURS_NO_ACTIVITY, hour.date, {"task": task or "–"})
            )
            continue
        key = EntryKey(links.employees[hour.employee_id], hour.date, project, activity)
        placed.append(
            Placement(
                hour.id,
                key,
                hour.hours,
                hour.comment,
                hour_fingerprint(key, hour.hours, hour.comment),
                hour.employee_id,
            )
        )
    return placed, held


def _hold_reason(hour: HourEntry, links: Links) -> tuple[ReasonCode | None, dict[str, str]]:
    if hour.hours == 0:
        return ReasonCode.HOURS_ZERO, {}
    if hour.project_id is None:
        return ReasonCode.HOURS_NO_PROJECT, {}
    if hour.employee_id not in links.employees:
        return ReasonCode.HOURS_EMPLOYEE_NOT_LINKED, {}
    if hour.project_id not in links.projects:
        return ReasonCode.HOURS_PROJECT_NOT_LINKED, {}
    return None, {}


def entry_content(rows: Sequence[Placement]) -> Content:
    """The entry a key's rows add up to: hours summed, distinct comments joined in row order."""
    ordered = sorted(rows, key=lambda r: r.svenn_hour_id)
    comments: list[str] = []
    for row in ordered:
        text = (row.comment or "").strip()
        if text and text not in comments:
            comments.append(text)
    total = sum((Decimal(r.hours) for r in ordered), Decimal(0))
    return Content.of(total, COMMENT_SEPARATOR.join(comments) or None)


# --- the plan ------------------------------------------------------------------------------

Action = Literal["create", "update", "delete", "adopt", "keep", "forget", "hold"]


@dataclass(frozen=True)
class KeyPlan:
    """What to do on one key; ``rows`` are the Svenn rows that belong there afterwards."""

    key: EntryKey
    action: Action
    rows: tuple[Placement, ...] = ()
    content: Content | None = None  # the content to write (create/update)
    entry: TripletexEntry | None = None  # the entry Tripletex holds now (update/delete/adopt/keep)
    left: tuple[str, ...] = ()  # svenn ids whose ledger row points here but that left
    changed: tuple[str, ...] = ()  # svenn ids that differ from what the ledger says
    hand_change: str | None = None  # what someone changed by hand since we wrote it
    hold: ReasonCode | None = None
    hold_context: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ExportPlan:
    """Per-key decisions for one window plus the rows held back before any key was chosen."""

    keys: list[KeyPlan] = field(default_factory=list)
    held: list[HeldHour] = field(default_factory=list)

    def by_action(self, action: Action) -> list[KeyPlan]:
        """The key plans with one action."""
        return [k for k in self.keys if k.action == action]

    def writes(self) -> int:
        """How many entries this plan writes (creates + updates + deletes)."""
        return sum(k.action in ("create", "update", "delete") for k in self.keys)


def plan_export(
    placed: Sequence[Placement],
    ledger: Sequence[LedgerRow],
    written: Sequence[WrittenEntry],
    tripletex: Sequence[TripletexEntry],
    *,
    held: Sequence[HeldHour] = (),
    unread_hours: Collection[str] | None = (),
    unread_entries: Mapping[str, Mapping[str, str]] | None = None,
) -> ExportPlan:
    """Decide per key what to write so Tripletex holds the sum of the rows placed there.

    ``ledger``/``written`` are the store's rows for the window, ``tripletex`` the entries read
    for it. A row whose current entry is locked stays where it is (held ``HOURS_LOCKED``) so an
    hour is never in two entries at once; a row cannot move onto a locked entry either.

    Records that could not be read change nothing: a Svenn hour in ``unread_hours`` (``None``:
    one whose id could not be read, so any of them) that was sent stays where it is; a key whose
    entry is in ``unread_entries`` (entry id → what is wrong, for the message; :data:`ANY_ENTRY`
    when an entry's id could not be read) is held (``MALFORMED_RECORD``) instead of being
    written as if the entry were gone.
    """
    theirs = {e.key: e for e in tripletex}
    ours = {w.key: w for w in written}
    plan = ExportPlan(held=list(held))
    rows_at, stuck = _rows_by_key(placed, ledger, theirs, unread_hours, plan.held)
    ledger_by_id = {r.svenn_hour_id: r for r in ledger}
    ledger_at: dict[EntryKey, list[LedgerRow]] = {}
    for sent in ledger:
        ledger_at.setdefault(sent.key, []).append(sent)
    for key in sorted(set(rows_at) | set(ledger_at) | set(ours)):
        rows = tuple(rows_at.get(key, ()))
        row_ids = {r.svenn_hour_id for r in rows}
        left = tuple(
            r.svenn_hour_id
            for r in ledger_at.get(key, ())
            if r.svenn_hour_id not in row_ids and r.svenn_hour_id not in stuck
        )
        changed = tuple(
            r.svenn_hour_id
            for r in rows
            if r.svenn_hour_id not in stuck
            and (
                r.svenn_hour_id not in ledger_by_id
                or ledger_by_id[r.svenn_hour_id].fingerprint != r.fingerprint
            )
        )
        decision = _decide_or_hold_unread(key, rows, ours.get(key), theirs.get(key), unread_entries)
        plan.keys.append(replace(decision, rows=rows, left=left, changed=changed))
        if decision.hold is not None:
            entry_id = decision.entry.id if decision.entry is not None else None
            blamed: tuple[str | None, ...] = changed + left or tuple(sorted(row_ids)) or (None,)
            for culprit in blamed:
                plan.held.append(
                    HeldHour(culprit, decision.hold, key.date, decision.hold_context, key, entry_id)
                )
    return plan


def _rows_by_key(
    placed: Sequence[Placement],
    ledger: Sequence[LedgerRow],
    theirs: Mapping[EntryKey, TripletexEntry],
    unread_hours: Collection[str] | None,
    held: list[HeldHour],
) -> tuple[dict[EntryKey, list[Placement]], set[str]]:
    """(the rows that belong on each key, the Svenn ids that stay where they were sent).

    A row that would move off or onto a locked entry stays (held ``HOURS_LOCKED``, appended to
    ``held``); a sent row that cannot be read now is not taken for withdrawn."""
    ledger_by_id = {r.svenn_hour_id: r for r in ledger}
    wanted = {p.svenn_hour_id: p for p in placed}
    rows_at: dict[EntryKey, list[Placement]] = {}
    stuck: set[str] = set()
    for hour_id in sorted(set(wanted) | set(ledger_by_id)):
        now, want = ledger_by_id.get(hour_id), wanted.get(hour_id)
        blocked = _locked_move(now.key if now else None, want.key if want else None, theirs)
        if blocked is not None:
            day = want.key.date if want else blocked.date
            held.append(HeldHour(hour_id, ReasonCode.HOURS_LOCKED, day, _month(blocked), blocked))
        unreadable = want is None and (unread_hours is None or hour_id in unread_hours)
        if now is not None and (blocked is not None or unreadable):
            stuck.add(hour_id)  # it stays counted where it was sent
            rows_at.setdefault(now.key, []).append(_as_placement(now))
        elif blocked is None and want is not None:
            rows_at.setdefault(want.key, []).append(want)
        elif blocked is not None:
            stuck.add(hour_id)
    return rows_at, stuck


def _locked_move(
    old: EntryKey | None, new: EntryKey | None, theirs: Mapping[EntryKey, TripletexEntry]
) -> EntryKey | None:
    """The locked key a row would move off or onto (``None`` when it may move, or stays)."""
    if old == new:
        return None
    for key in (old, new):
        if key is not None and key in theirs and theirs[key].locked:
            return key
    return None


def _decide_or_hold_unread(
    key: EntryKey,
    rows: Sequence[Placement],
    ours: WrittenEntry | None,
    theirs: TripletexEntry | None,
    unread_entries: Mapping[str, Mapping[str, str]] | None,
) -> KeyPlan:
    """:func:`_decide`, except that a key whose entry could not be read is held
    (``MALFORMED_RECORD``) instead of being written as if the entry were gone."""
    entry_id = ours.entry_id if ours is not None else None
    unread = (unread_entries or {}).get(str(entry_id)) or (unread_entries or {}).get(ANY_ENTRY)
    if unread is not None and entry_id is not None and theirs is None:
        return KeyPlan(key, "hold", hold=ReasonCode.MALFORMED_RECORD, hold_context=unread)
    return _decide(key, rows, ours, theirs)


def _as_placement(row: LedgerRow) -> Placement:
    # A stuck row counts with what it was when it was sent.
    return Placement(row.svenn_hour_id, row.key, row.hours, row.comment, row.fingerprint, "")


def _month(key: EntryKey) -> dict[str, str]:
    return {"period": key.date.strftime("%Y-%m")}


def _decide(
    key: EntryKey,
    rows: Sequence[Placement],
    ours: WrittenEntry | None,
    theirs: TripletexEntry | None,
) -> KeyPlan:
    """One key's action (see :func:`plan_export`)."""
    desired = entry_content(rows) if rows else None
    if theirs is not None and theirs.locked:
        if desired is None and ours is None:
            return KeyPlan(key, "forget")
        if desired == theirs.content:
            confirmed = ours is not None and ours.entry_id is not None
            return KeyPlan(key, "keep" if confirmed else "adopt", entry=theirs)
        locked = ReasonCode.HOURS_LOCKED
        return KeyPlan(key, "hold", entry=theirs, hold=locked, hold_context=_month(key))
    if ours is None or ours.entry_id is None:
        # Never confirmed: an entry on the key is ours only if it holds what we meant to send.
        if theirs is None:
            return KeyPlan(key, "create", content=desired) if desired else KeyPlan(key, "forget")
        meant = ours.pending if ours is not None else None
        if meant is not None and theirs.content == meant:  # a killed run's write: ours
            settled = _settle(key, theirs, desired, hand_change=None)
            return replace(settled, action="adopt") if settled.action == "keep" else settled
        if desired is not None and theirs.content == desired:
            return KeyPlan(key, "adopt", entry=theirs)
        if desired is None and meant is None:
            return KeyPlan(key, "forget")  # someone else's entry, and none of our business
        # Someone else's entry where we have hours, or ours changed by hand before we knew it
        # was ours: leave it and say so (the intent stays, so this keeps being reported).
        exists = ReasonCode.HOURS_ENTRY_EXISTS
        return KeyPlan(key, "hold", entry=theirs, hold=exists, hold_context={"entry": theirs.id})
    if theirs is None:
        if ours.pending_delete or desired is None:
            return KeyPlan(key, "forget")
        return KeyPlan(key, "create", content=desired, hand_change="deleted in Tripletex")
    hand_change = None
    expected = {ours.content} | ({ours.pending} if ours.pending is not None else set())
    if theirs.content not in expected and not (ours.pending_delete and desired is None):
        hand_change = f"{_show(ours.content)} → {_show(theirs.content)}"
    return _settle(key, theirs, desired, hand_change)


def _settle(
    key: EntryKey, theirs: TripletexEntry, desired: Content | None, hand_change: str | None
) -> KeyPlan:
    """An entry that is ours: delete, update or keep it (Svenn wins over hand changes)."""
    if desired is None:
        return KeyPlan(key, "delete", entry=theirs, hand_change=hand_change)
    if desired != theirs.content:
        return KeyPlan(key, "update", entry=theirs, content=desired, hand_change=hand_change)
    return KeyPlan(key, "keep", entry=theirs, hand_change=hand_change)


def _show(content: Content | None) -> str:
    if content is None:
        return "nothing"
    return f"{content.hours} h" + (f" «{content.comment}»" if content.comment else "")


def window_of(dates: Iterable[dt.date]) -> tuple[dt.date, dt.date] | None:
    """The smallest inclusive date range covering ``dates`` (``None`` when there are none)."""
    days = sorted(set(dates))
    return (days[0], days[-1]) if days else None


def totals_per_employee(
    placed: Iterable[Placement], names: Mapping[str, str] | None = None
) -> dict[str, Decimal]:
    """Approved hours per Svenn employee in the window (the figure payroll checks)."""
    totals: dict[str, Decimal] = {}
    for row in placed:
        who = (names or {}).get(row.svenn_employee_id, row.svenn_employee_id)
        totals[who] = totals.get(who, Decimal(0)) + Decimal(row.hours)
    return dict(sorted(totals.items()))
