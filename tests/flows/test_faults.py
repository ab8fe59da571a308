"""The initial sync through server errors, dropped connections and late answers on writes:
it finishes, with nothing created twice and nothing left unaccounted for."""

from __future__ import annotations

import httpx
import pytest

from cli.operate import decide
from tests.flows.conftest import run_activation
from tests.flows.test_crash_resume import assert_consistent

pytestmark = pytest.mark.scenario

FAULTS = [
    {"kind": "500", "count": 2, "method": "POST"},
    {"kind": "drop", "count": 1, "method": "POST"},
    {"kind": "timeout_after", "count": 1, "method": "POST", "latency_ms": 3000},
]


def test_initial_sync_survives_faults_on_writes(pipeline, sandboxes, state_store, monkeypatch):
    from connectors.http import HttpPolicy
    from tasks import tenant as wiring

    # Patient enough to ride out the faults, short enough that a late answer times out.
    monkeypatch.setattr(wiring.WIRING, "policy", HttpPolicy(timeout=1.0, backoff_base=0.05))
    run_activation(sandboxes)
    for root, prefix in ((sandboxes.tripletex_root, "/v2"), (sandboxes.svenn_root, "/api/v1")):
        for fault in FAULTS:
            httpx.post(
                f"{root}/_admin/faults", json=fault | {"path_prefix": prefix}
            ).raise_for_status()
    assert decide(state_store, sandboxes.tenant, "approve", "kari@ops", "").endswith("active")
    for root in (sandboxes.tripletex_root, sandboxes.svenn_root):
        remaining = httpx.get(f"{root}/_admin/faults").json()
        assert all(f["remaining"] == 0 for f in remaining), remaining  # every fault fired
    assert_consistent(sandboxes, state_store)
