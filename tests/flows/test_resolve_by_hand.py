"""Issue 25 through the real path: on a messy world (sandboxes/datagen_shapes.py) a person
clears every held-back record with the CLI (link, keep-apart, a duplicate left out, not a
duplicate), and the records and their projects end up linked or created exactly once; then a
realtime tick and a reconciliation write nothing more. Bad input is refused in one sentence
and changes nothing; the same decision twice is a no-op; unlink undoes without deleting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.operate import decide
from flows.reconcile import reconcile
from sandboxes.datagen import WorldSize, generate_world
from sandboxes.ground_truth import judge
from sandboxes.pair import SandboxPair, sandbox_pair
from store.failures import find_failures, open_failures
from store.links import links_for
from store.models import FailedRecord
from sync.records import SYNC_ORDER
from tests.flows.conftest import run_activation, writes
from tests.flows.realtime_support import tick

pytestmark = pytest.mark.scenario

HELD_BACK = {"AMBIGUOUS_MATCH", "MATCH_CONFLICT", "DUPLICATE_IN_SOURCE"}
PERSON = "kari@tenant"


@pytest.fixture
def sandboxes() -> Iterator[SandboxPair]:
    world = generate_world(WorldSize(36, 12, 10, 2), seed=12, shape_share=0.1)
    with sandbox_pair(world) as pair:
        yield pair


def svenn_sync(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, list(args))
    return done.exit_code, done.output


def held_back(store, tenant, also: frozenset[str] = frozenset()) -> list[FailedRecord]:
    with store.sessions() as session:
        return [r for r in open_failures(session, tenant) if r.reason_code in HELD_BACK | also]


def answer(
    row: FailedRecord, origin: dict[str, str], tenant: str, partner: dict[str, str]
) -> list[list[str]]:
    """What a person who knows the real world types for one held-back row (``partner``:
    record key → the key it is linked to)."""
    side, own = row.record_key.split(":", 1)
    other = "svenn" if side == "tripletex" else "tripletex"
    details = row.target_error or {}
    thing = origin[row.record_key]
    base = [tenant, row.entity, f"--{side}", own, "--by", PERSON]
    if row.reason_code == "EXPECTATION_FAILED":  # e.g. a number twice: the other copy is linked
        copies = [k for k in partner if k.startswith(f"{side}:") and origin.get(k) == thing]
        return [["link", *base, "--of", copies[0].split(":", 1)[1]]] if copies else []
    if row.reason_code == "DUPLICATE_IN_SOURCE":
        same = [i for i in details["duplicate_of"] if origin.get(f"{side}:{i}") == thing]
        if same:
            return [["link", *base, "--of", same[0], "--reason", "same company twice"]]
        return [["keep-apart", *base, "--of", i] for i in details["duplicate_of"]]
    commands = []
    for i in details.get("lookalikes") or []:
        verb = "link" if origin.get(f"{side}:{i}") == thing else "keep-apart"
        commands.append([verb, *base, "--of", i])
    # Two copies of the thing on the other side: link one; the other is its duplicate there.
    twins = [i for i in details["candidates"] if origin.get(f"{other}:{i}") == thing][:1]
    taken = [partner[f"{other}:{i}"] for i in twins if f"{other}:{i}" in partner]
    if taken:  # its twin is linked to a copy of the thing on this side: this one is a duplicate
        return [["link", *base, "--of", taken[0].split(":", 1)[1]]]
    for i in details["candidates"]:
        if i in twins or origin.get(f"{other}:{i}") != thing:
            verb = "link" if i in twins else "keep-apart"
            commands.append([verb, *base, f"--{other}", i])
    return commands


def test_a_person_clears_every_held_back_record_and_each_thing_syncs_once(
    pipeline, sandboxes, state_store
):
    tenant, origin = sandboxes.tenant, sandboxes.world.origin
    run_activation(sandboxes)
    assert decide(state_store, tenant, "approve", "ops@svenn", "ok").endswith("active")
    tick(sandboxes, state_store)  # ticks run from now on; the first holds back more
    first = held_back(state_store, tenant)
    assert {r.reason_code for r in first} >= {"AMBIGUOUS_MATCH", "DUPLICATE_IN_SOURCE"}

    typed: list[list[str]] = []
    for _ in range(4):  # a decision can release a neighbour's row: answer until none is left
        rows = held_back(state_store, tenant, frozenset({"EXPECTATION_FAILED"}))
        answered = False
        for row in rows:
            still_open = held_back(state_store, tenant, frozenset({"EXPECTATION_FAILED"}))
            if row.id not in {r.id for r in still_open}:
                continue  # an earlier answer cleared it
            for command in answer(row, origin, tenant, _partners(state_store, tenant)):
                code, output = svenn_sync(*command)
                assert code == 0 or "already" in output, (command, output)
                typed.append(command)
                answered = True
        if not answered:
            break
    assert held_back(state_store, tenant) == []
    assert any(c[0] == "link" and "--of" not in c for c in typed)

    with state_store.sessions() as session:
        cleared, _ = find_failures(session, tenant, ids=[r.id for r in first], status=None)
        assert all(str(r.resolved_by).startswith(PERSON) for r in cleared), [
            (r.record_key, r.reason_code, r.status, r.resolved_by)
            for r in cleared
            if not str(r.resolved_by).startswith(PERSON)
        ]
        links = [
            (link.tripletex_id, link.svenn_id)
            for entity in SYNC_ORDER
            for link in links_for(session, tenant, entity.value)
        ]
        failed = [
            (*f.record_key.split(":", 1), f.reason_code)
            for f in open_failures(session, tenant)
            if f.entity in {e.value for e in SYNC_ORDER}
        ]
    left_out = {f"{c[3][2:]}:{c[4]}" for c in typed if c[0] == "link" and "--of" in c}
    outcome = judge(sandboxes.world, links=links, present=_present(sandboxes), failed=failed)
    assert outcome.false_merges == []
    assert outcome.duplicates_created == []
    assert outcome.missing == [], "a thing the rules allow is not on both sides"
    assert set(outcome.unaccounted) == left_out, "only confirmed duplicates sit out"
    assert outcome.unexplained == []
    assert "PROJECT_CUSTOMER_NOT_LINKED" not in {reason for _, _, reason in failed}

    before = len(writes(sandboxes.tripletex_root)), len(writes(sandboxes.svenn_root))
    linked = next(c for c in typed if c[0] == "link" and "--of" not in c)
    _refusals_change_nothing(state_store, tenant, linked)
    report = tick(sandboxes, state_store)
    assert report.writes == 0
    asyncio.run(reconcile(tenant))
    assert (len(writes(sandboxes.tripletex_root)), len(writes(sandboxes.svenn_root))) == before
    assert held_back(state_store, tenant) == []


def _refusals_change_nothing(store, tenant: str, linked: list[str]) -> None:
    """Bad input is one sentence and changes nothing; a repeat is a no-op; unlink undoes."""
    _, _, entity, side, own, _, _, other, their = linked[:9]
    snapshot = _links(store, tenant)
    refused = {
        "another entity": ["link", tenant, "employee", side, own, other, their],
        "another tenant": ["link", "t-nobody", entity, side, own, other, their],
        "an id that is not there": ["link", tenant, entity, side, own, other, "999999"],
        "already linked elsewhere": ["keep-apart", tenant, entity, side, own, other, their],
    }
    for why, command in refused.items():
        code, output = svenn_sync(*command, "--by", PERSON)
        assert code == 1, (why, output)
        assert output.count("error: ") == 1 and len(output.strip().splitlines()) == 1, output
        assert _links(store, tenant) == snapshot, why
    code, output = svenn_sync(*linked)
    assert code == 0 and "already linked; nothing changed" in output
    code, output = svenn_sync("unlink", tenant, entity, side, own, other, their, "--by", PERSON)
    assert code == 0 and "nothing was deleted" in output, output
    assert len(_links(store, tenant)) == len(snapshot) - 1
    code, output = svenn_sync(*linked)  # linked again: both sides agree, nothing to write
    assert code == 0 and "nothing changed" in output, output
    assert {link[:3] for link in _links(store, tenant)} == {link[:3] for link in snapshot}


def _partners(store, tenant: str) -> dict[str, str]:
    found = {}
    for _, svenn_id, tripletex_id, _ in _links(store, tenant):
        found[f"svenn:{svenn_id}"] = f"tripletex:{tripletex_id}"
        found[f"tripletex:{tripletex_id}"] = f"svenn:{svenn_id}"
    return found


def _links(store, tenant: str) -> list[tuple[str, str, str, str | None]]:
    with store.sessions() as session:
        return sorted(
            (entity.value, link.svenn_id, link.tripletex_id, link.svenn_fingerprint)
            for entity in SYNC_ORDER
            for link in links_for(session, tenant, entity.value)
        )


def _present(pair: SandboxPair) -> dict[str, list[str]]:
    tx = httpx.get(f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/state").json()
    sv = httpx.get(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/state").json()
    return {
        "tripletex": [str(r["id"]) for k in ("employee", "customer", "project") for r in tx[k]],
        "svenn": [str(r["id"]) for k in ("employees", "customers", "projects") for r in sv[k]],
    }
