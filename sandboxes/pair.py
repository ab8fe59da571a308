"""Both sandboxes seeded from one generated world: the demo, flow tests and benchmarks use this.

The Tripletex company and the Svenn tenant hold the two sides of a :class:`World` (with its
messy overlap), so an initial sync between them has links to find, records to create on each
side and records that must fail.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from sandboxes.datagen import World, generate_world
from sandboxes.runner import serve_in_thread
from sandboxes.svenn.app import create_app as create_svenn
from sandboxes.svenn.seed import tenant_from_dataset
from sandboxes.tripletex.app import create_app as create_tripletex
from sandboxes.tripletex.seed import company_from_dataset

CONSUMER_TOKEN = "sandbox-consumer-token"
COMPANY_ID = 1001
EMPLOYEE_TOKEN = "demo-employee-token"
# A second key of the same company, created without "Alle tilganger": it can read customers only.
LIMITED_TOKEN = "demo-limited-token"
TENANT = "t-demo"
SVENN_API_KEY = "svenn-demo-key"


@dataclass
class SandboxPair:
    """Where the two running sandboxes are and the keys of the seeded tenant."""

    tripletex_url: str  # API root, ends in /v2
    svenn_url: str  # API root, ends in /api/v1
    tripletex_app: Any
    svenn_app: Any
    world: World
    tenant: str = TENANT
    company_id: int = COMPANY_ID
    employee_token: str = EMPLOYEE_TOKEN
    svenn_api_key: str = SVENN_API_KEY
    consumer_token: str = CONSUMER_TOKEN

    @property
    def tripletex_root(self) -> str:
        """The Tripletex sandbox's host URL (for /_admin)."""
        return self.tripletex_url.removesuffix("/v2")

    @property
    def svenn_root(self) -> str:
        """The Svenn sandbox's host URL (for /_admin)."""
        return self.svenn_url.removesuffix("/api/v1")


@functools.cache
def admin_tls() -> ssl.SSLContext:
    """One TLS context for the sandboxes' admin reads, built at the first one the way httpx
    builds it. A module-level httpx call builds a context from certifi's whole bundle (≈25 ms
    of CPU) even for http://, and these reads are polled (every 10 ms while a test waits to
    kill a run)."""
    return httpx.create_ssl_context()


def data_writes(root: str) -> list[dict[str, Any]]:
    """Every write request a sandbox received (session creation is not a data write)."""
    rows = httpx.get(
        f"{root}/_admin/requests", params={"writes_only": "true"}, verify=admin_tls()
    ).json()
    return [r for r in rows if "/token/session" not in r["path"]]


def seeds(
    world: World, employee_token: str = EMPLOYEE_TOKEN, svenn_api_key: str = SVENN_API_KEY
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Tripletex seed, Svenn seed) holding the two sides of ``world``."""
    company = company_from_dataset(world.tripletex, COMPANY_ID, employee_token)
    company["employeeTokens"].append({"token": LIMITED_TOKEN, "entitlements": ["customer"]})
    tenant = tenant_from_dataset(world.svenn, TENANT, svenn_api_key)
    return {"companies": [company]}, {"tenants": [tenant]}


@contextmanager
def sandbox_pair(
    world: World | None = None,
    *,
    size: str | int = "small",
    seed: int = 0,
    rate_limit: int = 100_000,
    rate_window_seconds: float = 10.0,
    tripletex_port: int | None = None,
    svenn_port: int | None = None,
    employee_token: str = EMPLOYEE_TOKEN,
    svenn_api_key: str = SVENN_API_KEY,
) -> Iterator[SandboxPair]:
    """Start both sandboxes on localhost, seeded with ``world`` (generated when not given);
    the tenant's keys can be chosen (e.g. a canary that tests then look for everywhere)."""
    world = world or generate_world(size, seed=seed)
    tripletex_seed, svenn_seed = seeds(world, employee_token, svenn_api_key)
    tripletex_app = create_tripletex(
        tripletex_seed,
        consumer_token=CONSUMER_TOKEN,
        rate_limit=rate_limit,
        rate_window_seconds=rate_window_seconds,
    )
    svenn_app = create_svenn(svenn_seed)
    with ExitStack() as stack:
        tx_root = stack.enter_context(serve_in_thread(tripletex_app, tripletex_port))
        sv_root = stack.enter_context(serve_in_thread(svenn_app, svenn_port))
        yield SandboxPair(
            f"{tx_root}/v2",
            f"{sv_root}/api/v1",
            tripletex_app,
            svenn_app,
            world,
            employee_token=employee_token,
            svenn_api_key=svenn_api_key,
        )
