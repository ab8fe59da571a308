"""Per-tenant leases: one live run per kind of work, taken over after a killed run's ttl."""

from __future__ import annotations

import datetime as dt

import pytest

from store.leases import (
    LeaseHeldError,
    acquire_lease,
    acquire_leases,
    live_lease,
    live_leases,
    release_lease,
    release_leases,
    renew_lease,
    try_acquire_lease,
)

TTL = dt.timedelta(seconds=60)
T0 = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def at(seconds: float):
    return lambda: T0 + dt.timedelta(seconds=seconds)


def test_a_second_run_is_refused_with_one_sentence_naming_holder_and_wait(state_store):
    with state_store.sessions.begin() as session:
        acquire_lease(session, "acme", "realtime", "run-1", ttl=TTL, now=at(0))
    with pytest.raises(LeaseHeldError) as refused, state_store.sessions.begin() as session:
        acquire_lease(session, "acme", "realtime", "run-2", ttl=TTL, now=at(15))
    message = str(refused.value)
    assert "run-1" in message and "15 s ago" in message and "rerun in 46 s" in message
    assert "\n" not in message
    assert refused.value.wait_seconds == 46


def test_purposes_and_tenants_do_not_block_each_other(state_store):
    with state_store.sessions.begin() as session:
        acquire_lease(session, "acme", "realtime", "run-1", ttl=TTL)
        assert try_acquire_lease(session, "acme", "hours-export", "run-2", ttl=TTL)
        assert try_acquire_lease(session, "other", "realtime", "run-3", ttl=TTL)
        assert not try_acquire_lease(session, "acme", "realtime", "run-4", ttl=TTL)


def test_a_killed_holder_is_taken_over_once_its_ttl_ran_out(state_store):
    with state_store.sessions.begin() as session:
        acquire_lease(session, "acme", "realtime", "run-1", ttl=TTL, now=at(0))
        assert renew_lease(session, "acme", "realtime", "run-1", now=at(50))
        assert not try_acquire_lease(session, "acme", "realtime", "run-2", ttl=TTL, now=at(100))
        assert try_acquire_lease(session, "acme", "realtime", "run-2", ttl=TTL, now=at(111))
        # the old holder has lost it: its renewals no longer count
        assert not renew_lease(session, "acme", "realtime", "run-1", now=at(112))
        assert live_lease(session, "acme", "realtime", ttl=TTL, now=at(112)).holder == "run-2"


def test_release_frees_the_lease_at_once_and_only_for_its_holder(state_store):
    with state_store.sessions.begin() as session:
        acquire_lease(session, "acme", "realtime", "run-1", ttl=TTL)
        release_lease(session, "acme", "realtime", "someone-else")
        assert live_lease(session, "acme", "realtime", ttl=TTL) is not None
        release_lease(session, "acme", "realtime", "run-1")
        assert live_lease(session, "acme", "realtime", ttl=TTL) is None
        acquire_lease(session, "acme", "realtime", "run-2", ttl=TTL)


def test_live_leases_lists_only_live_holders_of_one_purpose(state_store):
    with state_store.sessions.begin() as session:
        acquire_lease(session, "a", "initial-sync", "run-a", ttl=TTL, now=at(0))
        acquire_lease(session, "b", "initial-sync", "run-b", ttl=TTL, now=at(100))
        acquire_lease(session, "c", "realtime", "run-c", ttl=TTL, now=at(100))
        live = live_leases(session, "initial-sync", ttl=TTL, now=at(120))
    assert set(live) == {"b"} and live["b"].holder == "run-b"


def test_a_fleet_takes_every_free_lease_at_once_and_skips_live_holders(state_store):
    tenants = [f"t{n:04d}" for n in range(1200)]  # more than one statement's chunk
    with state_store.sessions.begin() as session:
        acquire_lease(session, "t0007", "realtime", "run-1", ttl=TTL, now=at(0))  # live
        acquire_lease(session, "t0008", "realtime", "run-1", ttl=TTL, now=at(-120))  # killed
        acquire_lease(session, "t0009", "realtime", "run-2", ttl=TTL, now=at(-5))  # ours
    with state_store.sessions.begin() as session:
        taken = acquire_leases(session, tenants, "realtime", "run-2", ttl=TTL, now=at(0))
    assert taken == [t for t in tenants if t != "t0007"]
    with state_store.sessions.begin() as session:
        assert live_lease(session, "t0008", "realtime", ttl=TTL, now=at(1)).holder == "run-2"
        assert live_lease(session, "t1199", "realtime", ttl=TTL, now=at(1)).holder == "run-2"
        with pytest.raises(LeaseHeldError):
            acquire_lease(session, "t0500", "realtime", "run-3", ttl=TTL, now=at(1))
    with state_store.sessions.begin() as session:
        release_leases(session, tenants, "realtime", "run-2")
    with state_store.sessions.begin() as session:
        held = live_leases(session, "realtime", ttl=TTL, now=at(1))
    assert set(held) == {"t0007"}  # only run-2's leases were released
