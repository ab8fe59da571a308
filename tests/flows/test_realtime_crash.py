"""kill -9 of a realtime tick at a drawn point, then a rerun: nothing lost, nothing twice.

The tick runs as `python -m flows.realtime_sync 1` in a subprocess (same sandboxes, store and
Prefect test server); it is killed with SIGKILL once the sandboxes received the drawn number of
writes, with every write's answer held back a little so the kill often lands between a write
and its commit. Ticks in this process then finish the job.
"""

from __future__ import annotations

import time

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from sync.merge import same_value
from tests.flows.conftest import kill_when, writes
from tests.flows.realtime_support import synced_once, tick

pytestmark = pytest.mark.scenario


def hold_write_answers(pair, on: bool) -> None:
    for root, prefix in ((pair.tripletex_root, "/v2"), (pair.svenn_root, "/api/v1")):
        if not on:
            httpx.delete(f"{root}/_admin/faults").raise_for_status()
            continue
        for method in ("POST", "PUT", "PATCH"):
            httpx.post(
                f"{root}/_admin/faults",
                json={
                    "kind": "latency",
                    "method": method,
                    "path_prefix": prefix,
                    "latency_ms": 150,
                },
            ).raise_for_status()


def run_and_kill(kill_after: int, pair) -> bool:
    return kill_when(
        ["flows.realtime_sync", "1"],
        lambda: len(writes(pair.tripletex_root)) + len(writes(pair.svenn_root)) >= kill_after,
    )


@settings(
    max_examples=2,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a flow-level example is slow
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kill_after=st.integers(1, 7))
def test_a_tick_killed_at_any_point_is_finished_by_the_next_without_loss_or_duplicates(
    pipeline, sandboxes, state_store, kill_after
):
    pair, store = sandboxes, state_store
    pairs = synced_once(pair, store)[:4]
    stamp = int(time.time() * 1000) % 10_000_000
    phones = {}
    for n, (sv_id, tx_id) in enumerate(pairs):
        phone = f"+479{stamp + n:07d}"
        if n % 2:
            tripletex_edit(pair, "customer", tx_id, {"phoneNumber": phone})
        else:
            svenn_edit(pair, "customer", sv_id, {"phone": phone})
        phones[(sv_id, tx_id)] = phone
    new_name = f"Krasjtest {stamp} AS"
    svenn_edit(pair, "customer", None, {"name": new_name})
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/requests").raise_for_status()

    hold_write_answers(pair, True)
    try:
        run_and_kill(kill_after, pair)
    finally:
        hold_write_answers(pair, False)
    tick(pair, store)
    tick(pair, store)

    sv, tx = svenn_records(pair, "customer"), tripletex_records(pair, "customer")
    for (sv_id, tx_id), phone in phones.items():
        assert same_value("phone", sv[sv_id]["phone"], phone)
        assert same_value("phone", tx[tx_id].get("phoneNumber"), phone)
    assert sum(r["name"] == new_name for r in tx.values()) == 1
    assert sum(r["name"] == new_name for r in sv.values()) == 1
    assert tick(pair, store).writes == 0
