"""The state a generated world is built in: sizes, both sides' datasets, the answer key, the
vocabulary, and :class:`WorldBuilder` (random sources, ids, uniqueness, small realistic values).

:mod:`sandboxes.datagen` drives the build; :mod:`sandboxes.datagen_entities` and
:mod:`sandboxes.datagen_shapes` add the records, each taking the builder.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from faker import Faker

from sync import normalize
from sync.entities import Customer, Employee, HourEntry, HourStatus, Project
from sync.records import Activity, Address, Entity


@dataclass(frozen=True)
class WorldSize:
    """How many records of each kind each side gets (before Svenn duplicates)."""

    customers: int
    projects: int
    employees: int
    hours_per_employee: int = 10


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
Role = Literal["both", "tripletex", "svenn"]  # where a real-world thing has a copy
T = TypeVar("T")
DAY = dt.timedelta(days=1)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII slug for e-mail addresses and domains ("Sæther" → "saether")."""
    return normalize.text(text.replace("-", "")) or "x"


def org_number_from(first8: str) -> str | None:
    """Append the mod-11 check digit, or None when these eight digits have no valid one."""
    check = normalize.org_number_check_digit(first8)
    return None if check is None else first8 + str(check)


class WorldBuilder:
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

    def world(self) -> World:
        """The world built so far."""
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

    def sides(self, count: int) -> list[Role]:
        """Shuffled roles for ``count`` per side: shared, Tripletex-only, Svenn-only."""
        shared = round(count * self.overlap)
        roles: list[Role] = ["both"] * shared
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
