"""A tenant with held-back records, activated and approved for real, and the intake serving its
side (status, log and the Logg page) over HTTP: shared by the API and the browser tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from pydantic import SecretStr

from cli.operate import decide
from intake.app import create_app
from intake.logg_link import sign
from sandboxes.live_edits import svenn_edit
from sandboxes.pair import SandboxPair
from sandboxes.runner import serve_in_thread
from scripts.browser import chromium_page as browser_page
from tests.flows.conftest import run_activation

INTAKE_TOKEN = "intake-bearer-for-tenant-view-tests"
LINK_KEY = "logg-link-key-for-tests"
HANSEN = "Hansen Bygg AS"
SCRIPT_NAME = "<script>document.title='hacked'</script> Rør AS"
EXTRA_HELD_BACK = 24  # with the world's own, more open rows than one page of the Logg holds


@dataclass
class TenantSide:
    """The served intake, the tenant behind it, and the Svenn ids of the planted customers."""

    url: str
    pair: SandboxPair
    planted: dict[str, str]

    def get(self, path: str, **params: Any) -> httpx.Response:
        """GET ``path`` with the bearer token."""
        headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
        return httpx.get(self.url + path, params=params, headers=headers, timeout=60)

    def logg_url(self, tenant: str | None = None, *, valid_for: float = 600) -> str:
        """A signed link to the Logg page of ``tenant`` (default: this tenant)."""
        tenant = tenant or self.pair.tenant
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=valid_for)
        return f"{self.url}/tenants/{tenant}/logg?sig={sign(SecretStr(LINK_KEY), tenant, expires)}"


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A page in Debian's Chromium driven by Playwright (the driver `make screenshots` uses)."""
    with browser_page(width=1100, height=1400) as page:
        yield page


def plant_held_back_customers(pair: SandboxPair) -> dict[str, str]:
    """Svenn customers Tripletex cannot take (letter customer numbers): held back, logged."""
    planted = {}
    names = (HANSEN, SCRIPT_NAME, *(f"Bokstavkunde {n} AS" for n in range(EXTRA_HELD_BACK)))
    for n, name in enumerate(names, start=1):
        record = svenn_edit(
            pair,
            "customer",
            None,
            {"name": name, "customerNumber": f"K-{n}", "email": f"post{n}@kunde{n}.no"},
        )
        assert record is not None
        planted[name] = record["id"]
    return planted


@pytest.fixture
def tenant_side(
    pipeline: Any, sandboxes: SandboxPair, state_store: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TenantSide]:
    """The seeded tenant activated and approved (initial sync done), with its side served."""
    from config.settings import load_settings

    planted = plant_held_back_customers(sandboxes)
    run_activation(sandboxes)
    assert decide(state_store, sandboxes.tenant, "approve", "kari@ops", "ok").endswith("active")
    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SVENN_SYNC_LOGG_LINK_KEY", LINK_KEY)
    load_settings.cache_clear()
    with serve_in_thread(create_app(run_on="process")) as root:
        yield TenantSide(root, sandboxes, planted)
