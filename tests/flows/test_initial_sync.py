"""The initial sync end to end: two steps over both sandboxes, messy data, reruns."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import httpx
import pytest
from prefect.artifacts import Artifact

from cli.operate import decide
from flows.initial_sync import initial_sync
from store.failures import open_failures
from store.integrations import get_integration
from store.links import links_for
from sync.entities import Customer
from sync.records import Entity
from tests.flows.conftest import run_activation, writes

pytestmark = pytest.mark.scenario


def activate_and_approve(pair, store) -> str:
    run_activation(pair)
    return decide(store, pair.tenant, "approve", "kari@ops", "plan checked")


def state_of(root: str, path: str) -> dict:
    return httpx.get(f"{root}/_admin/{path}/state").json()


def link_map(store, tenant, entity: Entity) -> dict[str, str]:
    with store.sessions() as session:
        return {link.tripletex_id: link.svenn_id for link in links_for(session, tenant, entity)}


def failures_by_key(store, tenant) -> dict[tuple[str, str], str]:
    with store.sessions() as session:
        return {(f.entity, f.record_key): f.reason_code for f in open_failures(session, tenant)}


def test_initial_sync_links_creates_and_accounts_for_every_record(pipeline, sandboxes, state_store):
    assert activate_and_approve(sandboxes, state_store).endswith("active")
    world = sandboxes.world
    failed = failures_by_key(state_store, sandboxes.tenant)
    for entity, records_tx, records_sv in (
        (Entity.EMPLOYEE, world.tripletex.employees, world.svenn.employees),
        (Entity.CUSTOMER, world.tripletex.customers, world.svenn.customers),
        (Entity.PROJECT, world.tripletex.projects, world.svenn.projects),
    ):
        links = link_map(state_store, sandboxes.tenant, entity)
        assert len(set(links.values())) == len(links)  # one to one
        for record in records_tx:
            assert record.id in links or (entity.value, f"tripletex:{record.id}") in failed
        linked_sv = set(links.values())
        for record in records_sv:
            assert record.id in linked_sv or (entity.value, f"svenn:{record.id}") in failed
        # every pair the generator made to be the same thing is linked, unless it was ambiguous
        # or a rule stopped it
        for tx_id, sv_id in world.truth[entity].items():
            if tx_id in world.ambiguous or sv_id in world.ambiguous:
                continue
            if (entity.value, f"tripletex:{tx_id}") in failed:
                continue
            if (entity.value, f"svenn:{sv_id}") in failed:
                continue
            assert links.get(tx_id) == sv_id, (entity, tx_id, sv_id)
    summary = Artifact.get("initial-sync-summary-t-demo")
    assert summary is not None and "active" in summary.data
    progress = Artifact.get("initial-sync-progress-t-demo")
    assert progress is not None and float(progress.data) == 100.0
    pipeline.assert_clean()


def test_nothing_is_created_twice_on_either_side(pipeline, sandboxes, state_store):
    activate_and_approve(sandboxes, state_store)
    tx_state = state_of(sandboxes.tripletex_root, f"companies/{sandboxes.company_id}")
    sv_state = state_of(sandboxes.svenn_root, f"tenants/{sandboxes.tenant}")
    numbers = Counter(c.get("customerNumber") for c in tx_state["customer"])
    assert all(n == 1 for number, n in numbers.items() if number is not None)
    emails = Counter((e.get("email") or "").lower() for e in tx_state["employee"])
    assert all(n == 1 for email, n in emails.items() if email)
    refs = Counter(c.get("externalRef") for c in sv_state["customers"])
    assert all(n == 1 for ref, n in refs.items() if ref)


def test_ambiguous_records_are_logged_and_nothing_is_created_for_them(
    pipeline, sandboxes, state_store
):
    activate_and_approve(sandboxes, state_store)
    failed = failures_by_key(state_store, sandboxes.tenant)
    ambiguous = {
        key for key, code in failed.items() if code in {"AMBIGUOUS_MATCH", "MATCH_CONFLICT"}
    }
    assert ambiguous, "the messy world holds duplicates within Svenn"
    sv_state = state_of(sandboxes.svenn_root, f"tenants/{sandboxes.tenant}")
    created_refs = {c.get("externalRef") for c in sv_state["customers"]}
    for entity, key in ambiguous:
        side, record_id = key.split(":", 1)
        if side == "tripletex" and entity == "customer":
            assert f"tripletex:{record_id}" not in created_refs


def test_tripletex_refusals_keep_tripletex_own_message(pipeline, sandboxes, state_store):
    """A customer number taken in Tripletex after the extract (a user was quicker): Tripletex
    refuses that item; it is logged with Tripletex's own text and the rest of the batch lands."""
    from connectors.tripletex.client import TripletexClient
    from tasks.apply import Applier

    activate_and_approve(sandboxes, state_store)
    httpx.post(
        f"{sandboxes.tripletex_root}/_admin/companies/{sandboxes.company_id}/edit",
        json={
            "entity": "customer",
            "id": None,
            "changes": {"name": "Rask AS", "customerNumber": 777001},
        },
    ).raise_for_status()
    newcomers = [
        Customer(id="s-new-1", name="Ny Kunde Én AS", customer_number=777000),
        Customer(id="s-new-2", name="Ny Kunde To AS", customer_number=777001),  # taken meanwhile
        Customer(id="s-new-3", name="Ny Kunde Tre AS", customer_number=777002),
    ]
    applier = Applier(state_store, sandboxes.tenant)
    before = len(writes(sandboxes.tripletex_root))

    async def create() -> list:
        async with TripletexClient(
            sandboxes.tripletex_url, sandboxes.consumer_token, sandboxes.employee_token
        ) as tx:
            return await applier.create_in_tripletex(
                tx, Entity.CUSTOMER, newcomers, fallback_manager=None
            )

    created = asyncio.run(create())
    assert sorted(c.customer_number for c in created) == [777000, 777002]
    assert len(writes(sandboxes.tripletex_root)) - before == 2  # the batch, then the rest
    with state_store.sessions() as session:
        refused = [f for f in open_failures(session, sandboxes.tenant) if f.svenn_id == "s-new-2"]
    assert [f.reason_code for f in refused] == ["TARGET_REJECTED"]
    assert refused[0].target_error["status"] == 422
    assert "Nummeret er i bruk" in refused[0].message_en or "i bruk" in refused[0].message_no
    assert sandboxes.employee_token not in str(refused[0].target_error)
    assert set(link_map(state_store, sandboxes.tenant, Entity.CUSTOMER).values()) >= {
        "s-new-1",
        "s-new-3",
    }


