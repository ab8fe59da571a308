"""The activation run waiting for a person's decision: a lease (purpose ``approval-wait``).

The waiting run holds the lease and renews it while it waits. ``svenn-sync approve`` answers it
only while it is alive; a run whose process died (``kill -9``, a lost machine) stops renewing,
and then ``approve`` decides and runs the initial sync itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from store.leases import acquire_lease, release_lease, renew_lease
from store.models import Lease

APPROVAL_WAIT = "approval-wait"
MISSED_BEATS = 3  # a run that missed this many heartbeats is taken for gone


@dataclass(frozen=True)
class WaitingRun:
    """The tenant's activation run, and whether it showed a sign of life recently."""

    run_id: str
    alive: bool
    silent_seconds: float


def start_waiting(session: Session, tenant: str, run_id: str, heartbeat_seconds: float) -> None:
    """``run_id`` becomes the tenant's activation run; refused while another one is alive."""
    ttl = dt.timedelta(seconds=MISSED_BEATS * heartbeat_seconds)
    acquire_lease(session, tenant, APPROVAL_WAIT, run_id, ttl=ttl)


def beat(session: Session, tenant: str, run_id: str) -> None:
    """A sign of life from the waiting run."""
    renew_lease(session, tenant, APPROVAL_WAIT, run_id)


def stop_waiting(session: Session, tenant: str, run_id: str) -> None:
    """The run no longer waits (decided, timed out, ended or declared gone)."""
    release_lease(session, tenant, APPROVAL_WAIT, run_id)


def waiting_run(session: Session, tenant: str, heartbeat_seconds: float) -> WaitingRun | None:
    """The tenant's activation run, alive if it beat within ``MISSED_BEATS`` heartbeats."""
    row = session.get(Lease, (tenant, APPROVAL_WAIT))
    if row is None or row.holder is None or row.heartbeat_at is None:
        return None
    beat_at = row.heartbeat_at
    if beat_at.tzinfo is None:  # SQLite drops the zone
        beat_at = beat_at.replace(tzinfo=dt.UTC)
    silent = (dt.datetime.now(dt.UTC) - beat_at).total_seconds()
    return WaitingRun(row.holder, silent < MISSED_BEATS * heartbeat_seconds, silent)
