"""A FIELD_CONFLICT row answered "keep the other value" through the CLI, over both sandboxes:
the value the precedence rule overwrote is written back where it lost, the row is resolved by
the person, and the next tick writes nothing. A row that is no conflict, and a second answer,
change nothing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.operate import decide
from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from store.failures import find_failures, open_failures
from store.links import created_pairs
from tests.flows.conftest import run_activation, writes
from tests.flows.realtime_support import tick

pytestmark = pytest.mark.scenario


def test_keeping_the_overwritten_value_writes_it_back_and_resolves_the_row(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")
    tick(pair, store)
    with store.sessions() as session:
        sv_id, tx_id = created_pairs(session, pair.tenant, "customer")[0]
    svenn_edit(pair, "customer", sv_id, {"email": "fra.svenn@example.no"})
    tripletex_edit(pair, "customer", tx_id, {"email": "fra.tripletex@example.no"})
    tick(pair, store)  # Tripletex wins the same-field conflict
    assert svenn_records(pair, "customer")[sv_id]["email"] == "fra.tripletex@example.no"
    with store.sessions() as session:
        (conflict,) = [
            r
            for r in open_failures(session, pair.tenant)
            if r.reason_code == "FIELD_CONFLICT" and r.svenn_id == sv_id
        ]
        other = next(
            r for r in open_failures(session, pair.tenant) if r.reason_code != "FIELD_CONFLICT"
        )

    runner = CliRunner()
    refused = runner.invoke(
        app, ["failures", "resolve", pair.tenant, str(other.id), "--keep", "svenn", "--by", "kari"]
    )
    assert refused.exit_code == 1 and "only FIELD_CONFLICT rows" in refused.output

    done = runner.invoke(
        app,
        ["failures", "resolve", pair.tenant, str(conflict.id), "--keep", "svenn", "--by", "kari"],
    )
    assert done.exit_code == 0, done.output
    assert tripletex_records(pair, "customer")[tx_id]["email"] == "fra.svenn@example.no"
    assert svenn_records(pair, "customer")[sv_id]["email"] == "fra.svenn@example.no"
    with store.sessions() as session:
        (row,) = find_failures(session, pair.tenant, ids=[conflict.id], status=None)[0]
    assert (row.status, row.resolved_by) == ("resolved", "kari")

    again = runner.invoke(
        app,
        ["failures", "resolve", pair.tenant, str(conflict.id), "--keep", "svenn", "--by", "kari"],
    )
    assert again.exit_code == 0 and "nothing changed" in again.output
    before = len(writes(pair.tripletex_root)), len(writes(pair.svenn_root))
    assert tick(pair, store).writes == 0
    assert (len(writes(pair.tripletex_root)), len(writes(pair.svenn_root))) == before
