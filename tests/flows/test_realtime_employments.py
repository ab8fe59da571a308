"""An employee leaves Tripletex when the last employment ends: the realtime sync deactivates the
Svenn employee, and reactivates it when a new employment starts (through both sandboxes)."""

from __future__ import annotations

import datetime as dt

import pytest

from cli.operate import decide
from sandboxes.live_edits import svenn_records, tripletex_edit
from store.links import links_for
from sync.records import Entity
from tests.flows.conftest import run_activation
from tests.flows.realtime_support import tick

pytestmark = pytest.mark.scenario


def test_the_last_employment_ending_deactivates_in_svenn_and_a_new_one_reactivates(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    with store.sessions() as session:
        sv_id, tx_id = min(
            (lk.svenn_id, lk.tripletex_id)
            for lk in links_for(session, pair.tenant, Entity.EMPLOYEE.value)
        )
    tripletex_edit(pair, "employee", tx_id, {"dateOfBirth": "1985-03-04"})
    first = tripletex_edit(
        pair, "employment", None, {"employee": {"id": int(tx_id)}, "startDate": "2020-01-06"}
    )
    assert first is not None
    tick(pair, store)
    assert svenn_records(pair, "employee")[sv_id]["active"] is True
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    tripletex_edit(pair, "employment", first["id"], {"endDate": yesterday})
    tick(pair, store)
    assert svenn_records(pair, "employee")[sv_id]["active"] is False
    assert tick(pair, store).writes == 0  # quiet once it agrees
    tripletex_edit(
        pair,
        "employment",
        None,
        {"employee": {"id": int(tx_id)}, "startDate": dt.date.today().isoformat()},
    )
    tick(pair, store)
    assert svenn_records(pair, "employee")[sv_id]["active"] is True
    assert tick(pair, store).writes == 0
