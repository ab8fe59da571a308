"""Fixtures for tests over the REAL server path (see ``harness.py``); every test here is a scenario.

- ``prefect_server`` (session): ``prefect server start`` (Prefect's DB on PostgreSQL when the suite
  uses PostgreSQL, SQLite otherwise; a copy of the run's migrated one, see
  ``tests/migrated_prefect.py``), the process work pool, ``prefect deploy --all``.
- ``server_sandboxes`` (module): both sandboxes seeded from one generated world.
- ``server_worker`` (module): a ``prefect worker`` whose flow runs use those sandboxes and this
  session's state store (same database and schema as ``state_store``).
- ``server_path`` (test): all of the above plus an emptied ``state_store``.

Everything started here is stopped at teardown, process trees included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandboxes.pair import SandboxPair, sandbox_pair
from store.state import StateStore
from tests.conftest import TEST_KEY, postgres_url
from tests.migrated_prefect import MigratedPrefect
from tests.server.harness import PrefectServer, Worker, sandbox_env, store_env

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/server starts real processes: mark it a scenario."""
    for item in items:
        if _HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.scenario)


@pytest.fixture(scope="session")
def prefect_server(migrated_prefect: MigratedPrefect) -> Iterator[PrefectServer]:
    """A real Prefect server with the pool and every deployment of prefect.yaml, on a copy of
    the run's migrated Prefect database."""
    with PrefectServer.start(postgres_url=postgres_url(), migrated=migrated_prefect) as server:
        server.deploy()
        yield server


@pytest.fixture(scope="module")
def server_sandboxes() -> Iterator[SandboxPair]:
    """Both sandboxes for this module's server-path tests."""
    with sandbox_pair(size="small", seed=7) as pair:
        yield pair


@pytest.fixture(scope="module")
def server_worker(
    prefect_server: PrefectServer,
    server_sandboxes: SandboxPair,
    database: tuple[str, str | None],
) -> Iterator[Worker]:
    """A worker whose flow runs talk to this module's sandboxes and this session's store."""
    url, schema = database
    env = store_env(url, schema, TEST_KEY) | sandbox_env(server_sandboxes)
    with prefect_server.worker(env) as worker:
        yield worker


@dataclass
class ServerPath:
    """What a server-path test drives: the server, the worker, the sandboxes, the store."""

    server: PrefectServer
    worker: Worker
    pair: SandboxPair
    store: StateStore

    def wait(self, run_id: str, *states: str, timeout: float = 600.0) -> dict[str, Any]:
        """Wait for a run to reach one of ``states`` (default: a final state)."""
        if states:
            return self.server.wait_for_state(run_id, states, timeout, worker=self.worker)
        return self.server.wait_for_state(run_id, timeout=timeout, worker=self.worker)


@pytest.fixture
def server_path(
    prefect_server: PrefectServer,
    server_worker: Worker,
    server_sandboxes: SandboxPair,
    state_store: StateStore,
) -> ServerPath:
    """The whole server path for one test, over an emptied state store."""
    return ServerPath(prefect_server, server_worker, server_sandboxes, state_store)


@pytest.fixture
def intake_env(
    database: tuple[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[SandboxPair], dict[str, str]]]:
    """Point this process's settings at a pair's sandboxes and this session's store, so the key
    intake (``intake.keys.take_keys``) can run here; returns those variables."""
    from config.settings import load_settings

    def point_at(pair: SandboxPair) -> dict[str, str]:
        url, schema = database
        env = store_env(url, schema, TEST_KEY) | sandbox_env(pair)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        load_settings.cache_clear()
        return env

    yield point_at
    load_settings.cache_clear()


def take_keys_here(pair: SandboxPair) -> Any:
    """The key intake in this process for the pair's tenant (after ``intake_env(pair)``)."""
    import asyncio

    from pydantic import SecretStr

    from intake.keys import take_keys

    return asyncio.run(
        take_keys(pair.tenant, SecretStr(pair.employee_token), SecretStr(pair.svenn_api_key))
    )
