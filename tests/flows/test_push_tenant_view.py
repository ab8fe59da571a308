"""Push status in the tenant API, over HTTP from real activations: ``GET /tenants/{tenant}``
says whether Tripletex changes arrive by push (webhooks) or by polling alone, and why, as a
machine field and one Norwegian sentence; ``/openapi.json`` documents it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from cli.operate import decide
from config.settings import load_settings
from intake.app import create_app
from sandboxes.runner import serve_in_thread
from tasks.tenant_control import turn_off
from tests.flows.conftest import run_activation
from tests.flows.push_support import INTAKE_TOKEN, receiver_root
from tests.flows.test_push_subscriptions import NO_EVENTS_TOKEN, active

pytestmark = pytest.mark.scenario
__all__ = ["receiver_root"]


def push_of(root: str, tenant: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{root}/tenants/{tenant}",
        headers={"Authorization": f"Bearer {INTAKE_TOKEN}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["push"])


@contextmanager
def intake_without_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", INTAKE_TOKEN)
    load_settings.cache_clear()
    with serve_in_thread(create_app(run_on="process")) as root:
        yield root


def test_a_subscribed_tenant_reads_push_and_a_turned_off_one_reads_off(
    pipeline, receiver_root, sandboxes, state_store
):
    pair = sandboxes
    active(pair, state_store)
    push = push_of(receiver_root, pair.tenant)
    assert push["mode"] == "push" and push["reason"] == "SUBSCRIBED"
    assert push["text"].startswith("Endringer i Tripletex kommer med en gang")

    asyncio.run(turn_off(load_settings(), pair.tenant, "ola@kunde.no", "pause"))
    push = push_of(receiver_root, pair.tenant)
    assert (push["mode"], push["reason"]) == ("off", "TURNED_OFF")
    assert "slått av" in push["text"]


def test_a_key_without_permission_reads_polling_and_why(
    pipeline, receiver_root, sandboxes, state_store
):
    pair = sandboxes
    areas = ["customer", "employee", "project", "activity", "timesheet"]  # no "event"
    httpx.post(
        f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/employee-tokens",
        json={"token": NO_EVENTS_TOKEN, "entitlements": areas},
        timeout=30,
    ).raise_for_status()
    run_activation(pair, token=NO_EVENTS_TOKEN)
    decide(state_store, pair.tenant, "approve", "kari@ops", "ok")
    push = push_of(receiver_root, pair.tenant)
    assert (push["mode"], push["reason"]) == ("polling", "NO_PERMISSION")
    assert push["text"].startswith("Endringer i Tripletex hentes ved jevnlig avlesning")
    assert "tilgang" in push["text"] and NO_EVENTS_TOKEN not in push["text"]


def test_without_a_receiver_url_the_tenant_reads_polling_alone(
    pipeline, sandboxes, state_store, monkeypatch
):
    pair = sandboxes
    with intake_without_receiver(monkeypatch) as root:
        active(pair, state_store)
        push = push_of(root, pair.tenant)
        schema = httpx.get(f"{root}/openapi.json", timeout=30).json()
    assert (push["mode"], push["reason"]) == ("polling", "NOT_CONFIGURED")
    documented = schema["components"]["schemas"]["Push"]["properties"]
    assert set(documented["mode"]["enum"]) == {"push", "polling", "off"}
    assert {"NOT_CONFIGURED", "NO_PERMISSION", "SUBSCRIBED"} <= set(documented["reason"]["enum"])
    assert "push" in schema["components"]["schemas"]["TenantAnswer"]["required"]
