"""Property: whatever happens to hours in Svenn and periods in Tripletex, with runs killed at
any point, every Tripletex entry holds the sum of the approved Svenn hours that map to it,
except where a failure says why; no hour is posted twice; a run over unchanged data writes
nothing. Tripletex is modelled as a dict here (the flow tests run the same on the sandboxes).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.entities import HourEntry
from sync.hours import EntryKey, place_hours
from tests.hours_world import LINKS, Store, Tripletex, run_export

IDS = [f"h{i}" for i in range(6)]
DATES = [dt.date(2025, 3, 3), dt.date(2025, 3, 4), dt.date(2025, 4, 1)]
MONTHS = ["2025-03", "2025-04"]

fields = st.fixed_dictionaries(
    {},
    optional={
        "employee_id": st.sampled_from(["e1", "e2", "e-unlinked"]),
        "project_id": st.sampled_from(["p1", "p2", None]),
        "activity_id": st.sampled_from(["t-normal", "t-travel", "t-odd", None]),
        "date": st.sampled_from(DATES),
        "hours": st.sampled_from(
            [Decimal(0), Decimal(1), Decimal("2.5"), Decimal("7.5"), Decimal(12)]
        ),
        "comment": st.sampled_from([None, "Rigging", "Montering"]),
    },
)

operations = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(IDS), fields),
    st.tuples(st.just("approve"), st.sampled_from(IDS)),
    st.tuples(st.just("unapprove"), st.sampled_from(IDS)),
    st.tuples(st.just("edit"), st.sampled_from(IDS), fields),
    st.tuples(st.just("delete"), st.sampled_from(IDS)),
    st.tuples(st.just("lock"), st.sampled_from(MONTHS)),
    st.tuples(st.just("reopen"), st.sampled_from(MONTHS)),
    st.tuples(st.just("hand_edit"), st.sampled_from([Decimal(3), Decimal(5)])),
    st.tuples(st.just("export"), st.none() | st.integers(min_value=1, max_value=12)),
)


def apply(op: tuple[Any, ...], svenn: dict[str, HourEntry], tx: Tripletex, store: Store) -> None:
    kind = op[0]
    if kind == "create" and op[1] not in svenn:
        base: dict[str, Any] = {"employee_id": "e1", "project_id": "p1", "date": DATES[0],
                                "hours": Decimal("7.5"), "status": "submitted"}  # fmt: skip
        svenn[op[1]] = HourEntry(id=op[1], **(base | op[2]))
    elif kind in ("approve", "unapprove") and op[1] in svenn:
        status = "approved" if kind == "approve" else "submitted"
        svenn[op[1]] = svenn[op[1]].model_copy(update={"status": status})
    elif kind == "edit" and op[1] in svenn:
        svenn[op[1]] = svenn[op[1]].model_copy(update=op[2])
    elif kind == "delete":
        svenn.pop(op[1], None)
    elif kind in ("lock", "reopen"):
        tx.lock(op[1], kind == "lock")
    elif kind == "hand_edit" and tx.entries:
        tx.hand_edit(sorted(tx.entries)[0], op[1])
    elif kind == "export":
        asyncio.run(run_export(svenn, tx, store, die_at=op[1], batch_size=2))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=25))
def test_tripletex_holds_the_approved_sum_except_where_a_failure_says_why(
    ops: list[tuple[Any, ...]],
) -> None:
    svenn: dict[str, HourEntry] = {}
    tx, store = Tripletex(), Store()
    for op in ops:
        apply(op, svenn, tx, store)
    ledger_before = dict(store.ledger)
    plan, counts = asyncio.run(run_export(svenn, tx, store, batch_size=2))
    assert counts is not None

    keys = [e.key for e in tx.entries.values()]
    assert len(keys) == len(set(keys)), "an entry is duplicated"
    placed, _ = place_hours(svenn.values(), LINKS)
    want: dict[EntryKey, Decimal] = {}
    rows: dict[EntryKey, set[str]] = {}
    for row in placed:
        want[row.key] = want.get(row.key, Decimal(0)) + row.hours
        rows.setdefault(row.key, set()).add(row.svenn_hour_id)
    for sent in ledger_before.values():
        rows.setdefault(sent.key, set()).add(sent.svenn_hour_id)
    held_ids = {h.svenn_hour_id for h in plan.held}
    held_keys = {h.key for h in plan.held} | {o.plan.key for o in counts.refusals}
    have = {e.key: e.content.hours for e in tx.entries.values()}
    for key in set(want) | set(have):
        if have.get(key, Decimal(0)) == want.get(key, Decimal(0)):
            continue
        explained = key in held_keys or bool(rows.get(key, set()) & held_ids)
        assert explained, f"{key}: Tripletex has {have.get(key)}, Svenn approved {want.get(key)}"

    writes = tx.writes
    asyncio.run(run_export(svenn, tx, store, batch_size=2))
    assert tx.writes == writes, "a run over unchanged data wrote"
