"""Employees, customers and projects for :mod:`sandboxes.datagen`: base record, two copies.

Each real-world thing is made once as a clean *base* record. The Tripletex copy is the base
as Tripletex stores it (clean org number, always a customer number); the Svenn copy of a shared
thing is messed up the way people type, then checked: if no matching key still agrees, the
number (customer/employee/project) is put back, so the truth pair stays findable.
"""

from __future__ import annotations

import datetime as dt

from sandboxes.datagen_shapes import (
    CUSTOMER_SHAPES,
    EMPLOYEE_SHAPES,
    PROJECT_SHAPES,
    Placed,
    note,
    older_customer,
    older_employee,
    older_project,
    place_shapes,
    shaped_customer,
)
from sandboxes.world_builder import CITIES, PREFIXES, SUFFIXES, TRADES, Role, WorldBuilder
from sync import normalize
from sync.entities import Customer, Employee, Project
from sync.records import Entity

START, END = dt.date(2023, 1, 1), dt.date(2025, 8, 31)


def add_employees(b: WorldBuilder) -> None:
    """Employees on both sides; some Svenn ones without e-mail or last name."""
    pairs: list[tuple[str | None, str | None]] = []
    roles = b.sides(b.size.employees)
    placed = place_shapes(b, roles, EMPLOYEE_SHAPES)
    for index, side in enumerate(roles):
        base = _employee_base(b, str(1001 + index))
        shape = placed.get(index)
        note(b, Entity.EMPLOYEE, index, shape)
        t_id = s_id = None
        if side in ("both", "tripletex"):
            t_id = b.tripletex_id()
            b.tripletex.employees.append(base.model_copy(update={"id": t_id}))
            b.came_from("tripletex", t_id, Entity.EMPLOYEE, index)
        if side in ("both", "svenn"):
            svenn = _svenn_employee(b, base, side, keep=shape is not None)
            older = older_employee(b, svenn) if shape else None
            s_id = _add_svenn(
                b, Entity.EMPLOYEE, b.svenn.employees, svenn, "emp", t_id, index, older,
                shaped=shape is not None,
            )  # fmt: skip
        pairs.append((t_id, s_id))
    b.pairs[Entity.EMPLOYEE] = pairs


def _employee_base(b: WorldBuilder, number: str) -> Employee:
    def make() -> tuple[str, str, dt.date]:
        first = b.fake.first_name()
        if b.chance(0.03):
            first = b.rng.choice(("André", "René", "Zoé", "Hélène", "José", "Åsmund", "Ærlend"))
        if b.chance(0.2):
            first = f"{first} {b.fake.first_name()}"
        born = b.date_between(dt.date(1962, 1, 1), dt.date(2004, 12, 31))
        return first, b.fake.last_name(), born

    first, last, born = b.unique(  # type: ignore[misc]
        "person",
        make,
        lambda v: (normalize.person_name(v[0], v[1]), v[2]),  # type: ignore[index]
    )
    local = f"{normalize.text(first.split()[0])}.{normalize.text(last)}".replace(" ", "")
    email = b.unique("email", lambda: local + _digits(b), lambda v: v)
    return Employee(
        first_name=first,
        last_name=last,
        email=f"{email}@{b.tenant_domain}",
        phone=b.phone(),
        employee_number=number,
        date_of_birth=born,
    )


def _digits(b: WorldBuilder) -> str:
    return "" if b.chance(0.7) else str(b.rng.randint(2, 99))


def _svenn_employee(b: WorldBuilder, base: Employee, side: Role, *, keep: bool) -> Employee:
    """The Svenn copy; ``keep`` (a shaped person) keeps the e-mail and number it is found by."""
    update: dict[str, object] = {"phone": b.phone()}
    if keep:
        return base.model_copy(update=update)
    if side == "svenn":
        if b.rule_break("employee_no_email", 0.06):
            update["email"] = None
        elif b.rule_break("employee_bad_email", 0.03):
            update["email"] = (base.email or "").replace("@", "(at)")
        if b.rule_break("employee_no_last_name", 0.04):
            update["last_name"] = None
        return base.model_copy(update=update)
    if b.mess(0.5):
        update["email"] = _messy_email(b, base.email)
    if b.mess(0.15):
        update["email"] = None
    if b.mess(0.2):
        update["employee_number"] = None
    if b.mess(0.3):  # written without middle name / without Norwegian letters
        first = base.first_name.split()[0]
        update["first_name"] = _ascii(first) if b.chance(0.5) else first
        update["last_name"] = _ascii(base.last_name or "")
    svenn = base.model_copy(update=update)
    if not _employees_match(base, svenn):
        svenn = svenn.model_copy(update={"employee_number": base.employee_number})
    return svenn


