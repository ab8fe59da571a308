"""The README's server rehearsal works exactly as printed: its shell block, read from the README,
runs with ``bash -e`` (every line must succeed) on free ports with a temporary store and
Prefect home, the way ``make rehearsal`` runs it. The tenant ends active, the realtime run the
block starts ticks it, and nothing the block started outlives the rehearsal."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandboxes.runner import free_port
from scripts.rehearsal import ROOT, marked, rehearsal_block, rehearse
from store.db import make_engine, session_factory
from store.integrations import get_integration

pytestmark = pytest.mark.scenario
PORTS = ("4200", "8701", "8702", "8710")
REALTIME = "realtime-sync/realtime-sync"


def printed_block(data_dir: Path) -> str:
    """The README's block with free ports and a temporary data directory (nothing else)."""
    block = rehearsal_block((ROOT / "README.md").read_text())
    for port in PORTS:
        assert f"127.0.0.1:{port}" in block, port
        block = block.replace(port, str(free_port()))
    assert "data/rehearsal" in block
    return block.replace("data/rehearsal", str(data_dir))


def integration_of(store_url: str, tenant: str) -> Any:
    engine = make_engine(store_url)
    try:
        with session_factory(engine)() as session:
            return get_integration(session, tenant)
    finally:
        engine.dispose()


def realtime_runs(api: str) -> list[dict[str, Any]]:
    deployment = httpx.get(f"{api}/deployments/name/{REALTIME}", timeout=30).json()
    body = {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}}
    return list(httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).json())


def test_the_readme_rehearsal_runs_as_printed_and_ends_with_a_realtime_tick(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "rehearsal"
    block = printed_block(data_dir)
    match = re.search(r"PREFECT_API_URL=(http://127\.0\.0\.1:\d+/api)", block)
    assert match is not None
    api = match.group(1)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "SVENN_SYNC_")) and name != "DATABASE_URL"
    }
    # Not the machine's own Prefect, and no migrated copy of Prefect's database in it: a
    # reader's first rehearsal, whose `wait-for` must hold the block while the new server
    # migrates its empty database.
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    store_url = f"sqlite:///{data_dir / 'state.db'}"
    output = tmp_path / "rehearsal.out"
    with output.open("wb") as out, rehearse(block, env, out.fileno()) as mark:
        printed = output.read_text(errors="replace")
        assert "Traceback" not in printed and "error:" not in printed, printed
        integration = integration_of(store_url, "t-demo")
        assert integration is not None and integration.status == "active", printed
        assert realtime_runs(api), printed  # the block's last line started one
        deadline = time.monotonic() + 600  # a bound on a slow machine, not a speed target
        while integration.realtime_ok_at is None and time.monotonic() < deadline:
            time.sleep(1)
            integration = integration_of(store_url, "t-demo")
        assert integration.realtime_ok_at is not None, realtime_runs(api)
        assert marked(mark)  # the services were still up while the checks ran
    assert marked(mark) == []
