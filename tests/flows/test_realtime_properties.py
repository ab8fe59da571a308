"""Random interleavings of edits, creates, inactivations and ticks on both real sandboxes.

After any sequence: both sides agree on every synced field of every record that was touched;
every value a tick overwrote was the later edit or is logged as a FIELD_CONFLICT; no new
record exists twice on either side; and a final quiet tick writes nothing.
"""

from __future__ import annotations

import itertools

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from store.failures import open_failures
from sync.merge import same_value
from sync.normalize import org_number_check_digit
from tests.flows.conftest import writes
from tests.flows.realtime_support import synced_once, tick

pytestmark = pytest.mark.scenario

# canonical field → (Svenn field, Tripletex field)
FIELDS = {"name": ("name", "name"), "email": ("email", "email"), "phone": ("phone", "phoneNumber")}
COUNTER = itertools.count(1)

edit_op = st.tuples(
    st.just("edit"),
    st.sampled_from(["svenn", "tripletex"]),
    st.integers(0, 2),  # the fourth customer is the one Tripletex inactivates
    st.sampled_from(sorted(FIELDS)),
)
other_ops = st.sampled_from([("tick",), ("inactivate",)])
new_op = st.tuples(
    st.just("new"),
    st.sampled_from(["svenn", "tripletex", "both"]),
    st.booleans(),  # with an org number (the strongest key), or only a name
)
programs = st.lists(st.one_of(edit_op, other_ops, new_op), min_size=2, max_size=10)


def new_org_number() -> str:
    """A fresh, checksum-valid Norwegian organisation number."""
    while True:
        first8 = f"92{next(COUNTER) + 100_000:06d}"
        check = org_number_check_digit(first8)
        if check is not None:
            return f"{first8}{check}"


def value_for(field: str) -> str:
    n = next(COUNTER)
    return {"name": f"Navn {n} AS", "email": f"e{n}@prop.no", "phone": f"+47{91000000 + n}"}[field]


@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a flow-level example is slow
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(program=[("new", "both", False), ("tick",)])  # the same name entered on both sides
@given(program=programs)
def test_any_interleaving_converges_logs_every_lost_edit_and_ends_quiet(
    pipeline, sandboxes, state_store, program
):
    pair, store = sandboxes, state_store
    pairs = synced_once(pair, store)[:4]
    touched: set[int] = set()
    window: dict[tuple[int, str], dict[str, str]] = {}  # edits since the last tick
    expect: list[tuple[int, str, set[str], bool]] = []  # (pair, field, allowed, both edited)
    created: list[str] = []
    inactivated: set[int] = set()

    def close_window() -> None:
        for (index, field), sides in window.items():
            expect.append((index, field, set(sides.values()), len(set(sides.values())) > 1))
        window.clear()

    for op in program:
        if op[0] == "edit":
            _, side, index, field = op
            value = value_for(field)
            sv_id, tx_id = pairs[index]
            if side == "svenn":
                svenn_edit(pair, "customer", sv_id, {FIELDS[field][0]: value})
            else:
                tripletex_edit(pair, "customer", tx_id, {FIELDS[field][1]: value})
            touched.add(index)
            expect[:] = [e for e in expect if (e[0], e[1]) != (index, field)]
            window.setdefault((index, field), {})[side] = value
        elif op[0] == "tick":
            tick(pair, store)
            close_window()
        elif op[0] == "inactivate":
            tripletex_edit(pair, "customer", pairs[3][1], {"isInactive": True})
            inactivated.add(3)
        else:
            name = f"Ny Kunde {next(COUNTER)} AS"
            body_sv: dict[str, str] = {"name": name}
            body_tx: dict[str, str] = {"name": name}
            if op[2]:  # entered in both systems: the org number links them
                org = new_org_number()
                body_sv["organizationNumber"] = body_tx["organizationNumber"] = org
            if op[1] in ("svenn", "both"):
                svenn_edit(pair, "customer", None, body_sv)
            if op[1] in ("tripletex", "both"):
                tripletex_edit(pair, "customer", None, body_tx)
            created.append(name)
    tick(pair, store)
    close_window()
    tick(pair, store)  # our own writes come back

    sv, tx = svenn_records(pair, "customer"), tripletex_records(pair, "customer")
    for index in touched | inactivated:
        sv_id, tx_id = pairs[index]
        for field, (sv_name, tx_name) in FIELDS.items():
            assert same_value(field, sv[sv_id].get(sv_name), tx[tx_id].get(tx_name)), field
        assert sv[sv_id]["active"] is (not tx[tx_id].get("isInactive", False))
    with store.sessions() as session:
        conflicts = {
            f.svenn_id
            for f in open_failures(session, pair.tenant)
            if f.reason_code == "FIELD_CONFLICT"
        }
    for index, field, allowed, both in expect:
        sv_id, tx_id = pairs[index]
        final = sv[sv_id].get(FIELDS[field][0])
        assert any(same_value(field, final, v) for v in allowed), (field, final, allowed)
        if both:  # two different edits of one field in one tick: the loser is logged
            assert sv_id in conflicts
    for name in created:
        assert sum(r["name"] == name for r in sv.values()) == 1, name
        assert sum(r["name"] == name for r in tx.values()) == 1, name

    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/requests").raise_for_status()
    tick(pair, store)
    assert writes(pair.tripletex_root) == [] and writes(pair.svenn_root) == []