def _employees_match(t: Employee, s: Employee) -> bool:
    if normalize.email(t.email) and normalize.email(t.email) == normalize.email(s.email):
        return True
    if t.employee_number and t.employee_number == s.employee_number:
        return True
    same_name = normalize.person_name(t.first_name, t.last_name) == normalize.person_name(
        s.first_name, s.last_name
    )
    return same_name and t.date_of_birth is not None and t.date_of_birth == s.date_of_birth


def add_customers(b: WorldBuilder) -> None:
    """Customers on both sides; Tripletex inactive ones, Svenn non-numeric numbers."""
    pairs: list[tuple[str | None, str | None]] = []
    roles = b.sides(b.size.customers)
    placed = place_shapes(b, roles, CUSTOMER_SHAPES)
    base: Customer | None = None
    for index, side in enumerate(roles):
        shape = placed.get(index)
        base = shaped_customer(b, _customer_base(b, 10001 + index), shape, base)
        note(b, Entity.CUSTOMER, index, shape)
        t_id = s_id = None
        if side in ("both", "tripletex"):
            t_id = b.tripletex_id()
            active = side == "both" or not b.rule_break("customer_inactive", 0.05)
            b.tripletex.customers.append(base.model_copy(update={"id": t_id, "is_active": active}))
            b.came_from("tripletex", t_id, Entity.CUSTOMER, index)
        if side in ("both", "svenn"):
            svenn = _svenn_customer(b, base, side, shape)
            older = older_customer(b, svenn) if _is(shape, "svenn_duplicate") else None
            s_id = _add_svenn(
                b, Entity.CUSTOMER, b.svenn.customers, svenn, "cus", t_id, index, older,
                shaped=shape is not None,
            )  # fmt: skip
            if side == "both" and s_id not in b.ambiguous:
                b.linkable_customers.add(len(pairs))
        pairs.append((t_id, s_id))
    b.pairs[Entity.CUSTOMER] = pairs


def _company_name(b: WorldBuilder) -> str:

    trade, city = b.rng.choice(TRADES), b.rng.choice(CITIES)[0]
    last, other = b.fake.last_name(), b.fake.last_name()
    template = b.rng.randrange(6)
    stem = (
        f"{last} {trade}",
        f"{last} & {other}",
        f"{city} {trade}",
        f"{b.rng.choice(PREFIXES)} {trade}",
        f"{b.fake.first_name()} {last} {trade}",
        f"{last} {trade} {city}",
    )[template]
    suffix = b.weighted(SUFFIXES)
    return f"{stem} {suffix}".strip()


def _is(placed: Placed | None, shape: str) -> bool:
    return placed is not None and not placed.anchor and placed.shape == shape


def _customer_base(b: WorldBuilder, number: int) -> Customer:
    name = b.unique("company", lambda: _company_name(b), normalize.company_stem)
    domain = normalize.company_stem(name).replace(" ", "")
    return Customer(
        name=name,
        organization_number=b.org_number() if b.chance(0.85) else None,
        customer_number=number,
        email=None
        if b.chance(0.1)
        else f"{b.rng.choice(('post', 'firmapost', 'faktura'))}@{domain}.no",
        # Every third company sends invoices elsewhere (no random draw: worlds stay as seeded).
        invoice_email=f"faktura@{domain}.no" if number % 3 == 0 else None,
        phone=b.phone(),
        postal_address=b.address(),
    )