def test_step_two_respects_tripletex_rules_before_sending(pipeline, sandboxes, state_store):
    """Managers without project-manager access are logged without a request to Tripletex."""
    activate_and_approve(sandboxes, state_store)
    with state_store.sessions() as session:
        codes = Counter(f.reason_code for f in open_failures(session, sandboxes.tenant))
    assert codes["PROJECT_MANAGER_NO_ACCESS"] > 0


def test_second_initial_sync_writes_nothing(pipeline, sandboxes, state_store):
    activate_and_approve(sandboxes, state_store)
    before_tx = len(writes(sandboxes.tripletex_root))
    before_sv = len(writes(sandboxes.svenn_root))
    links_before = {e: link_map(state_store, sandboxes.tenant, e) for e in Entity}
    result = asyncio.run(initial_sync(sandboxes.tenant))
    assert result["status"] == "active"
    assert len(writes(sandboxes.tripletex_root)) == before_tx
    assert len(writes(sandboxes.svenn_root)) == before_sv
    assert {e: link_map(state_store, sandboxes.tenant, e) for e in Entity} == links_before
    with state_store.sessions() as session:
        assert get_integration(session, sandboxes.tenant).status == "active"


def test_the_runs_sync_tasks_share_one_prefect_client(
    pipeline, sandboxes, state_store, monkeypatch
):
    """A sync task run of an async flow opened a Prefect client of its own, with a new TLS
    context each (≈20 ms of CPU a task run): the runbook's share one."""
    from prefect.client.orchestration import SyncPrefectClient

    activate_and_approve(sandboxes, state_store)
    opened: list[int] = []
    made = SyncPrefectClient.__init__

    def counted(self, *args, **kwargs):
        opened.append(1)
        made(self, *args, **kwargs)

    task_runs: list[str] = []
    monkeypatch.setattr(SyncPrefectClient, "__init__", counted)
    from prefect.task_engine import SyncTaskRunEngine

    started = SyncTaskRunEngine.begin_run

    def begin(self, *args, **kwargs):
        task_runs.append(self.task.name)
        return started(self, *args, **kwargs)

    monkeypatch.setattr(SyncTaskRunEngine, "begin_run", begin)
    assert asyncio.run(initial_sync(sandboxes.tenant))["status"] == "active"
    assert len(task_runs) >= 4, task_runs  # the gate, the checks, the verification, the end
    # Prefect's flow engine opens two as the run starts (its result store's); the runbook one.
    assert len(opened) < len(task_runs), (len(opened), task_runs)


