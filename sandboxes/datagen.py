"""Realistic, overlapping, messy Norwegian data for both sandboxes, tests and benchmarks.

``generate_world`` builds one set of real-world things (companies, people, jobs) and shows each
side its own copy: ``overlap`` of every entity exists on both sides, the rest on one side only.
With ``messy`` the Svenn copy is written the way people type (org numbers with spaces or
"NO … MVA", "A/S" for "AS", e-mail case, typos, missing fields), a few Svenn records are
duplicated (ambiguous on purpose) and a few records break the sync rules. ``truth`` says which
Tripletex id and Svenn id are the same thing; every unambiguous truth pair is findable by one of
the matching keys and no other pair is, so tests can hold the matcher to it exactly.

Deterministic for a given seed. Faker's Norwegian locale is ``no_NO`` (bokmål; Faker has no
``nb_NO``). Tripletex ids are strings of ints, unique across entities within a world so that
``ambiguous`` can hold ids of every entity; Svenn ids look like ``cus_00001``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sandboxes.datagen_entities import add_customers, add_employees, add_projects
from sandboxes.world_builder import (
    ACTIVITIES,
    CITIES,
    DAY,
    HOUR_STATUSES,
    PREFIXES,
    SUFFIXES,
    TRADES,
    Dataset,
    Role,
    World,
    WorldBuilder,
    WorldSize,
)
from sync.entities import Employee, HourEntry, Project
from sync.records import Activity

__all__ = [
    "CITIES",
    "PREFIXES",
    "PRESETS",
    "SUFFIXES",
    "TRADES",
    "Dataset",
    "Role",
    "World",
    "WorldSize",
    "generate_world",
    "world_size",
]

PRESETS: dict[str, WorldSize] = {
    "small": WorldSize(customers=40, projects=15, employees=12, hours_per_employee=10),
    "demo": WorldSize(customers=300, projects=80, employees=40, hours_per_employee=20),
    "bench": WorldSize(customers=10_000, projects=2_000, employees=500, hours_per_employee=20),
}


def world_size(size: str | int | WorldSize) -> WorldSize:
    """Resolve a preset name, a customer count (others proportional) or an explicit size."""
    if isinstance(size, WorldSize):
        return size
    if isinstance(size, str) and size.strip().isdigit():
        size = int(size)
    if isinstance(size, str):
        if size not in PRESETS:
            raise ValueError(f"world size {size!r}: one of {', '.join(PRESETS)}, or a number")
        return PRESETS[size]
    return WorldSize(
        customers=size,
        projects=max(2, round(size * 0.25)),
        employees=max(2, round(size * 0.1)),
        hours_per_employee=10,
    )


def generate_world(
    size: str | int | WorldSize = "small",
    *,
    seed: int = 0,
    overlap: float = 0.5,
    messy: bool = True,
    shape_share: float | None = None,
) -> World:
    """Generate both sides' data and the truth map, deterministically for ``seed``.

    ``shape_share``: the share of things in each real-world shape of a messy world
    (:mod:`sandboxes.datagen_shapes`; a few of each by default)."""
    if not 0.0 <= overlap <= 1.0:
        raise ValueError("overlap must be between 0 and 1")
    builder = WorldBuilder(world_size(size), seed, overlap, messy)
    if shape_share is not None:
        builder.shape_share = shape_share
    add_employees(builder)
    add_customers(builder)
    add_projects(builder)
    add_activities(builder)
    add_hours(builder)
    return builder.world()


def add_activities(b: WorldBuilder) -> None:
    for number, (name, on_project) in enumerate(ACTIVITIES, start=1):
        for data, ident in ((b.tripletex, b.tripletex_id()), (b.svenn, None)):
            data.activities.append(
                Activity(
                    id=ident or b.svenn_id("act"),
                    name=name,
                    number=str(number),
                    is_project_activity=on_project,
                )
            )


def add_hours(b: WorldBuilder) -> None:
    employees = [e for e in b.svenn.employees if e.is_active]
    projects = [p for p in b.svenn.projects if p.start_date and not p.is_closed]
    if not projects:
        projects = list(b.svenn.projects)
    if not employees or not projects:
        return
    project_acts = [a for a in b.svenn.activities if a.is_project_activity]
    other_acts = [a for a in b.svenn.activities if not a.is_project_activity]
    workdays = [d for d in _days(dt.date(2025, 9, 1), dt.date(2025, 11, 28)) if d.weekday() < 5]
    approvers = [e.id for e in employees[: max(1, len(employees) // 10)]]
    seen: set[tuple[object, ...]] = set()
    for employee in employees:
        for _ in range(b.size.hours_per_employee):
            entry = _hour_entry(b, employee, projects, project_acts, other_acts, workdays)
            key = (entry.employee_id, entry.date, entry.project_id, entry.activity_id)
            if key in seen:
                continue
            seen.add(key)
            if entry.status == "approved":
                approved = dt.datetime.combine(entry.date + 2 * DAY, dt.time(15), dt.UTC)
                entry = entry.model_copy(
                    update={"approved_by": b.rng.choice(approvers), "approved_at": approved}
                )
            b.svenn.hours.append(entry.model_copy(update={"id": b.svenn_id("hrs")}))


def _hour_entry(
    b: WorldBuilder,
    employee: Employee,
    projects: list[Project],
    project_acts: list[Activity],
    other_acts: list[Activity],
    workdays: list[dt.date],
) -> HourEntry:
    no_project = b.mess(0.03)
    activity = b.rng.choice(other_acts if no_project and other_acts else project_acts)
    hours = Decimal(b.rng.choice(("7.5", "7.5", "7.5", "8", "4", "2.5", "1.5", "3", "10")))
    if b.mess(0.02):
        hours = Decimal(0)
    assert employee.id is not None
    return HourEntry(
        employee_id=employee.id,
        project_id=None if no_project else b.rng.choice(projects).id,
        activity_id=activity.id,
        date=b.rng.choice(workdays),
        hours=hours,
        comment=b.rng.choice((None, None, "Montering", "Befaring", "Rigging", "Opprydding")),
        status=b.weighted(HOUR_STATUSES),  # type: ignore[arg-type]
    )


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + i * DAY for i in range((end - start).days + 1)]
