"""Serving many tenants from one run: which tenants, split into shards, worked concurrently.

Realtime ticks, hours exports, retries and reconciliation all serve every active tenant from
one flow run (a flow run per tenant per tick would cost seconds each; DESIGN §6). One tenant's
failure never stops the others: each outcome is kept, with a one-sentence, secret-free error.
Shards let several deployments (and workers on several machines) share the tenants: a tenant
belongs to shard ``crc32(tenant) % shards``, stable across runs and machines.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select

from connectors.errors import SecretRedactor
from connectors.together import together
from store.models import Integration, IntegrationStatus
from store.state import StateStore

T = TypeVar("T")

_ERROR_LENGTH = 300


def shard_of(tenant: str, shards: int) -> int:
    """The shard (0 .. shards-1) a tenant belongs to; stable across runs and machines."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    return zlib.crc32(tenant.encode()) % shards


def window_baton(shard: int, shards: int) -> str:
    """The name of the baton the realtime windows of one shard hand over to each other."""
    return f"shard {shard} of {shards}"


def active_tenants(
    store: StateStore, *, shard: int = 0, shards: int = 1, statuses: Iterable[str] = ()
) -> list[str]:
    """The tenants whose integration is active (or in ``statuses``) in this shard, sorted."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be between 0 and {shards - 1}, not {shard}")
    wanted = set(statuses) or {IntegrationStatus.ACTIVE.value}
    with store.sessions() as session:
        tenants = session.scalars(
            select(Integration.tenant).where(Integration.status.in_(wanted))
        ).all()
    return sorted(t for t in tenants if shard_of(t, shards) == shard)


@dataclass(frozen=True)
class TenantOutcome(Generic[T]):
    """How one tenant's share of a fleet run ended."""

    tenant: str
    value: T | None = None
    error: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        """True when the tenant's work finished without an exception."""
        return self.error is None


def describe_error(error: BaseException) -> str:
    """One line, at most 300 characters, with anything shaped like a credential removed."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = SecretRedactor()(text)
    return text if len(text) <= _ERROR_LENGTH else text[: _ERROR_LENGTH - 1] + "…"


async def run_for_tenants(
    tenants: Iterable[str],
    work: Callable[[str], Awaitable[T]],
    *,
    concurrency: int,
) -> dict[str, TenantOutcome[T]]:
    """Run ``work(tenant)`` for every tenant, at most ``concurrency`` at once; never raises
    for one tenant's failure (cancellation still propagates)."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    gate = asyncio.Semaphore(concurrency)

    async def one(tenant: str) -> TenantOutcome[T]:
        async with gate:
            try:
                return TenantOutcome(tenant, value=await work(tenant))
            except Exception as error:
                return TenantOutcome(
                    tenant, error=describe_error(error), error_type=type(error).__name__
                )

    outcomes = await together(*(one(t) for t in tenants))
    return {outcome.tenant: outcome for outcome in outcomes}
