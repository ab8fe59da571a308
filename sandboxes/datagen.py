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
import itertools
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeVar

from faker import Faker

from sync import normalize
from sync.records import (
    Activity,
    Address,
    Customer,
    Employee,
    Entity,
    HourEntry,
    HourStatus,
    Project,
)


@dataclass(frozen=True)
class WorldSize:
    """How many records of each kind each side gets (before Svenn duplicates)."""

    customers: int
    projects: int
    employees: int
    hours_per_employee: int = 10


PRESETS: dict[str, WorldSize] = {
    "small": WorldSize(customers=40, projects=15, employees=12, hours_per_employee=10),
    "demo": WorldSize(customers=300, projects=80, employees=40, hours_per_employee=20),
    "bench": WorldSize(customers=10_000, projects=2_000, employees=500, hours_per_employee=20),
}


@dataclass
class Dataset:
    """What one system holds."""

    employees: list[Employee] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    hours: list[HourEntry] = field(default_factory=list)


@dataclass
class World:
    """Both systems' data plus the answer key."""

    tripletex: Dataset
    svenn: Dataset
    # entity -> {tripletex_id: svenn_id} for pairs that are the same real-world thing.
    truth: dict[Entity, dict[str, str]]
    # ids (either side) generated to be ambiguous: a Tripletex record and its Svenn duplicates.
    ambiguous: set[str]
    # ground truth: "tripletex:<id>" / "svenn:<id>" -> the real-world thing it is a copy of
    # ("customer:17"); duplicates inside one system point at the same thing.
    origin: dict[str, str] = field(default_factory=dict)
    # shaped real-world things (see sandboxes.datagen_shapes): shape -> their origin keys
    shapes: dict[str, list[str]] = field(default_factory=dict)


def world_size(size: str | int | WorldSize) -> WorldSize:
    """Resolve a preset name, a customer count (others proportional) or an explicit size."""
    if isinstance(size, WorldSize):
        return size
    if isinstance(size, str):
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
    builder = _Builder(world_size(size), seed, overlap, messy)
    if shape_share is not None:
        builder.shape_share = shape_share
    return builder.build()


# --- vocabulary ---------------------------------------------------------------------------

CITIES: tuple[tuple[str, int], ...] = (
    ("Oslo", 150), ("Bergen", 5003), ("Trondheim", 7010), ("Stavanger", 4006),
    ("Tromsø", 9008), ("Kristiansand", 4610), ("Drammen", 3015), ("Fredrikstad", 1606),
    ("Ålesund", 6002), ("Bodø", 8006), ("Hamar", 2317), ("Lillehammer", 2609),
    ("Molde", 6413), ("Sandnes", 4306), ("Tønsberg", 3110), ("Skien", 3724),
    ("Haugesund", 5527), ("Gjøvik", 2815), ("Arendal", 4836), ("Larvik", 3256),
    ("Sarpsborg", 1706), ("Moss", 1530), ("Harstad", 9405), ("Kongsberg", 3611),
    ("Steinkjer", 7713), ("Førde", 6800), ("Lørenskog", 1470), ("Asker", 1383),
)  # fmt: skip
TRADES = (
    "Bygg", "Rør", "Elektro", "Maler", "Tak", "Betong", "Anlegg", "Snekkeri", "Eiendom",
    "Ventilasjon", "Murmester", "Entreprenør", "Graving", "Flis og Bad", "Rørleggerservice",
    "Varme og Sanitær", "Stillas", "Glass", "Tømrer", "Blikkenslager", "Isolasjon", "Montasje",
    "Byggservice", "Elektroinstallasjon", "Totalentreprise",
)  # fmt: skip
PREFIXES = ("Nordisk", "Norsk", "Vestlandske", "Fjord", "Polar", "Midt-Norsk", "Nordlys",
            "Fjell", "Kyst", "Østlandet", "Sør", "Viken", "Trønder", "Vest")  # fmt: skip
SUFFIXES = (("AS", 70), ("ASA", 3), ("A/S", 4), ("ANS", 10), ("DA", 6), ("", 7))
ACTIVITIES = (("Normaltid", True), ("Overtid 50 %", True), ("Overtid 100 %", True),
              ("Reise", True), ("Kjøring", True), ("Kurs", False), ("Møte", True),
              ("Ferie", False), ("Sykdom", False))  # fmt: skip
