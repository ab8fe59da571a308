"""The shapes of real-world mess (issue 11), placed among generated companies, people and jobs.

A messy world holds a few of each shape (by default 1 % of the things each, at least one):

customers
- ``svenn_duplicate``: Svenn holds the company twice, an older record without org number or
  customer number (same e-mail and postcode, name in other case or "og" for "&") next to the
  newer one with its org number;
- ``shared_accountant``: companies with different valid org numbers that all give their
  accountant's e-mail;
- ``namesake``: two companies of the same name in the same postcode, different org numbers;
- ``enk_vs_as``: "Jon Mur ENK" (no org number) next to "Jon Mur AS" in the same postcode;
employees
- ``svenn_duplicate``: an older Svenn record without e-mail or employee number, same name and
  date of birth;
projects
- ``svenn_duplicate``: an older Svenn record without number, same name and customer.

A paired shape takes two neighbouring things (i-1, i): i-1 is its *anchor*, an ordinary thing,
and i is made after it. Shaped things and anchors are spared the noise that would make them
indistinguishable even to a person (an org number dropped, a legal form dropped, a typo), so the
generator's truth stays exact: the shape is the mess. AS/A/S/"as" spellings, case, spacing and
typos are everywhere else (:mod:`sandboxes.datagen_entities`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandboxes.world_builder import Role, WorldBuilder
from sync import normalize
from sync.entities import Customer, Employee, Project
from sync.records import Entity

PAIRED = frozenset({"shared_accountant", "namesake", "enk_vs_as"})
CUSTOMER_SHAPES = ("svenn_duplicate", "shared_accountant", "namesake", "enk_vs_as")
EMPLOYEE_SHAPES = ("svenn_duplicate",)
PROJECT_SHAPES = ("svenn_duplicate",)


@dataclass(frozen=True)
class Placed:
    """The shape a thing takes part in; ``anchor`` for the plain partner of a paired shape."""

    shape: str
    anchor: bool = False


def place_shapes(b: WorldBuilder, roles: list[Role], shapes: tuple[str, ...]) -> dict[int, Placed]:
    """Index of a thing → its shape, a few of each; nothing in a clean world."""
    if not b.messy or len(roles) < 2:
        return {}
    per_shape = max(1, round(len(roles) * b.shape_share))
    wanted = [shape for _ in range(per_shape) for shape in shapes]  # round robin
    slots = list(range(1, len(roles), 2))  # (i-1, i): pairs never overlap
    b.rng.shuffle(slots)
    placed: dict[int, Placed] = {}
    for i in slots:
        if not wanted:
            break
        if wanted[0] == "svenn_duplicate" and roles[i] == "tripletex":
            continue  # a Svenn duplicate needs the thing in Svenn
        shape = wanted.pop(0)
        placed[i] = Placed(shape)
        if shape in PAIRED:
            placed[i - 1] = Placed(shape, anchor=True)
    return placed


def note(b: WorldBuilder, entity: Entity, index: int, placed: Placed | None) -> None:
    """Remember which real-world things are shaped (``World.shapes``), for tests and benches."""
    if placed is not None and not placed.anchor:
        b.shapes.setdefault(f"{entity.value}.{placed.shape}", []).append(f"{entity.value}:{index}")


# --- customers ------------------------------------------------------------------------------


def shaped_customer(
    b: WorldBuilder, base: Customer, placed: Placed | None, anchor: Customer | None
) -> Customer:
    """The clean base of a customer, changed to fit its shape (``anchor``: its partner)."""
    if placed is None:
        return base
    update: dict[str, object] = {"organization_number": base.organization_number or b.org_number()}
    domain = normalize.company_stem(base.name).replace(" ", "")
    if placed.anchor and placed.shape == "shared_accountant":
        update["email"] = b.rng.choice(_accountants(b))
    elif placed.anchor and placed.shape == "enk_vs_as":
        update["name"] = f"{_without_form(base.name)} AS"
    elif placed.anchor or anchor is None:
        pass
    elif placed.shape == "shared_accountant":
        update["email"] = anchor.email
    elif placed.shape == "namesake":
        update |= {
            "name": anchor.name,
            "postal_address": anchor.postal_address,
            "email": f"post@{domain}{base.customer_number}.no",
        }
    elif placed.shape == "enk_vs_as":
        update |= {
            "name": f"{_without_form(anchor.name)} ENK",
            "postal_address": anchor.postal_address,
            "organization_number": None,
            "email": f"post@{domain}{base.customer_number}.no",
        }
    return base.model_copy(update=update)


def _accountants(b: WorldBuilder) -> list[str]:
    """A few accountants' e-mails, each given by the clients that use that accountant."""
    if not b.accountants:
        count = max(1, round(b.size.customers * b.shape_share / 2))
        names = {(normalize.text(b.fake.last_name()) or "x").replace(" ", "") for _ in range(count)}
        b.accountants = [f"post@{name}regnskap.no" for name in sorted(names)]
    return b.accountants


def _without_form(name: str) -> str:
    """The name without a trailing legal form, as written ("Dahl Tak A/S" → "Dahl Tak")."""
    words = name.split(" ")
    if len(words) > 1 and normalize.legal_form(words[-1]) is not None:
        words = words[:-1]
    return " ".join(words)


def older_customer(b: WorldBuilder, svenn: Customer) -> Customer:
    """The older Svenn copy: no org number, no customer number, name written another way."""
    name = svenn.name
    name = (
        name.replace(" & ", " og ") if " & " in name else b.rng.choice((name.upper(), name.lower()))
    )
    email = svenn.email.upper() if svenn.email and b.chance(0.5) else svenn.email
    return svenn.model_copy(
        update={
            "organization_number": None,
            "customer_number": None,
            "name": name,
            "email": email,
            "phone": b.phone(),
        }
    )


# --- employees and projects -----------------------------------------------------------------


def older_employee(b: WorldBuilder, svenn: Employee) -> Employee:
    """The older Svenn copy of a person: same name and date of birth, no e-mail or number."""
    return svenn.model_copy(
        update={
            "email": None,
            "employee_number": None,
            "first_name": svenn.first_name.upper(),
            "phone": b.phone(),
        }
    )


def older_project(svenn: Project) -> Project:
    """The older Svenn copy of a job: same name (other case) and customer, no number."""
    return svenn.model_copy(update={"number": None, "name": svenn.name.upper()})
