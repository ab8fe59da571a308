"""Per-tenant leases: one live run at a time for each kind of work on a tenant.

A lease is a row (tenant, purpose) naming its holder and its last sign of life. A run takes it
before it works on the tenant, renews it as it goes and releases it at the end. A run that was
killed stops renewing; once ``ttl`` has passed since its last sign of life, the next run takes
over. Purposes in use: ``initial-sync``, ``realtime``, ``hours-export``, ``reconcile``,
``retry``; other work can check a purpose (e.g. realtime skips a tenant whose initial sync is
live) without taking it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from store.db import insert_for
from store.models import Lease

INITIAL_SYNC = "initial-sync"
REALTIME = "realtime"
HOURS_EXPORT = "hours-export"
RECONCILE = "reconcile"
RETRY = "retry"
REALTIME_WINDOW = "realtime-window"  # the baton of a shard: its latest live realtime window

Clock = Callable[[], dt.datetime]
_CHUNK = 500  # tenants per statement (well under SQLite's and PostgreSQL's parameter limits)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite drops the zone


class LeaseHeldError(RuntimeError):
    """Another live run holds the lease; the message is one sentence with the time to wait."""

    def __init__(
        self, tenant: str, purpose: str, holder: str, age_seconds: int, wait_seconds: int
    ) -> None:
        self.tenant, self.purpose, self.holder = tenant, purpose, holder
        self.age_seconds, self.wait_seconds = age_seconds, wait_seconds
        super().__init__(
            f"tenant {tenant!r}: {purpose} run {holder} is still running (last sign of life "
            f"{age_seconds} s ago); wait for it to finish, or rerun in {wait_seconds} s if it "
            "was killed"
        )


@dataclass(frozen=True)
class LiveLease:
    """Who holds a lease and when it last showed a sign of life."""

    tenant: str
    purpose: str
    holder: str
    heartbeat_at: dt.datetime


def _locked(session: Session, tenant: str, purpose: str) -> Lease:
    """The lease row, created if missing, locked for this transaction (race-free on PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    insert = insert_for(dialect)
    session.execute(
        insert(Lease)
        .values(tenant=tenant, purpose=purpose, holder=None, heartbeat_at=None)
        .on_conflict_do_nothing(index_elements=["tenant", "purpose"])
    )
    query = select(Lease).where(Lease.tenant == tenant, Lease.purpose == purpose)
    return session.scalars(query.with_for_update()).one()


def try_acquire_lease(
    session: Session,
    tenant: str,
    purpose: str,
    holder: str,
    *,
    ttl: dt.timedelta,
    now: Clock = _utcnow,
) -> bool:
    """Take (or renew) the lease for ``holder``; ``False`` while another live run holds it."""
    try:
        acquire_lease(session, tenant, purpose, holder, ttl=ttl, now=now)
    except LeaseHeldError:
        return False
    return True


def acquire_lease(
    session: Session,
    tenant: str,
    purpose: str,
    holder: str,
    *,
    ttl: dt.timedelta,
    now: Clock = _utcnow,
) -> None:
    """Take (or renew) the lease for ``holder``; raise :class:`LeaseHeldError` while another
    run holds it and has shown a sign of life within ``ttl``."""
    row = _locked(session, tenant, purpose)
    moment = now()
    if row.holder not in (None, holder) and row.heartbeat_at is not None:
        age = moment - _aware(row.heartbeat_at)
        if age < ttl:
            raise _held(tenant, purpose, row.holder, age, ttl)
    row.holder, row.heartbeat_at = holder, moment
    session.flush()


def hold_baton(
    session: Session,
    key: str,
    holder: str,
    *,
    due_at: dt.datetime,
    ttl: dt.timedelta,
    now: Clock = _utcnow,
) -> str | None:
    """The realtime windows' baton for ``key`` (a shard), at each regular tick of the window run
    ``holder``, due at ``due_at``: it takes or keeps the baton (``None``), unless a window due
    later holds it and showed a sign of life within ``ttl``: then that window's run id (the
    caller stops, the later window ticks the tenants). So a new window takes over from the one
    before at its first tick, a late window never takes it back from a newer one, and a dead
    holder's baton goes to whoever ticks next."""
    row = _locked(session, key, REALTIME_WINDOW)
    moment = now()
    if row.holder not in (None, holder) and row.heartbeat_at and row.due_at:
        alive = moment - _aware(row.heartbeat_at) < ttl
        if alive and (_aware(row.due_at), row.holder) > (due_at, holder):
            return row.holder
    row.holder, row.due_at, row.heartbeat_at = holder, due_at, moment
    session.flush()
    return None


def _held(
    tenant: str, purpose: str, holder: str, age: dt.timedelta, ttl: dt.timedelta
) -> LeaseHeldError:
    wait = int((ttl - age).total_seconds()) + 1
    return LeaseHeldError(tenant, purpose, holder, int(age.total_seconds()), wait)


def lease_refusal(
    session: Session, tenant: str, purpose: str, *, ttl: dt.timedelta, now: Clock = _utcnow
) -> LeaseHeldError | None:
    """What :func:`acquire_lease` would raise for a new run now (a live holder), else None;
    read only, so a command can say it in one line before it starts anything."""
    held = live_lease(session, tenant, purpose, ttl=ttl, now=now)
    if held is None:
        return None
    return _held(tenant, purpose, held.holder, now() - held.heartbeat_at, ttl)


def acquire_leases(
    session: Session,
    tenants: Iterable[str],
    purpose: str,
    holder: str,
    *,
    ttl: dt.timedelta,
    now: Clock = _utcnow,
) -> list[str]:
    """:func:`acquire_lease` for many tenants at once (a fleet run's turn): the tenants taken,
    in order; those another live run holds are left out. Three statements per 500 tenants,
    rows locked in tenant order (two runs never deadlock), race-free on PostgreSQL."""
    names = list(dict.fromkeys(tenants))
    dialect = session.get_bind().dialect.name
    insert = insert_for(dialect)
    moment = now()
    taken: set[str] = set()
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        missing = [{"tenant": t, "purpose": purpose, "holder": None} for t in chunk]
        # Rows as executemany parameters: a statement with the rows in its VALUES would be
        # compiled anew every tick (most of what taking a fleet's leases cost).
        session.execute(
            insert(Lease).on_conflict_do_nothing(index_elements=["tenant", "purpose"]),
            missing,
        )
        query = (
            select(Lease.tenant, Lease.holder, Lease.heartbeat_at)
            .where(Lease.purpose == purpose, Lease.tenant.in_(chunk))
            .order_by(Lease.tenant)
            .with_for_update()
        )
        free = [
            row.tenant
            for row in session.execute(query)
            if row.holder in (None, holder)
            or row.heartbeat_at is None
            or moment - _aware(row.heartbeat_at) >= ttl
        ]
        if free:
            session.execute(
                update(Lease)
                .where(Lease.purpose == purpose, Lease.tenant.in_(free))
                .values(holder=holder, heartbeat_at=moment)
                .execution_options(synchronize_session=False)
            )
        taken.update(free)
    return [t for t in names if t in taken]


def release_leases(session: Session, tenants: Iterable[str], purpose: str, holder: str) -> None:
    """:func:`release_lease` for many tenants (one statement per 500)."""
    names = list(tenants)
    for start in range(0, len(names), _CHUNK):
        session.execute(
            delete(Lease).where(
                Lease.purpose == purpose,
                Lease.holder == holder,
                Lease.tenant.in_(names[start : start + _CHUNK]),
            )
        )


def renew_lease(
    session: Session, tenant: str, purpose: str, holder: str, *, now: Clock = _utcnow
) -> bool:
    """A sign of life from the holder; ``False`` when it no longer holds the lease."""
    result = session.execute(
        update(Lease)
        .where(Lease.tenant == tenant, Lease.purpose == purpose, Lease.holder == holder)
        .values(heartbeat_at=now())
    )
    return bool(getattr(result, "rowcount", 0))


def release_lease(session: Session, tenant: str, purpose: str, holder: str) -> None:
    """The holder is done: the next run may take the lease at once."""
    session.execute(
        delete(Lease).where(
            Lease.tenant == tenant, Lease.purpose == purpose, Lease.holder == holder
        )
    )


def live_lease(
    session: Session,
    tenant: str,
    purpose: str,
    *,
    ttl: dt.timedelta,
    now: Clock = _utcnow,
) -> LiveLease | None:
    """The lease if a run holds it and has shown a sign of life within ``ttl``, else ``None``."""
    row = session.get(Lease, (tenant, purpose))
    if row is None or row.holder is None or row.heartbeat_at is None:
        return None
    beat = _aware(row.heartbeat_at)
    if now() - beat >= ttl:
        return None
    return LiveLease(tenant, purpose, row.holder, beat)


def live_leases(
    session: Session, purpose: str, *, ttl: dt.timedelta, now: Clock = _utcnow
) -> dict[str, LiveLease]:
    """Every tenant's live lease for ``purpose`` (one query, for fleet-wide skips)."""
    moment = now()
    rows = session.scalars(select(Lease).where(Lease.purpose == purpose, Lease.holder.is_not(None)))
    return {
        row.tenant: LiveLease(row.tenant, purpose, row.holder, _aware(row.heartbeat_at))
        for row in rows
        if row.holder is not None
        and row.heartbeat_at is not None
        and moment - _aware(row.heartbeat_at) < ttl
    }
