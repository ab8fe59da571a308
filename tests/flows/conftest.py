"""Flow tests: real Prefect flows (test harness) against both sandboxes over HTTP.

Each test gets both sandboxes seeded from a generated world, an empty state store (PostgreSQL in
CI), settings pointing at all three, and an OpenAPI checker on every request the connectors
send: the real Tripletex spec and our Svenn contract.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.settings import PREFECT_API_URL

from config.settings import load_settings
from sandboxes.openapi_check import SVENN_SPEC, TRIPLETEX_SPEC, OpenAPIChecker
from sandboxes.pair import SandboxPair, data_writes, sandbox_pair
from store.state import StateStore
from tasks import tenant as tenant_wiring


@dataclass
class SpecGuard:
    """Routes each exchange to the checker of the system it went to."""

    tripletex: OpenAPIChecker
    svenn: OpenAPIChecker
    pair: SandboxPair

    async def hook(self, response: httpx.Response) -> None:
        await response.aread()
        url = str(response.request.url)
        if url.startswith(self.pair.tripletex_url):
            self.tripletex.check(response.request, response)
        elif url.startswith(self.pair.svenn_url):
            self.svenn.check(response.request, response)

    def assert_clean(self) -> None:
        assert self.tripletex.checked and self.svenn.checked
        self.tripletex.assert_clean()
        self.svenn.assert_clean()


_CHECKERS: dict[str, OpenAPIChecker] = {}


def _checker(spec: Any, prefix: str) -> OpenAPIChecker:
    # Parsing the 3.7 MB Tripletex spec once per session keeps the flow tests fast.
    key = f"{spec}|{prefix}"
    if key not in _CHECKERS:
        _CHECKERS[key] = OpenAPIChecker(spec, server_prefix=prefix)
    checker = _CHECKERS[key]
    checker.violations.clear()
    checker.checked = 0
    return checker


@pytest.fixture
def world_size() -> str:
    """Override in a test module to seed a different world."""
    return "small"


@pytest.fixture
def sandboxes(world_size: str) -> Iterator[SandboxPair]:
    with sandbox_pair(size=world_size, seed=7) as pair:
        yield pair


@pytest.fixture
def sync_env(
    sandboxes: SandboxPair,
    database: tuple[str, str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """Settings pointing at ``sandboxes`` and this session's store (no Prefect needed)."""
    url, schema = database
    monkeypatch.setenv("SVENN_SYNC_DATABASE_URL", url)
    if schema:
        monkeypatch.setenv("SVENN_SYNC_DATABASE_SCHEMA", schema)
    monkeypatch.setenv("SVENN_SYNC_TRIPLETEX_BASE_URL", sandboxes.tripletex_url)
    monkeypatch.setenv("SVENN_SYNC_SVENN_BASE_URL", sandboxes.svenn_url)
    monkeypatch.setenv("SVENN_SYNC_TRIPLETEX_CONSUMER_TOKEN", sandboxes.consumer_token)
    monkeypatch.setenv("SVENN_SYNC_ENCRYPTION_KEY", os.environ.get("TEST_KEY", _test_key()))
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


@pytest.fixture
def pipeline(
    prefect_harness: Path,
    sync_env: None,
    sandboxes: SandboxPair,
    state_store: StateStore,
    monkeypatch: pytest.MonkeyPatch,
) -> SpecGuard:
    """Settings and wiring for a flow run against ``sandboxes`` and ``state_store``."""
    guard = SpecGuard(_checker(TRIPLETEX_SPEC, "/v2"), _checker(SVENN_SPEC, "/api/v1"), sandboxes)
    monkeypatch.setattr(tenant_wiring.WIRING, "event_hooks", {"response": [guard.hook]})
    return guard


def _test_key() -> str:
    from tests.conftest import TEST_KEY

    return TEST_KEY


OTHER_COMPANY = 2002
OTHER_COMPANY_TOKEN = "other-company-employee-token"
OTHER_TENANT = "t-other"
OTHER_SVENN_KEY = "svenn-other-key"


@pytest.fixture
def second_accounts(sandboxes):
    """A second Tripletex company and a second Svenn tenant, each with its own key."""
    company = {
        "id": OTHER_COMPANY,
        "name": "Annen Bygg AS",
        "employeeTokens": [{"token": OTHER_COMPANY_TOKEN, "entitlements": ["ALL"]}],
        "employees": [{"firstName": "Ola", "lastName": "Annen", "userType": "EXTENDED"}],
    }
    tenant = {"id": OTHER_TENANT, "name": "Annen Kunde AS", "apiKey": OTHER_SVENN_KEY}
    httpx.post(f"{sandboxes.tripletex_root}/_admin/companies", json=company).raise_for_status()
    httpx.post(f"{sandboxes.svenn_root}/_admin/tenants", json=tenant).raise_for_status()


writes = data_writes  # the name the flow tests read best with


def take_keys(pair: SandboxPair, token: str | None = None, svenn_key: str | None = None) -> Any:
    """The key intake for the seeded tenant: Accepted, or the Refusal (nothing stored)."""
    from pydantic import SecretStr

    from intake.keys import take_keys as intake

    return asyncio.run(
        intake(
            pair.tenant,
            SecretStr(token or pair.employee_token),
            SecretStr(svenn_key or pair.svenn_api_key),
        )
    )


def run_activation(pair: SandboxPair, token: str | None = None, **options: Any) -> Any:
    """Take the keys, then run the activation flow (by default: do not wait for approval)."""
    from flows.activate import activate
    from intake.keys import Accepted

    taken = take_keys(pair, token)
    assert isinstance(taken, Accepted), f"the keys were refused: {taken}"

    async def run() -> Any:
        return await activate(pair.tenant, **({"approval_timeout_seconds": 0} | options))

    return asyncio.run(run())


class ActivationInBackground:
    """An activation run waiting for a decision in another thread (as a worker would run it)."""

    def __init__(self, pair: SandboxPair) -> None:
        self.outcome: dict[str, Any] = {}
        self.thread = threading.Thread(
            target=lambda: self.outcome.update(
                result=run_activation(pair, approval_timeout_seconds=120, approval_poll_seconds=1)
            )
        )
        self.thread.start()

    def result(self, timeout: float = 180) -> Any:
        """The run's result once it has finished."""
        self.thread.join(timeout=timeout)
        return self.outcome.get("result")


def kill_when(module_args: list[str], ready: Callable[[], bool], *, within: float = 180) -> bool:
    """Run ``python -m <module_args>`` against this test's Prefect server and SIGKILL it as soon
    as ``ready()`` holds (polled); True if it was killed, False if it ended first or timed out."""
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    process = subprocess.Popen(
        [sys.executable, "-m", *module_args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + within
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if ready():
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.01)
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
