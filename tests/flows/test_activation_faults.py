"""Transient faults during activation are Tripletex's, never the tenant's: only 401/403 mean a
bad key. Faults are injected into the real Tripletex sandbox (``sandboxes/faults.py``).
"""

from __future__ import annotations

import httpx
import pytest

from connectors.http import HttpPolicy
from intake.keys import Accepted
from store.models import Integration, IntegrationEvent
from tasks import tenant as tenant_wiring
from tasks.activation import Refusal
from tests.flows.conftest import take_keys
from tests.flows.test_tenancy import rows

PROBED = ("/v2/customer", "/v2/employee", "/v2/project", "/v2/activity", "/v2/timesheet/entry")
KEY_CODES = {"KEY_INVALID", "KEY_LACKS_ENTITLEMENTS", "TEST_KEY_IN_PRODUCTION"}


@pytest.fixture
def quick_retries(monkeypatch):
    """The production retry policy (5 retries), with short waits so the test stays quick."""
    policy = HttpPolicy(backoff_base=0.01, backoff_max=0.05, timeout=5.0)
    monkeypatch.setattr(tenant_wiring.WIRING, "policy", policy)


def inject(root: str, **fault) -> None:
    httpx.post(f"{root}/_admin/faults", json=fault).raise_for_status()


def clear_faults(root: str) -> None:
    httpx.delete(f"{root}/_admin/faults").raise_for_status()


@pytest.mark.parametrize("kind", ["500", "503", "429", "drop"])
@pytest.mark.parametrize("path", ["/v2/employee", "/v2/timesheet/entry"])
def test_a_probe_that_keeps_failing_reads_as_tripletex_unavailable(
    sync_env, sandboxes, state_store, quick_retries, kind, path
):
    inject(sandboxes.tripletex_root, kind=kind, path_prefix=path, method="GET")
    refusal = take_keys(sandboxes)
    assert isinstance(refusal, Refusal), refusal
    assert refusal.code == "TRIPLETEX_UNAVAILABLE"
    assert refusal.message.startswith("Tripletex is unavailable just now")
    assert "try again" in refusal.message
    assert rows(state_store) == {}


def test_a_probe_that_fails_a_few_times_is_retried_and_the_key_accepted(
    sync_env, sandboxes, state_store, quick_retries
):
    for kind, path in zip(["503", "429", "drop", "500", "503"], PROBED, strict=True):
        inject(sandboxes.tripletex_root, kind=kind, path_prefix=path, count=2)
    assert isinstance(take_keys(sandboxes), Accepted)
    assert rows(state_store)[sandboxes.tenant][0] == "review"


def test_a_clear_403_still_means_the_key_lacks_entitlements(
    sync_env, sandboxes, state_store, quick_retries
):
    inject(sandboxes.tripletex_root, kind="503", path_prefix="/v2/customer", count=2)
    refusal = take_keys(sandboxes, token="demo-limited-token")
    assert refusal.code == "KEY_LACKS_ENTITLEMENTS"


def test_under_heavy_random_faults_no_activation_blames_the_key(
    sync_env, sandboxes, state_store, quick_retries
):
    """55 % of every Tripletex and Svenn read fails (500/503/429/dropped): each activation is
    accepted or reported as the service being unavailable, never as a bad key."""
    outcomes = []
    for attempt in range(8):
        for root in (sandboxes.tripletex_root, sandboxes.svenn_root):
            clear_faults(root)
            for kind in ("500", "503", "429", "drop"):
                inject(root, kind=kind, rate=0.18)  # 1 - 0.82^4 ≈ 55 % of requests fail
        outcome = take_keys(sandboxes)
        outcomes.append(outcome.code if isinstance(outcome, Refusal) else "accepted")
        for root in (sandboxes.tripletex_root, sandboxes.svenn_root):
            clear_faults(root)
        with state_store.engine.begin() as connection:  # start each attempt from nothing
            connection.execute(IntegrationEvent.__table__.delete())
            connection.execute(Integration.__table__.delete())
        assert outcomes[-1] not in KEY_CODES, f"attempt {attempt}: {outcomes}"
    assert set(outcomes) <= {"accepted", "TRIPLETEX_UNAVAILABLE", "SVENN_UNAVAILABLE"}
    assert "accepted" in outcomes, outcomes  # the retries do get through
