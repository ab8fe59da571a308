"""Key values as integer codes: one factorisation shared by both sides of a plan.

Matching joins the two sides on codes and the duplicate check counts them; a plan factorises
each key once for both (``CodeTable``) instead of once per use. Codes must say exactly what
the values say: equal codes where the values are equal, -1 where a value is missing, across
both sides and for any subset of rows; and matching and the duplicate check must decide the
same with the shared codes as with codes of their own. The join on codes gives the pairs an
inner merge gives, in its order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.duplicates import _shared_rows, find_duplicates
from sync.entities import Customer
from sync.keys import (
    CUSTOMER_KEYS,
    DUPLICATE_KEYS,
    CodeTable,
    KeyValues,
    email,
    joint_codes,
    org_number,
)
from sync.matching import SideFrame, equal_code_rows, match_on_keys, records_frame
from sync.records import Address, Entity

ORGS = [None, "974760673", "974 760 673", "923609016", "NO 923609016 MVA", "123"]
NAMES = ["Hansen Bygg AS", "HANSEN BYGG A/S", "Hansen Bygg", "Hansen Bygg ENK", "Dahl Tak"]
EMAILS = [None, "post@hansen.no", " POST@hansen.no", "post@regnskap.no", "no-mail"]

customers = st.lists(
    st.builds(
        Customer,
        name=st.sampled_from(NAMES),
        organization_number=st.sampled_from(ORGS),
        customer_number=st.sampled_from([None, 10001, 10002]),
        email=st.sampled_from(EMAILS),
        postal_address=st.sampled_from([None, Address(postal_code="0150")]),
    ),
    max_size=12,
)


def numbered(records: list[Customer], prefix: str) -> list[Customer]:
    return [r.model_copy(update={"id": f"{prefix}{i}"}) for i, r in enumerate(records)]


@settings(max_examples=100, deadline=None)
@given(customers, customers, st.data())
def test_codes_are_equal_exactly_where_the_values_are(tripletex, svenn, data):
    tripletex, svenn = numbered(tripletex, "t"), numbered(svenn, "s")
    sides = [SideFrame(tripletex, "tripletex"), SideFrame(svenn, "svenn")]
    CodeTable(sides[0].values, sides[1].values)
    subset = data.draw(st.lists(st.sampled_from(svenn), unique_by=id)) if svenn else []
    _, rows_of = sides[1].of(subset)
    for key_of in (org_number, email):
        values = [pd.Series(side.values(key_of)).to_numpy(dtype=object) for side in sides]
        every = np.concatenate(values)
        codes = np.concatenate(joint_codes(sides[0].values, sides[1].values, key_of))
        missing = pd.isna(every)
        assert ((codes == -1) == missing).all()
        present = np.flatnonzero(~missing).tolist()
        for i in present:
            for j in present:
                assert (codes[i] == codes[j]) == (every[i] == every[j])
        whole = sides[1].values.codes(key_of)
        assert (
            rows_of.codes(key_of).tolist()
            == whole[[sides[1].position[id(r)] for r in subset]].tolist()
        )


def coded_sides(tripletex: list[Customer], svenn: list[Customer]) -> dict[str, SideFrame]:
    """Both sides' frames, their keys coded by one table, as a plan builds them."""
    sides = {"tripletex": SideFrame(tripletex, "tripletex"), "svenn": SideFrame(svenn, "svenn")}
    CodeTable(sides["tripletex"].values, sides["svenn"].values)
    return sides


@settings(max_examples=100, deadline=None)
@given(customers, customers)
def test_matching_and_duplicates_decide_the_same_on_shared_codes(tripletex, svenn):
    tripletex, svenn = numbered(tripletex, "t"), numbered(svenn, "s")
    shared = coded_sides(tripletex, svenn)
    frames = {
        side: records_frame(records)
        for side, records in (("tripletex", tripletex), ("svenn", svenn))
    }
    own = match_on_keys(Entity.CUSTOMER, frames["tripletex"], frames["svenn"], CUSTOMER_KEYS)
    cut = {
        side: shared[side].of(records)
        for side, records in (("tripletex", tripletex), ("svenn", svenn))
    }
    values = {side: cut[side][1] for side in cut}
    coded = match_on_keys(
        Entity.CUSTOMER, cut["tripletex"][0], cut["svenn"][0], CUSTOMER_KEYS, values=values
    )
    assert coded == own
    if not tripletex:
        return
    leftovers = {r.id for r in tripletex[::2]}
    kept = {r.id for r in tripletex[1::2]}
    alone = find_duplicates(
        Entity.CUSTOMER,
        frames["tripletex"],
        kept=kept,
        leftovers=leftovers,
        context=frames["svenn"],
    )
    together = find_duplicates(
        Entity.CUSTOMER,
        cut["tripletex"][0],
        kept=kept,
        leftovers=leftovers,
        context=cut["svenn"][0],
        values=values["tripletex"],
        context_values=values["svenn"],
    )
    assert together == alone


def test_a_frame_without_a_table_codes_its_own_values():
    frame = records_frame([Customer(id="1", name="A", email="a@b.no"), Customer(id="2", name="B")])
    values = KeyValues(frame)
    assert values.table is None
    assert values.codes(email).tolist() == [0, -1]


@settings(max_examples=100, deadline=None)
@given(customers, customers)
def test_an_e_mail_is_shared_where_records_with_two_org_numbers_carry_it(tripletex, svenn):
    tripletex, svenn = numbered(tripletex, "t"), numbered(svenn, "s")
    sides = coded_sides(tripletex, svenn)
    values = [sides[side].values for side in ("tripletex", "svenn")]
    orgs: dict[str, set[str]] = {}
    for side in values:
        for mail, org in zip(side(email).tolist(), side(org_number).tolist(), strict=True):
            if not pd.isna(mail) and not pd.isna(org):
                orgs.setdefault(mail, set()).add(org)
    expected = [not pd.isna(m) and len(orgs.get(m, ())) >= 2 for m in values[0](email).tolist()]
    rules = DUPLICATE_KEYS[Entity.CUSTOMER]
    if tripletex:
        assert _shared_rows(rules, values[0], values[1])["email"].tolist() == expected


codes_of = st.lists(st.integers(min_value=0, max_value=12), max_size=40).map(
    lambda values: np.array(values, dtype=np.int64)
)


@settings(max_examples=300, deadline=None)
@given(codes_of, codes_of)
def test_the_join_on_codes_is_an_inner_merge_in_its_order(left, right):
    rows, other = equal_code_rows(left, right)
    merged = pd.DataFrame({"i": np.arange(len(left)), "k": left}).merge(
        pd.DataFrame({"j": np.arange(len(right)), "k": right}), on="k"
    )
    assert rows.tolist() == merged["i"].tolist()
    assert other.tolist() == merged["j"].tolist()
    assert all(left[i] == right[j] for i, j in zip(rows, other, strict=True))
