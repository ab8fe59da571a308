"""A record served malformed to the hours export (a Svenn hour row, a Svenn activity, a
Tripletex timesheet entry or activity) becomes a MALFORMED_RECORD failed record; the export goes
on, and the record is never taken for withdrawn or deleted.

After a real initial sync and a first export, hypothesis picks what to serve malformed (one
exported hour, its activity on either side, or the entry it was sent to), a field and a value
the API would never send. That hour is edited in Svenn (so the run looks at it) and so is
another one on another project. The run must not raise, must export the other edit, must leave
the malformed record's entry as it was (no delete, no second entry on the key) and log why.
"""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.records import read_records
from connectors.svenn.mapping import activity_from_svenn, hours_from_svenn
from connectors.tripletex.timesheet import allowed_activity_from_tripletex, entry_from_tripletex
from sync.records import Entity, System
from tests.flows.test_export_hours import (
    assert_exactly_once,
    export,
    ledger,
    open_hours_failures,
    svenn_edit,
    svenn_hours,
    tripletex_entries,
)
from tests.flows.test_initial_sync import activate_and_approve
from tests.test_malformed_records import SERVABLE_VALUES, SVENN_ROWS

pytestmark = pytest.mark.scenario

ENTRY_ROW = {
    "id": 9001,
    "version": 1,
    "employee": {"id": 11},
    "project": {"id": 12},
    "activity": {"id": 13},
    "date": "2024-03-04",
    "hours": 7.5,
    "comment": "Montering",
    "locked": False,
}
ACTIVITY_ROW = {"id": "act-1", "name": "Normaltid", "code": "100", "active": True}
TX_ACTIVITY_ROW = {"id": 13, "name": "Normaltid", "activityType": "PROJECT_GENERAL_ACTIVITY"}
KINDS = {  # what is served malformed: (system, path, a plain row, the connector's mapper)
    "svenn hour": (System.SVENN, "/api/v1/hours", SVENN_ROWS[Entity.HOURS], hours_from_svenn),
    "svenn activity": (System.SVENN, "/api/v1/activities", ACTIVITY_ROW, activity_from_svenn),
    "tripletex entry": (System.TRIPLETEX, "/v2/timesheet/entry", ENTRY_ROW, entry_from_tripletex),
    "tripletex activity": (
        System.TRIPLETEX,
        "/v2/activity",
        TX_ACTIVITY_ROW,
        allowed_activity_from_tripletex,
    ),
}
HOURS = (Decimal("0.25") * n for n in itertools.count(1))


@st.composite
def mutations(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(KINDS)))
    field = draw(st.sampled_from(sorted(KINDS[kind][2])))
    value = draw(SERVABLE_VALUES)
    return {"kind": kind, "pick": draw(st.integers(0, 10_000)), "field": field, "value": value}


def unreadable(kind: str, field: str, value: Any) -> bool:
    """Whether the connector sets such a record aside (the oracle: its mapper, on a plain row)."""
    system, _, row, mapper = KINDS[kind]
    return bool(read_records(system, Entity.HOURS, [{**row, field: value}], mapper).malformed)


def entry_on(pair: Any, row: Any) -> dict[str, Any]:
    key = (int(row.employee_id), row.entry_date.isoformat(), int(row.project_id),
           int(row.activity_id))  # fmt: skip
    [entry] = [
        e
        for e in tripletex_entries(pair)
        if (e["employee"]["id"], e["date"], e["project"]["id"], e["activity"]["id"]) == key
    ]
    return entry


def test_a_malformed_hour_activity_or_entry_costs_only_itself(
    pipeline, sandboxes, state_store
) -> None:
    pair, store = sandboxes, state_store
    activate_and_approve(pair, store)
    assert export(pair)["entries_created"] > 0
    used: set[str] = set()

    @settings(
        max_examples=6,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(mutations())
    def one_mutation(case: dict[str, Any]) -> None:
        kind, field, value = case["kind"], case["field"], case["value"]
        rows = ledger(store, pair.tenant)
        by_key = Counter((r.employee_id, r.entry_date, r.project_id, r.activity_id)
                         for r in rows.values())  # fmt: skip
        alone = sorted(  # hours alone on their entry, not served malformed by an earlier example
            i for i, r in rows.items()
            if by_key[(r.employee_id, r.entry_date, r.project_id, r.activity_id)] == 1
            and i not in used
        )  # fmt: skip
        assert len(alone) >= 2, "the world ran out of fresh hours"
        bad = alone[case["pick"] % len(alone)]
        activity = svenn_hours(pair)[bad]["activityId"]
        # another hour, on another activity and project (hours that may need an unreadable
        # activity are held too)
        others = [
            i
            for i in alone
            if svenn_hours(pair)[i]["activityId"] != activity
            and rows[i].project_id != rows[bad].project_id
        ]
        assert others, "every fresh hour is on one activity"
        ok = others[case["pick"] % len(others)]
        used.add(bad)  # its edit may stay unexported (held): never pick it again
        before = entry_on(pair, rows[bad])
        earlier_runs = {f.flow_run_id for f in open_hours_failures(store, pair.tenant).values()}
        system, path, _, _ = KINDS[kind]
        target: Any = {
            "svenn hour": bad,
            "svenn activity": activity,
            "tripletex entry": before["id"],
            "tripletex activity": before["activity"]["id"],
        }[kind]
        ok_hours = next(HOURS)
        svenn_edit(pair, bad, "update", comment=f"endret {ok_hours}")
        svenn_edit(pair, ok, "update", hours=float(ok_hours))
        root = pair.tripletex_root if system is System.TRIPLETEX else pair.svenn_root
        mutation = {"path_prefix": path, "id": target, "field": field, "value": value}
        httpx.post(f"{root}/_admin/mutations", json=mutation).raise_for_status()
        try:
            export(pair)  # raises if the run crashed
        finally:
            httpx.delete(f"{root}/_admin/mutations").raise_for_status()

        after = ledger(store, pair.tenant)
        assert after[ok].hours == ok_hours  # the rest of the export went on
        if not unreadable(kind, field, value):
            return  # readable: exported as an edit (or held by a rule) like any other
        failed = open_hours_failures(store, pair.tenant)
        assert any(
            f.reason_code == "MALFORMED_RECORD"
            and f.flow_run_id not in earlier_runs  # logged by this run
            and field in f.message_en
            and field in f.message_no
            for f in failed.values()
        ), f"no MALFORMED_RECORD row for {case}: {[f.message_en for f in failed.values()]}"
        assert bad in after  # not taken for withdrawn
        now = entry_on(pair, after[bad])  # still one entry on its key
        assert now["id"] == before["id"] and now["hours"] == before["hours"]
        assert_exactly_once(pair, store)

    one_mutation()