HOUR_STATUSES: tuple[tuple[HourStatus, int], ...] = (
    ("approved", 75),
    ("submitted", 12),
    ("draft", 8),
    ("rejected", 5),
)
TENANT_DOMAIN_WORDS = ("byggmester", "tomrer", "elektro", "ror", "entreprenor")
Side = Literal["both", "tripletex", "svenn"]
T = TypeVar("T")
DAY = dt.timedelta(days=1)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII slug for e-mail addresses and domains ("Sæther" → "saether")."""
    return normalize.text(text.replace("-", "")) or "x"


def org_number_from(first8: str) -> str | None:
    """Append the mod-11 check digit, or None when these eight digits have no valid one."""
    check = normalize.org_number_check_digit(first8)
    return None if check is None else first8 + str(check)


class _Builder:
    """Holds the random sources, id counters and uniqueness sets while a world is built."""

    def __init__(self, size: WorldSize, seed: int, overlap: float, messy: bool) -> None:
        self.size, self.overlap, self.messy = size, overlap, messy
        self.rng = random.Random(seed)
        self.fake = Faker("no_NO")
        self.fake.seed_instance(seed)
        self.tripletex_ids = itertools.count(1)
        self.svenn_ids: dict[str, itertools.count[int]] = {}
        self.used: set[tuple[str, object]] = set()
        self.tripletex, self.svenn = Dataset(), Dataset()
        self.truth: dict[Entity, dict[str, str]] = {
            Entity.EMPLOYEE: {}, Entity.CUSTOMER: {}, Entity.PROJECT: {}
        }  # fmt: skip
        self.ambiguous: set[str] = set()
        self.origin: dict[str, str] = {}
        self.shapes: dict[str, list[str]] = {}
        self.accountants: list[str] = []  # e-mails of accountants that clients give as theirs
        self.shape_share = 0.01  # of the things, in each real-world shape (datagen_shapes)
        self.broken_rules: set[str] = set()
        self.tenant_domain = f"{self.rng.choice(TENANT_DOMAIN_WORDS)}-{self._slug_last()}.no"
        # base index -> (tripletex record, svenn record) for cross references
        self.pairs: dict[Entity, list[tuple[str | None, str | None]]] = {}
        self.linkable_customers: set[int] = set()

    def build(self) -> World:
        """Employees, customers, projects, then activities and hours."""
        from sandboxes.datagen_entities import add_customers, add_employees, add_projects

        add_employees(self)
        add_customers(self)
        add_projects(self)
        self._add_activities()
        self._add_hours()
        return World(
            self.tripletex, self.svenn, self.truth, self.ambiguous, self.origin, self.shapes
        )

    # --- ids, randomness and uniqueness ---------------------------------------------------

    def came_from(self, side: str, record_id: str, entity: Entity, index: int) -> None:
        """Record ground truth: this record is a copy of real-world thing ``index``."""
        self.origin[f"{side}:{record_id}"] = f"{entity.value}:{index}"

    def tripletex_id(self) -> str:
        """Next Tripletex id ("1", "2", ...), unique across entities."""
        return str(next(self.tripletex_ids))

    def svenn_id(self, prefix: str) -> str:
        """Next Svenn id for a prefix, e.g. "cus_00001"."""
        counter = self.svenn_ids.setdefault(prefix, itertools.count(1))
        return f"{prefix}_{next(counter):05d}"

    def chance(self, p: float) -> bool:
        """True with probability ``p`` (always False for clean worlds when asked via mess)."""
        return self.rng.random() < p

    def mess(self, p: float) -> bool:
        """True with probability ``p`` when the world is messy."""
        return self.messy and self.rng.random() < p

    def rule_break(self, rule: str, p: float) -> bool:
        """In a messy world: True the first time a rule is asked about, then with ``p``."""
        if not self.messy:
            return False
        if rule not in self.broken_rules:
            self.broken_rules.add(rule)
            return True
        return self.rng.random() < p

    def weighted(self, options: Iterable[tuple[str, int]]) -> str:
        """One option, chosen by weight."""
        values, weights = zip(*options, strict=True)
        return str(self.rng.choices(values, weights=weights)[0])

    def claim(self, kind: str, key: object) -> bool:
        """Reserve a key value; False when it is taken (the caller generates another)."""
        if (kind, key) in self.used:
            return False
        self.used.add((kind, key))
        return True

    def unique(self, kind: str, make: Callable[[], T], key: Callable[[T], object]) -> T:
        """Call ``make`` until its ``key`` is unused, and reserve that key."""
        for _ in range(200):
            value = make()
            if self.claim(kind, key(value)):
                return value
        raise RuntimeError(f"could not generate a unique {kind}")

    def sides(self, count: int) -> list[Side]:
        """Shuffled roles for ``count`` per side: shared, Tripletex-only, Svenn-only."""
        shared = round(count * self.overlap)
        roles: list[Side] = ["both"] * shared
        roles += ["tripletex", "svenn"] * (count - shared)
        self.rng.shuffle(roles)
        return roles

    # --- small realistic values -------------------------------------------------------------

    def _slug_last(self) -> str:
        return ascii_slug(self.fake.last_name())

    def org_number(self) -> str:
        """A fresh, checksum-valid, unused organisation number (starting 8 or 9)."""
        while True:
            candidate = org_number_from(
                str(self.rng.choice((8, 9))) + f"{self.rng.randrange(10**7):07d}"
            )
            if candidate and self.claim("org", candidate):
                return candidate

    def phone(self) -> str:
        """A Norwegian mobile or landline number in one of the usual spellings."""
        digits = f"{self.rng.choice((4, 9, 2, 5, 7))}{self.rng.randrange(10**7):07d}"
        style = self.rng.randrange(3)
        if style == 0:
            return digits
        if style == 1:
            return f"+47 {digits[:3]} {digits[3:5]} {digits[5:]}"
        return f"{digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"

    def address(self) -> Address:
        """A street address with a postcode near its city's."""
        city, base = self.rng.choice(CITIES)
        letter = self.rng.choice(("", "", "", "A", "B"))
        return Address(
            address_line1=f"{self.fake.street_name()} {self.rng.randint(1, 140)}{letter}",
            postal_code=f"{base + self.rng.randrange(0, 40):04d}",
            city=city,
            country_code="NO",
        )

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        """A date in [start, end]."""
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    # --- activities and hours -----------------------------------------------------------------

    def _add_activities(self) -> None:
        for number, (name, on_project) in enumerate(ACTIVITIES, start=1):
            for data, ident in ((self.tripletex, self.tripletex_id()), (self.svenn, None)):
                data.activities.append(
                    Activity(
                        id=ident or self.svenn_id("act"),
                        name=name,
                        number=str(number),
                        is_project_activity=on_project,
                    )
                )

    def _add_hours(self) -> None:
        employees = [e for e in self.svenn.employees if e.is_active]
        projects = [p for p in self.svenn.projects if p.start_date and not p.is_closed]
        if not projects:
            projects = list(self.svenn.projects)
        if not employees or not projects:
            return
        project_acts = [a for a in self.svenn.activities if a.is_project_activity]
        other_acts = [a for a in self.svenn.activities if not a.is_project_activity]
        workdays = [d for d in _days(dt.date(2025, 9, 1), dt.date(2025, 11, 28)) if d.weekday() < 5]
        approvers = [e.id for e in employees[: max(1, len(employees) // 10)]]
        seen: set[tuple[object, ...]] = set()
        for employee in employees:
            for _ in range(self.size.hours_per_employee):
                entry = self._hour_entry(employee, projects, project_acts, other_acts, workdays)
                key = (entry.employee_id, entry.date, entry.project_id, entry.activity_id)
                if key in seen:
                    continue
                seen.add(key)
                if entry.status == "approved":
                    approved = dt.datetime.combine(entry.date + 2 * DAY, dt.time(15), dt.UTC)
                    entry = entry.model_copy(
                        update={"approved_by": self.rng.choice(approvers), "approved_at": approved}
                    )
                self.svenn.hours.append(entry.model_copy(update={"id": self.svenn_id("hrs")}))

    def _hour_entry(
        self,
        employee: Employee,
        projects: list[Project],
        project_acts: list[Activity],
        other_acts: list[Activity],
        workdays: list[dt.date],
    ) -> HourEntry:
        no_project = self.mess(0.03)
        activity = self.rng.choice(other_acts if no_project and other_acts else project_acts)
        hours = Decimal(self.rng.choice(("7.5", "7.5", "7.5", "8", "4", "2.5", "1.5", "3", "10")))
        if self.mess(0.02):
            hours = Decimal(0)
        assert employee.id is not None
        return HourEntry(
            employee_id=employee.id,
            project_id=None if no_project else self.rng.choice(projects).id,
            activity_id=activity.id,
            date=self.rng.choice(workdays),
            hours=hours,
            comment=self.rng.choice((None, None, "Montering", "Befaring", "Rigging", "Opprydding")),
            status=self.weighted(HOUR_STATUSES),  # type: ignore[arg-type]
        )


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + i * DAY for i in range((end - start).days + 1)]
