"""What the generator seeds is exactly what the connectors read back, on both sides."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from connectors.svenn.client import SvennClient
from connectors.tripletex.client import TripletexClient
from sandboxes.pair import sandbox_pair
from sync.records import Entity, Record


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_connectors_read_back_the_seeded_world_without_loss() -> None:
    with sandbox_pair(size="small", seed=3) as pair:
        world = pair.world
        async with (
            TripletexClient(pair.tripletex_url, pair.consumer_token, pair.employee_token) as tx,
            SvennClient(pair.svenn_url, pair.svenn_api_key) as sv,
        ):
            reads: dict[str, tuple[Sequence[Record], Sequence[Record]]] = {
                "tripletex customers": (await tx.list(Entity.CUSTOMER), world.tripletex.customers),
                "tripletex employees": (await tx.list(Entity.EMPLOYEE), world.tripletex.employees),
                "tripletex projects": (await tx.list(Entity.PROJECT), world.tripletex.projects),
                "svenn customers": (await sv.list(Entity.CUSTOMER), world.svenn.customers),
                "svenn employees": (await sv.list(Entity.EMPLOYEE), world.svenn.employees),
                "svenn projects": (await sv.list(Entity.PROJECT), world.svenn.projects),
            }
    for name, (read, seeded) in reads.items():
        expected = {r.id: r.model_dump(exclude={"version"}) for r in seeded}
        got = {r.id: r.model_dump(exclude={"version"}) for r in read}
        assert got == expected, name
