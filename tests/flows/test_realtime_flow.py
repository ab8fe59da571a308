"""The realtime-sync flow over several tenants: one with a revoked key among healthy ones,
disabling stops ticks, the run's artifacts, and what `integrations list` shows."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from prefect.artifacts import Artifact
from pydantic import SecretStr
from typer.testing import CliRunner

from cli.main import app
from cli.operate import decide
from flows.realtime_sync import realtime_sync
from store.integrations import ensure_integration, get_integration, transition
from store.models import IntegrationStatus as S
from tests.flows.conftest import run_activation, writes

pytestmark = pytest.mark.scenario

EXTRA = {"t-two": (2002, "tok-two", "svenn-two"), "t-three": (2003, "tok-three", "svenn-three")}


def add_tenant(pair, store, tenant: str) -> None:
    """A second company and tenant in the sandboxes, active in the store (one new customer in
    Svenn that the first tick creates in Tripletex)."""
    company, token, key = EXTRA[tenant]
    httpx.post(
        f"{pair.tripletex_root}/_admin/companies",
        json={
            "id": company,
            "name": f"Firma {tenant}",
            "employeeTokens": [{"token": token, "entitlements": ["ALL"]}],
            "employees": [{"firstName": "Eier", "lastName": tenant, "email": f"eier@{tenant}.no"}],
        },
    ).raise_for_status()
    httpx.post(
        f"{pair.svenn_root}/_admin/tenants",
        json={
            "id": tenant,
            "name": f"Firma {tenant}",
            "apiKey": key,
            "customers": [{"name": f"Kunde av {tenant} AS", "customerNumber": 501}],
        },
    ).raise_for_status()
    with store.sessions.begin() as session:
        integration = ensure_integration(session, tenant)
        integration.employee_token_encrypted = store.cipher.encrypt(SecretStr(token))
        integration.svenn_api_key_encrypted = store.cipher.encrypt(SecretStr(key))
        for status in (S.REVIEW, S.APPROVED, S.SYNCING, S.ACTIVE):
            transition(session, tenant, status, actor="test")


def run_ticks(ticks: int = 1) -> dict:
    return asyncio.run(realtime_sync(max_ticks=ticks, poll_seconds=0.1))


def test_a_revoked_key_fails_one_tenant_visibly_and_the_others_sync(
    pipeline, sandboxes, state_store, caplog, monkeypatch
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    for tenant in EXTRA:
        add_tenant(pair, store, tenant)
    httpx.post(f"{pair.svenn_root}/_admin/tenants/t-three/revoke-key").raise_for_status()

    summary = run_ticks()

    assert set(summary["tenants_failed"]) == {"t-three"}
    with store.sessions() as session:
        states = {t: get_integration(session, t) for t in (pair.tenant, *EXTRA)}
    assert states[pair.tenant].realtime_ok_at is not None
    assert states["t-two"].realtime_ok_at is not None and states["t-two"].last_error is None
    three = states["t-three"]
    assert three.realtime_ok_at is None and three.status == "active"
    assert "Svenn refused the stored key (HTTP 401)" in three.last_error
    created = [w for w in writes(pair.tripletex_root) if w["tenant"] == "2002"]
    assert len(created) == 1  # t-two's new Svenn customer reached its Tripletex company
    for secret in ("svenn-three", "tok-three"):
        assert secret not in three.last_error
        assert secret not in str(summary)
        assert secret not in caplog.text
    artifact = Artifact.get("realtime-sync-counts")
    assert artifact is not None
    table = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    rows = {(row["tenant"], row["entity"]): row for row in table}  # per tenant and entity
    two = rows["t-two", "customer"]
    assert two["changed in Svenn"] == 1 and two["to Tripletex"] == 1  # the new customer
    assert {"in Tripletex", "sent to Svenn", "conflicts", "failed"} <= set(two)
    assert "t-three" not in {tenant for tenant, _ in rows}  # its tick failed: no counts
    markdown = Artifact.get("realtime-sync-summary")
    assert markdown is not None and "t-three" in str(markdown.data)  # ... but it is named
    assert markdown.description and "1 tenant failing" in markdown.description  # one line

    import cli.integrations

    monkeypatch.setattr(cli.integrations.console, "width", 400)
    listing = CliRunner().invoke(app, ["integrations", "list"])
    assert listing.exit_code == 0, listing.output
    assert "never" in listing.output and "HTTP 401" in listing.output
    pipeline.assert_clean()


def test_disabling_an_integration_stops_its_ticks_at_the_next_tick(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    add_tenant(pair, store, "t-two")
    run_ticks()
    with store.sessions.begin() as session:
        transition(session, "t-two", S.DISABLED, actor="kari@ops", reason="paused by the customer")
    httpx.delete(f"{pair.tripletex_root}/_admin/requests").raise_for_status()
    svenn_edit_tenant(pair, "t-two", {"name": "Ny kunde etter stopp AS"})
    run_ticks()
    assert [w for w in writes(pair.tripletex_root) if w["tenant"] == "2002"] == []


def test_disabling_during_a_run_stops_the_tenants_ticks_from_the_next_tick(
    pipeline, sandboxes, state_store, monkeypatch
):
    from tasks import tenant as tenant_wiring

    pair, store = sandboxes, state_store
    add_tenant(pair, store, "t-two")
    run_ticks()  # t-two's first tick: its Svenn customer is created in Tripletex
    disabled: list[bool] = []

    async def ops_disable_mid_run(response: httpx.Response) -> None:
        # while the run's first tick reads t-two's feed: ops disable it and someone adds a
        # customer in Svenn; the run's next ticks must leave t-two alone
        request = response.request
        if disabled or not request.url.path.endswith("/changes"):
            return
        if request.headers.get("authorization") != "Bearer svenn-two":
            return
        disabled.append(True)
        with store.sessions.begin() as session:
            transition(session, "t-two", S.DISABLED, actor="kari@ops", reason="paused")
        body = {
            "entity": "customer",
            "id": None,
            "operation": "create",
            "changes": {"name": "Ny kunde etter stopp AS"},
        }
        async with httpx.AsyncClient() as admin:
            url = f"{pair.svenn_root}/_admin/tenants/t-two/edit"
            (await admin.post(url, json=body)).raise_for_status()

    hooks = dict(tenant_wiring.WIRING.event_hooks or {})
    hooks["response"] = [*hooks.get("response", []), ops_disable_mid_run]
    monkeypatch.setattr(tenant_wiring.WIRING, "event_hooks", hooks)
    httpx.delete(f"{pair.tripletex_root}/_admin/requests").raise_for_status()
    summary = run_ticks(3)
    assert disabled and summary["ticks"] == 3
    assert [w for w in writes(pair.tripletex_root) if w["tenant"] == "2002"] == []


def svenn_edit_tenant(pair, tenant: str, customer: dict) -> None:
    body = {"entity": "customer", "id": None, "operation": "create", "changes": customer}
    httpx.post(f"{pair.svenn_root}/_admin/tenants/{tenant}/edit", json=body).raise_for_status()
