"""Tenants split across two workers, as the README's "scaling out" says to run it.

A real Prefect server, the realtime deployment deployed as two shards (shard k of 2 on work
queue ``shard-k``), two ``svenn-sync worker``s (one per queue) and a few hundred active tenants
on the sandboxes, with PostgreSQL as the state store. Read from the sandboxes' request logs:

- every active tenant is ticked, and no inactive one;
- no tenant is ever ticked by two runs at once: a quiet tick is four requests in a row (Svenn's
  change feed, then Tripletex's employee, customer and project checksums), so a second tick of
  the same tenant starting before the first ended shows up as an interleaving;
- a worker stopped mid-window (SIGTERM, as a supervisor stops it) loses nothing: its window is
  ended, and when a worker serves its queue again every tenant of its shard is ticked again,
  an edit made in Svenn meanwhile included.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from sandboxes.pair import SandboxPair
from store.integrations import ensure_integration, transition
from store.models import Integration, IntegrationStatus
from store.state import StateStore
from tasks.fleet import shard_of
from tests.conftest import TEST_KEY, postgres_url
from tests.server.harness import FINAL_STATES, PrefectServer, sandbox_env, store_env

pytestmark = [
    pytest.mark.scenario,
    pytest.mark.skipif(
        postgres_url() is None,
        reason="needs PostgreSQL (CI=true or DATABASE_URL): two workers' flow runs and this test "
        "write one state store at once, which is what shards are run on in production",
    ),
]

REALTIME = "realtime-sync/realtime-sync"
SHARDS = 2
ACTIVE = 200
INACTIVE = 6  # in review or disabled: never ticked
# A new window every 45 s: each hands over to the next (flows/realtime_sync.py), so the test
# sees a handover per shard within its run without starting runs back to back.
EVERY = 45
WINDOW = {"window_seconds": EVERY, "wait_for_next_seconds": 120, "poll_seconds": 2}
QUIET_TICK = ("GET changes", "GET employee", "GET customer", "GET project")


def _tenant(n: int) -> tuple[str, int, str, str]:
    return f"t-shard-{n:03d}", 20_000 + n, f"tok-shard-{n:03d}", f"key-shard-{n:03d}"


def _add_to_sandboxes(pair: SandboxPair, count: int) -> None:
    """``count`` tenants: each an empty Tripletex company and an empty Svenn tenant (what a
    tick reads is the same for any size; an empty one makes the first tick cheap)."""
    with httpx.Client(timeout=60) as http:
        for n in range(count):
            tenant, company, token, key = _tenant(n)
            http.post(
                f"{pair.tripletex_root}/_admin/companies",
                json={
                    "id": company,
                    "name": f"Firma {n}",
                    "employeeTokens": [{"token": token, "entitlements": ["ALL"]}],
                },
            ).raise_for_status()
            http.post(
                f"{pair.svenn_root}/_admin/tenants",
                json={"id": tenant, "name": f"Firma {n}", "apiKey": key},
            ).raise_for_status()


def _keep_keys(store: StateStore, count: int, first: int = 0, active: bool = True) -> None:
    """The integrations of tenants ``first`` .. ``first+count-1``: keys stored, and active
    (as after an approved initial sync) or left in review."""
    steps = [IntegrationStatus.REVIEW]
    if active:
        steps += [IntegrationStatus.APPROVED, IntegrationStatus.SYNCING, IntegrationStatus.ACTIVE]
    with store.sessions.begin() as session:
        for n in range(first, first + count):
            tenant, _, token, key = _tenant(n)
            row = ensure_integration(session, tenant)
            row.employee_token_encrypted = store.cipher.encrypt(SecretStr(token))
            row.svenn_api_key_encrypted = store.cipher.encrypt(SecretStr(key))
            for status in steps:
                transition(session, tenant, status, actor="test")


def _requests(pair: SandboxPair, company_tenant: dict[str, str]) -> list[tuple[float, str, str]]:
    """(arrival, tenant, what) of every data request both sandboxes logged, in arrival order;
    ``what`` is the method and the path's last part (``GET changes``: Svenn's change feed)."""
    rows: list[tuple[float, str, str]] = []
    for root, system in ((pair.svenn_root, "svenn"), (pair.tripletex_root, "tripletex")):
        for row in httpx.get(f"{root}/_admin/requests", timeout=120).json():
            if "/token/session" in row["path"] or row["tenant"] is None:
                continue
            tenant = row["tenant"] if system == "svenn" else company_tenant.get(row["tenant"])
            if tenant is None:
                continue
            what = row["path"].rstrip("/").rsplit("/", 1)[-1]
            rows.append((row["at"], tenant, f"{row['method']} {what}"))
    rows.sort()
    return rows


def _wait(what: str, done: Callable[[], bool], within: float = 900.0) -> None:
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        time.sleep(3)


def _ticks(calls: list[tuple[float, str]], cut: Callable[[float], bool]) -> list[list[str]]:
    """One tenant's requests split into ticks (each starts with a change-feed read); fails on
    a tick that is not a quiet tick, or is cut short where ``cut(at of its last request)`` does
    not allow it."""
    ticks: list[list[str]] = []
    last: list[float] = []
    for at, what in calls:
        if what == "GET changes":
            ticks.append([])
            last.append(at)
        assert ticks, f"a request before any tick: {calls[:6]}"
        ticks[-1].append(what)
        last[-1] = at
    for n, (tick, at) in enumerate(zip(ticks, last, strict=True)):
        whole = tuple(tick) == QUIET_TICK
        short = tuple(tick) == QUIET_TICK[: len(tick)] and (n == len(ticks) - 1 or cut(at))
        around = ticks[max(0, n - 2) : n + 2]
        assert whole or short, f"tick {n}: {tick} (two runs at once?)\n{around}"
    return ticks


@pytest.fixture
def fleet(server_sandboxes: SandboxPair, state_store: StateStore) -> dict[str, str]:
    """ACTIVE active tenants and INACTIVE ones in review; company id -> tenant."""
    pair = server_sandboxes
    for root in (pair.svenn_root, pair.tripletex_root):
        httpx.delete(f"{root}/_admin/requests", timeout=60).raise_for_status()
    _add_to_sandboxes(pair, ACTIVE + INACTIVE)
    _keep_keys(state_store, ACTIVE)
    _keep_keys(state_store, INACTIVE, first=ACTIVE, active=False)
    return {str(_tenant(n)[1]): _tenant(n)[0] for n in range(ACTIVE + INACTIVE)}


def _live(server: PrefectServer, deployment: str) -> list[dict[str, Any]]:
    return [
        run
        for run in server.flow_runs(deployment)
        if (run.get("state") or {}).get("type") == "RUNNING"
    ]


def test_two_workers_on_two_shards_tick_every_tenant_once_at_a_time_and_survive_a_stop(
    prefect_server: PrefectServer,
    server_sandboxes: SandboxPair,
    database: tuple[str, str | None],
    state_store: StateStore,
    fleet: dict[str, str],
) -> None:
    server, pair = prefect_server, server_sandboxes
    url, schema = database
    env = store_env(url, schema, TEST_KEY) | sandbox_env(pair)
    active = [_tenant(n)[0] for n in range(ACTIVE)]
    shard = {tenant: shard_of(tenant, SHARDS) for tenant in active}
    first, second = ([t for t in active if shard[t] == k] for k in range(SHARDS))
    assert 60 < len(second) < ACTIVE - 60, "the shards split the fleet"
    names = [server.deploy_shard(REALTIME, k, SHARDS) for k in range(SHARDS)]
    edited, name = second[0], "Kunde lagt inn mens ingen jobbet AS"

    def ticked_round(tenants: list[str], what: str) -> None:
        """Wait until each of ``tenants`` has had a successful tick that started after now."""
        since = dt.datetime.now(dt.UTC)
        _wait(what, lambda: all(at > since for at in _last_ticks(state_store, tenants)))

    with ExitStack() as stack:
        for deployment in names:
            stack.callback(server.pause, deployment)
        stack.enter_context(server.svenn_sync_worker(env, "shard-0", queue="shard-0"))
        worker = stack.enter_context(server.svenn_sync_worker(env, "shard-1", queue="shard-1"))
        for deployment in names:
            server.run_on_schedule(deployment, EVERY, WINDOW)

        # a tenant's first ticks compare everything once; after two rounds every tenant is quiet
        for _ in range(2):
            ticked_round(active, "every active tenant ticked")
        quiet_from = time.time()
        for _ in range(2):
            ticked_round(active, "every active tenant ticked (quiet)")
        _wait("a window of shard 1 running", lambda: bool(_live(server, names[1])))
        (window, *_) = _live(server, names[1])
        stopped_at = time.time()
        assert worker.terminate() == 0, worker.output()
        ended = server.wait_for_state(window["id"], FINAL_STATES, timeout=120)
        assert ended["state"]["type"] in {"CRASHED", "CANCELLED"}, ended["state"]
        assert not _live(server, names[1]), "a window of the stopped worker still runs"

        _svenn_create_customer(pair, edited, name)
        edited_at = time.time()
        ticked_round(first, "shard 0 ticked while shard 1 had no worker")

        restarted_at = time.time()
        stack.enter_context(server.svenn_sync_worker(env, "shard-1-again", queue="shard-1"))
        for _ in range(2):
            ticked_round(second, "every tenant of shard 1 ticked again after the restart")
        _wait(
            "the customer created in Svenn while no worker ran reached Tripletex",
            lambda: name in _tripletex_customer_names(pair, edited, fleet),
        )

    everyone = _requests(pair, fleet)
    assert {tenant for _, tenant, _ in everyone} == set(active), "inactive tenants were ticked"
    idle = {t for at, t, what in everyone if edited_at + 5 < at < restarted_at and t in second}
    assert not idle, f"{len(idle)} tenants of the stopped shard were ticked with no worker"
    calls: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for at, tenant, what in everyone:
        if at >= quiet_from and (calls[tenant] or what == "GET changes"):
            calls[tenant].append((at, what))

    def stopped(at: float) -> bool:  # the tick the stop cut short
        return stopped_at - 30 <= at <= restarted_at

    for tenant in active:
        if tenant == edited:  # the customer created in Svenn made one tick more than quiet
            continue
        ticks = _ticks(calls[tenant], stopped if shard[tenant] == 1 else lambda _at: False)
        assert len(ticks) >= 3, (tenant, ticks)


def _last_ticks(store: StateStore, tenants: list[str]) -> list[dt.datetime]:
    """When each tenant's last successful tick was (the epoch if never)."""
    never = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    with store.sessions() as session:
        rows = dict(
            session.execute(
                select(Integration.tenant, Integration.realtime_ok_at).where(
                    Integration.tenant.in_(tenants)
                )
            ).all()
        )
    return [_aware(rows.get(tenant)) or never for tenant in tenants]


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    return at.replace(tzinfo=dt.UTC) if at is not None and at.tzinfo is None else at


def _svenn_create_customer(pair: SandboxPair, tenant: str, name: str) -> None:
    body = {"entity": "customer", "operation": "create", "changes": {"name": name}}
    url = f"{pair.svenn_root}/_admin/tenants/{tenant}/edit"
    httpx.post(url, json=body, timeout=60).raise_for_status()


def _tripletex_customer_names(pair: SandboxPair, tenant: str, fleet: dict[str, str]) -> set[str]:
    company = next(c for c, t in fleet.items() if t == tenant)
    url = f"{pair.tripletex_root}/_admin/companies/{company}/state"
    return {str(r.get("name")) for r in httpx.get(url, timeout=60).json()["customer"]}