def _svenn_customer(b: WorldBuilder, base: Customer, side: Role, shape: Placed | None) -> Customer:
    """The Svenn copy, written the way people type. A shaped company (and its partner) keeps
    what tells it apart: its org number and legal form, in any spelling."""
    update: dict[str, object] = {"phone": b.phone()}
    if base.organization_number and b.messy:
        update["organization_number"] = _messy_org_number(b, base.organization_number)
    if shape is not None:
        if b.mess(0.4):
            update["email"] = _messy_email(b, base.email)
        if b.mess(0.6):
            update["name"] = _name_variant(b, base.name, keep_form=True)
        return base.model_copy(update=update)
    if side == "svenn":
        if b.rule_break("customer_number_text", 0.05):
            update["customer_number"] = f"K-{base.customer_number}"
        if base.organization_number and b.rule_break("bad_org", 0.03):  # mistyped check digit
            bad = (int(base.organization_number[8]) + 1) % 10
            update["organization_number"] = base.organization_number[:8] + str(bad)
        if base.email and b.rule_break("customer_bad_email", 0.03):
            update["email"] = base.email.replace("@", " @ ").replace(".no", "")
        return base.model_copy(update=update)
    if b.mess(0.12):
        update["organization_number"] = None
    if b.mess(0.15):
        update["customer_number"] = None
    if b.mess(0.4):
        update["email"] = _messy_email(b, base.email)
    elif b.mess(0.15):
        update["email"] = None
    if b.mess(0.6):
        update["name"] = _name_variant(b, base.name)
    if b.mess(0.05):
        typo = _typo(b, str(update.get("name", base.name)))
        if b.claim("company", normalize.company_stem(typo)):  # never another firm's name
            update["name"] = typo
    svenn = base.model_copy(update=update)
    if not _customers_match(base, svenn):
        svenn = svenn.model_copy(update={"customer_number": base.customer_number})
    return svenn


def _customers_match(t: Customer, s: Customer) -> bool:
    org = normalize.org_number(t.organization_number)
    if org and org == normalize.org_number(s.organization_number):
        return True
    if isinstance(t.customer_number, int) and t.customer_number == s.customer_number:
        return True
    if normalize.email(t.email) and normalize.email(t.email) == normalize.email(s.email):
        return True
    t_post = t.postal_address.postal_code if t.postal_address else None
    s_post = s.postal_address.postal_code if s.postal_address else None
    same_name = normalize.company_stem(t.name) == normalize.company_stem(s.name)
    return same_name and normalize.postal_code(t_post) is not None and t_post == s_post


def add_projects(b: WorldBuilder) -> None:
    """Projects; Tripletex internal and sub-projects, Svenn ones without a start date."""
    employees = b.pairs[Entity.EMPLOYEE]
    customers = b.pairs[Entity.CUSTOMER]
    t_customers = [i for i, (t, _) in enumerate(customers) if t]
    s_customers = [i for i, (_, s) in enumerate(customers) if s]
    shared_customers = [i for i, (t, s) in enumerate(customers) if t and s]
    t_projects: list[str] = []
    roles = b.sides(b.size.projects)
    placed = place_shapes(b, roles, PROJECT_SHAPES)
    for index, side in enumerate(roles):
        pool = {"both": shared_customers, "tripletex": t_customers, "svenn": s_customers}[side]
        customer = b.rng.choice(pool) if pool else None
        shape = placed.get(index) if customer is not None else None  # same name + customer
        note(b, Entity.PROJECT, index, shape)
        base = _project_base(b, str(1001 + index), customer)
        t_id = None
        if side in ("both", "tripletex"):
            t_id = b.tripletex_id()
            update = _project_refs(b, customer, employees, 0) | {"id": t_id}
            if side == "tripletex" and b.rule_break("internal", 0.06):
                update |= {"is_internal": True, "customer_id": None}
            elif side == "tripletex" and t_projects and b.rule_break("subproject", 0.06):
                update["parent_project_id"] = b.rng.choice(t_projects)
            b.tripletex.projects.append(base.model_copy(update=update))
            b.came_from("tripletex", t_id, Entity.PROJECT, index)
            t_projects.append(t_id)
        if side in ("both", "svenn"):
            svenn = base.model_copy(update=_project_refs(b, customer, employees, 1))
            if shape is None:
                svenn = _svenn_project(b, svenn, side, customer in b.linkable_customers)
            older = older_project(svenn) if shape else None
            _add_svenn(
                b, Entity.PROJECT, b.svenn.projects, svenn, "prj", t_id, index, older,
                shaped=shape is not None,
            )  # fmt: skip


def _project_base(b: WorldBuilder, number: str, customer: int | None) -> Project:
    def make() -> str:
        kind = b.rng.choice(("Nybygg enebolig", "Rehabilitering", "Baderomsrenovering",
                             "Tilbygg", "Taktekking", "Fasadeoppussing", "Kjøkkenmontering",
                             "Drenering", "Garasje", "Service", "Leilighetsbygg", "Varmepumpe",
                             "Næringsbygg", "Elektrisk anlegg"))  # fmt: skip
        return f"{kind} {b.fake.street_name()} {b.rng.randint(1, 140)}"

    name = b.unique("project", make, normalize.text)
    start = b.date_between(START, END)
    end = start + dt.timedelta(days=b.rng.randint(20, 400)) if b.chance(0.6) else None
    return Project(name=name, number=number, start_date=start, end_date=end)