def test_the_preview_the_approver_saw_is_what_the_sync_did(pipeline, sandboxes, state_store):
    activate_and_approve(sandboxes, state_store)
    preview = {row["entity"]: row for row in _table(Artifact.get("plan-counts-t-demo"))}
    done = {row["entity"]: row for row in _table(Artifact.get("initial-sync-counts-t-demo"))}
    for entity in ("employee", "customer", "project"):
        planned, happened = preview[entity], done[entity]
        assert planned["to_link"] == happened["linked"], entity
        assert planned["to_align"] == happened["aligned"], entity
        assert planned["to_create_in_svenn"] == happened["created_in_svenn"], entity
        assert planned["to_create_in_tripletex"] == happened["created_in_tripletex"], entity
        assert planned["will_fail"] == happened["failed"], entity


def _table(artifact) -> list[dict]:
    import json

    assert artifact is not None
    return json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data


def test_a_bad_link_fails_validation_and_the_integration_is_not_activated(
    pipeline, sandboxes, state_store
):
    from flows.activate import ApprovalDecision, record_decision
    from store.links import NewLink, save_links
    from sync.normalize import org_number_digits

    run_activation(sandboxes)
    record_decision.fn(
        state_store, sandboxes.tenant, ApprovalDecision(decision="approve", approver="kari"), None
    )
    world = sandboxes.world
    tx = next(c for c in world.tripletex.customers if c.organization_number and c.is_active)
    sv = next(
        c
        for c in world.svenn.customers
        if c.organization_number
        and org_number_digits(c.organization_number) != tx.organization_number
    )
    with state_store.sessions.begin() as session:  # someone linked the wrong two by hand
        save_links(
            session,
            sandboxes.tenant,
            [NewLink("customer", str(sv.id), str(tx.id), match_key="org_number")],
        )
    result = asyncio.run(initial_sync(sandboxes.tenant))
    assert result["status"] == "failed"
    with state_store.sessions() as session:
        assert get_integration(session, sandboxes.tenant).status == "failed"
        flagged = [
            f for f in open_failures(session, sandboxes.tenant) if f.tripletex_id == str(tx.id)
        ]
    assert [f.reason_code for f in flagged] == ["EXPECTATION_FAILED"]
    assert "different organisation numbers" in flagged[0].message_en
    assert "ulike organisasjonsnumre" in flagged[0].message_no
    summary = Artifact.get("initial-sync-summary-t-demo")
    assert summary is not None and "failed" in summary.data


def test_a_second_run_is_refused_while_another_live_run_holds_the_tenant(
    pipeline, sandboxes, state_store
):
    import datetime as dt

    from flows.activate import ApprovalDecision, record_decision
    from store.integrations import claim_sync

    run_activation(sandboxes)
    record_decision.fn(
        state_store, sandboxes.tenant, ApprovalDecision(decision="approve", approver="kari"), None
    )
    with state_store.sessions.begin() as session:  # a run on another worker is busy with it
        claim_sync(session, sandboxes.tenant, "run-elsewhere", lease=dt.timedelta(seconds=120))
    state = asyncio.run(initial_sync(sandboxes.tenant, return_state=True))
    # One sentence with the time to wait, no traceback: the run ends Failed with it.
    assert state.is_failed()
    assert re.fullmatch(
        r"tenant 't-demo': initial-sync run run-elsewhere is still running \(last sign of life "
        r"\d+ s ago\); wait for it to finish, or rerun in \d+ s if it was killed",
        state.message,
    )
    assert writes(sandboxes.tripletex_root) == []
    assert writes(sandboxes.svenn_root) == []


def test_step_logs_say_what_the_plan_said(pipeline, sandboxes, state_store, caplog):
    """What the run log says each step did is what the approver's plan said it would do."""
    import logging

    run_logger = logging.getLogger("prefect.flow_runs")
    run_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="prefect.flow_runs"):
            activate_and_approve(sandboxes, state_store)
    finally:
        run_logger.removeHandler(caplog.handler)
    preview = {row["entity"]: row for row in _table(Artifact.get("plan-counts-t-demo"))}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for entity in ("employee", "customer", "project"):
        planned = preview[entity]
        one = re.search(
            rf"step 1 {entity}: (\d+) linked, (\d+) created in Svenn, (\d+) failed", logged
        )
        two = re.search(rf"step 2 {entity}: (\d+) created in Tripletex, (\d+) failed", logged)
        assert one and two, logged
        assert int(one[1]) == planned["already_linked"] + planned["to_link"], entity
        assert int(one[2]) == planned["to_create_in_svenn"], entity
        assert int(two[1]) == planned["to_create_in_tripletex"], entity
        # Records refused before sending (e.g. a manager without access) are logged by step 2.
        assert int(one[3]) + int(two[2]) == planned["will_fail"], entity
