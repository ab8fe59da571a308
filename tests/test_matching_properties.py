"""Property: two systems drawn from one set of real-world companies, applied through the plan.

Hypothesis draws companies (some namesakes in one postcode, ENK next to AS, clients of one
accountant sharing its e-mail, entries without an org number) and shows each system its own
copies: none, one, or two (an older duplicate without org number), written with the noise
people type. The plan is applied purely (creates become copies on the other side) and checked:

- no false merge: every link joins two copies of one company;
- no company is on a side more times after the sync than before (or once, if it was absent);
- every company exists on both sides afterwards, unless one of its records was held back
  with a failed record naming why;
- a company whose every copy carries its org number and that has no duplicate is never held
  back: plainly different companies are synced, not parked.

Companies that no rule could tell apart are not drawn: namesakes in one postcode always carry
their org numbers or different legal forms, and only companies with org numbers share an
e-mail. Those shapes are the ambiguity tests' business (tests/test_matching_messy.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from sync import normalize
from sync.entities import Customer
from sync.plan import plan_entity
from sync.records import Address, Entity

ORGS = ["974760673", "923609016", "923456783", "895496561", "987654325", "810305282"]
STEMS = ["Hansen Bygg", "Berg og Sønn", "Fjord Rør", "Nordlys Maler", "Dahl Tak", "Lie Elektro"]
FORMS = ["AS", "ENK", "ANS", None]
POSTCODES = ["0150", "5003"]
ACCOUNTANT = "post@regnskap.no"


@dataclass(frozen=True)
class Company:
    """One real-world company."""

    key: int
    stem: str
    form: str | None
    org: str | None
    postcode: str
    email: str | None
    keeps_identity: bool  # every copy writes its org number and legal form


@dataclass(frozen=True)
class Copy:
    """How one system holds one company: which copies, and how they are written."""

    count: int  # 0, 1, or 2 (the second an older duplicate without org number)
    upper: bool
    slash: bool  # "A/S" for "AS"
    drop_org: bool
    drop_form: bool
    email_case: bool


@st.composite
def companies(draw) -> list[Company]:
    count = draw(st.integers(1, 6))
    orgs = draw(st.permutations(ORGS))
    made: list[Company] = []
    for key in range(count):
        org = orgs[key] if draw(st.booleans()) or key == 0 else None
        stem = draw(st.sampled_from(STEMS))
        postcode = draw(st.sampled_from(POSTCODES))
        form = draw(st.sampled_from(FORMS))
        shared = org is not None and draw(st.booleans())
        email = ACCOUNTANT if shared else f"post{key}@{stem.split()[0].lower()}.no"
        made.append(Company(key, stem, form, org, postcode, email, keeps_identity=False))
    return _distinguishable(made)


def _distinguishable(made: list[Company]) -> list[Company]:
    """Namesakes in one postcode keep what tells them apart; drop those nothing could."""
    kept: list[Company] = []
    for company in made:
        namesakes = [c for c in kept if (c.stem, c.postcode) == (company.stem, company.postcode)]
        if not namesakes:
            kept.append(company)
            continue
        everyone = [*namesakes, company]
        by_org = all(c.org for c in everyone)
        by_form = all(c.form for c in everyone) and len({c.form for c in everyone}) == len(everyone)
        if not (by_org or by_form):
            continue
        kept = [
            Company(c.key, c.stem, c.form, c.org, c.postcode, c.email, True) if c in everyone else c
            for c in kept
        ]
        kept.append(Company(**{**company.__dict__, "keeps_identity": True}))
    return kept


copies = st.builds(
    Copy,
    count=st.sampled_from([0, 1, 1, 1, 2]),
    upper=st.booleans(),
    slash=st.booleans(),
    drop_org=st.booleans(),
    drop_form=st.booleans(),
    email_case=st.booleans(),
)


def written(company: Company, copy: Copy, record_id: str, older: bool) -> Customer:
    """A company as one system holds it (the older duplicate has no org number)."""
    loose = not company.keeps_identity
    form = company.form
    if form == "AS" and copy.slash:
        form = "A/S"
    if loose and copy.drop_form:
        form = None
    name = f"{company.stem} {form}" if form else company.stem
    org = company.org
    if older or (loose and copy.drop_org and company.email != ACCOUNTANT):
        org = None
    email = company.email
    if email and copy.email_case:
        email = f" {email.upper()}"
    return Customer(
        id=record_id,
        name=name.upper() if copy.upper else name,
        organization_number=org,
        email=email,
        postal_address=Address(postal_code=company.postcode),
    )


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_plan_never_merges_duplicates_or_parks_plainly_different_companies(data):
    world = data.draw(companies())
    sides: dict[str, list[Customer]] = {"tripletex": [], "svenn": []}
    truth: dict[tuple[str, str], int] = {}
    for company in world:
        for side in ("tripletex", "svenn"):
            copy = data.draw(copies)
            for n in range(copy.count):
                record_id = f"{side[0]}{company.key}-{n}"
                sides[side].append(written(company, copy, record_id, older=n == 1))
                truth[(side, record_id)] = company.key
    plan = plan_entity(Entity.CUSTOMER, sides["tripletex"], sides["svenn"], linked={})

    for link in plan.links:  # no false merge
        assert truth[("tripletex", link.tripletex_id)] == truth[("svenn", link.svenn_id)]
    before = {side: Counter(truth[(side, str(r.id))] for r in sides[side]) for side in sides}
    after = {side: Counter(before[side]) for side in sides}
    for record in plan.create_in_svenn:
        after["svenn"][truth[("tripletex", str(record.id))]] += 1
    for record in plan.create_in_tripletex:
        after["tripletex"][truth[("svenn", str(record.id))]] += 1
    held = Counter()
    for failure in plan.failures:
        side = "svenn" if failure.svenn_id else "tripletex"
        record_id = failure.svenn_id or failure.tripletex_id
        held[truth[(side, str(record_id))]] += 1
        assert failure.reason_code and failure.message_en and failure.message_no
    for company in world:
        on = [side for side in sides if before[side][company.key]]
        if not on:
            continue
        for side in sides:  # never more copies than before (or one where there was none)
            assert after[side][company.key] <= max(before[side][company.key], 1), company
        if not held[company.key]:  # every company the rules allow is on both sides
            assert all(after[side][company.key] >= 1 for side in sides), company
        if _plainly_itself(company, sides, truth):
            assert not held[company.key], (company, plan.failures)

    accounted = {(lk.tripletex_id, "t") for lk in plan.links} | {
        (lk.svenn_id, "s") for lk in plan.links
    }
    accounted |= {(str(r.id), "t") for r in plan.create_in_svenn}
    accounted |= {(str(r.id), "s") for r in plan.create_in_tripletex}
    accounted |= {(str(f.tripletex_id), "t") for f in plan.failures if f.tripletex_id}
    accounted |= {(str(f.svenn_id), "s") for f in plan.failures if f.svenn_id}
    for side, records in sides.items():  # every record is linked, created or held back
        for record in records:
            assert (str(record.id), side[0]) in accounted


def _plainly_itself(
    company: Company, sides: dict[str, list[Customer]], truth: dict[tuple[str, str], int]
) -> bool:
    """One copy per side, each with its org number, and no other company's copy without one
    that shares its e-mail or its name (with a compatible legal form) and postcode."""
    per_side = {
        side: [r for r in records if truth[(side, str(r.id))] == company.key]
        for side, records in sides.items()
    }
    if any(len(copies) > 1 for copies in per_side.values()):
        return False
    mine = [r for copies in per_side.values() for r in copies]
    if not all(normalize.org_number(r.organization_number) for r in mine):
        return False
    others = [
        r
        for side in sides
        for r in sides[side]
        if truth[(side, str(r.id))] != company.key and not r.organization_number
    ]
    for other in others:
        for own in mine:
            if normalize.email(own.email) == normalize.email(other.email):
                return False
            same_place = own.postal_address == other.postal_address
            if same_place and normalize.same_company_name(own.name, other.name):
                return False
    return True