def _project_refs(
    b: WorldBuilder, customer: int | None, employees: list[tuple[str | None, str | None]], side: int
) -> dict[str, object]:
    customers = b.pairs[Entity.CUSTOMER]
    managers = [pair[side] for pair in employees if pair[side]]
    return {
        "customer_id": customers[customer][side] if customer is not None else None,
        "project_manager_id": b.rng.choice(managers) if managers else None,
    }


def _svenn_project(b: WorldBuilder, project: Project, side: Role, linkable: bool) -> Project:
    update: dict[str, object] = {}
    if side == "svenn" and b.rule_break("no_start_date", 0.06):
        update["start_date"] = None
    if side == "both" and linkable and b.mess(0.25):
        update["number"] = None
    if side == "both" and b.mess(0.3):
        update["name"] = b.rng.choice(
            (project.name.upper(), f" {project.name}  ", project.name.lower())
        )
    return project.model_copy(update=update)


def _add_svenn(
    b: WorldBuilder, entity: Entity, target: list[Customer] | list[Employee] | list[Project],
    record: Customer | Employee | Project, prefix: str, tripletex_id: str | None, index: int,
    older: Customer | Employee | Project | None = None, *, shaped: bool = False,
) -> str:  # fmt: skip
    """Append the Svenn copy (after ``older``, a shaped duplicate made before it; or, for things
    not ``shaped``, rarely followed by an exact copy, ambiguous on purpose); record truth,
    origin and ambiguity."""
    if older is not None:
        older_id = b.svenn_id(prefix)
        target.append(older.model_copy(update={"id": older_id}))  # type: ignore[arg-type]
        b.came_from("svenn", older_id, entity, index)
    s_id = b.svenn_id(prefix)
    target.append(record.model_copy(update={"id": s_id}))  # type: ignore[arg-type]
    b.came_from("svenn", s_id, entity, index)
    if tripletex_id is None:
        return s_id
    b.truth[entity][tripletex_id] = s_id
    if not shaped and b.rule_break(f"duplicate_{prefix}", 0.03):
        twin = b.svenn_id(prefix)
        copy = record.model_copy(
            update={"id": twin, "phone": b.phone()} if entity != Entity.PROJECT else {"id": twin}
        )
        target.append(copy)  # type: ignore[arg-type]
        b.came_from("svenn", twin, entity, index)
        b.ambiguous.update({tripletex_id, s_id, twin})
    return s_id


# --- how people type -------------------------------------------------------------------


def _messy_org_number(b: WorldBuilder, digits: str) -> str:
    style = b.rng.randrange(5)
    spaced = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return (digits, spaced, f"NO {spaced} MVA", f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
            f"NO{digits}MVA")[style]  # fmt: skip


def _messy_email(b: WorldBuilder, value: str | None) -> str | None:
    if value is None:
        return None
    local, _, domain = value.partition("@")
    return b.rng.choice((f" {value.upper()}", f"{local.title()}@{domain.upper()} ", value.title()))


def _name_variant(b: WorldBuilder, name: str, *, keep_form: bool = False) -> str:
    options = [
        name.upper(),
        name.lower(),
        f"  {name.replace(' ', '  ')} ",
        name.replace(" ", " ", 1),
    ]
    if name.endswith(" AS"):
        options += [name[:-3] + " A/S", name[:-3] + " A.S.", name[:-3] + " as"]
        if not keep_form:
            options.append(name[:-3])
    if name.endswith(" A/S"):
        options += [name[:-4] + " AS"]
    if " & " in name:
        options.append(name.replace(" & ", " og "))
    if " og " in name:
        options.append(name.replace(" og ", " & "))
    options.append(name.replace(" ", ", ", 1))
    return str(b.rng.choice(options))


def _typo(b: WorldBuilder, name: str) -> str:
    words = name.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) >= 4:
        i = b.rng.randrange(1, len(word) - 2)
        words[longest] = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return " ".join(words)


_ASCII_LETTERS: dict[str, str | int | None] = {
    "æ": "ae",
    "ø": "o",
    "å": "a",
    "Æ": "Ae",
    "Ø": "O",
    "Å": "A",
    "é": "e",
}
_ASCII = str.maketrans(_ASCII_LETTERS)


def _ascii(name: str) -> str:
    return name.translate(_ASCII)
