"""Shared set-up for the Tripletex sandbox tests: a seed, a server, checked clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from sandboxes.openapi_check import TRIPLETEX_SPEC, OpenAPIChecker
from sandboxes.runner import serve_in_thread
from sandboxes.tripletex.app import create_app

CONSUMER = "sandbox-consumer-token"
TOKEN_A = "token-company-a"
TOKEN_B = "token-company-b"
FUTURE = (dt.date.today() + dt.timedelta(days=2)).isoformat()


def seed() -> dict[str, Any]:
    """Two companies; A has a manager with PM access, a worker, a customer and a project."""
    return {
        "companies": [
            {
                "id": 1001,
                "name": "Bygg A AS",
                "organizationNumber": "911111111",
                "employeeTokens": [{"token": TOKEN_A, "entitlements": ["ALL"]}],
                "employees": [
                    {
                        "id": 11,
                        "firstName": "Kari",
                        "lastName": "Leder",
                        "userType": "EXTENDED",
                        "email": "kari@a.no",
                        "sandboxProjectManager": True,
                    },
                    {
                        "id": 12,
                        "firstName": "Ola",
                        "lastName": "Snekker",
                        "userType": "NO_ACCESS",
                        "employeeNumber": "12",
                    },
                ],
                "customers": [
                    {
                        "id": 21,
                        "name": "Kunde En AS",
                        "organizationNumber": "922222222",
                        "customerNumber": 5001,
                        "email": "post@kunde1.no",
                    },
                ],
                "projects": [
                    {
                        "id": 31,
                        "name": "Tak",
                        "number": "P-1",
                        "startDate": "2024-01-01",
                        "projectManager": {"id": 11},
                        "customer": {"id": 21},
                    },
                ],
                "activities": [
                    {"id": 41, "name": "Timer", "activityType": "PROJECT_GENERAL_ACTIVITY"},
                    {"id": 42, "name": "Spesial", "activityType": "PROJECT_SPECIFIC_ACTIVITY"},
                    {"id": 43, "name": "Admin", "activityType": "GENERAL_ACTIVITY"},
                ],
            },
            {
                "id": 2002,
                "name": "Firma B AS",
                "employeeTokens": [{"token": TOKEN_B, "entitlements": ["customer"]}],
                "employees": [
                    {"id": 51, "firstName": "Per", "lastName": "B", "userType": "NO_ACCESS"}
                ],
                "customers": [{"id": 61, "name": "Bare B AS"}],
            },
        ]
    }


def open_session(base: str, token: str = TOKEN_A) -> str:
    """A session token for an employee token (legacy PUT form)."""
    response = httpx.put(
        f"{base}/v2/token/session/:create",
        params={"consumerToken": CONSUMER, "employeeToken": token, "expirationDate": FUTURE},
    )
    response.raise_for_status()
    return str(response.json()["value"]["token"])


@contextmanager
def sandbox(checker: OpenAPIChecker | None = None, **options: Any) -> Iterator[Any]:
    """Serve a seeded sandbox; yields (base_url, app, client for company A)."""
    app = create_app(options.pop("seed", None) or seed(), **options)
    with serve_in_thread(app) as base:
        hooks = {"response": [checker.sync_hook]} if checker else {}
        with httpx.Client(base_url=f"{base}/v2", event_hooks=hooks) as client:
            client.auth = ("0", open_session(base))
            yield base, app, client


def new_checker() -> OpenAPIChecker:
    """A checker against the real Tripletex spec."""
    return OpenAPIChecker(TRIPLETEX_SPEC, server_prefix="/v2")


@pytest.fixture(scope="module")
def checker() -> Iterator[OpenAPIChecker]:
    """One spec checker per test module; every exchange its tests made must be clean at the end."""
    found = new_checker()
    yield found
    found.assert_clean()


@pytest.fixture
def client(checker: OpenAPIChecker) -> Iterator[httpx.Client]:
    """A client on a freshly seeded sandbox, every exchange checked against the real spec."""
    with sandbox(checker) as (_, _, running):
        yield running
