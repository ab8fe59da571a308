"""kill -9 of the CLI leaves no process behind (its temporary Prefect server dies with it), and
the run it was running is marked Crashed by the next CLI instead of staying Running."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.prefect_server import TEMPORARY_DATABASE
from sandboxes.pair import sandbox_pair
from store.activation_runs import APPROVAL_WAIT
from tests.conftest import TEST_KEY
from tests.migrated_prefect import MigratedPrefect

pytestmark = [
    pytest.mark.scenario,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and prctl"),
]
CLI = Path(sys.executable).with_name("svenn-sync")


def children(pid: int) -> set[int]:
    """Every living descendant of ``pid`` (from /proc)."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except FileNotFoundError:
            continue
        for child in map(int, text.split()):
            found |= {child} | children(child)
    return found


def activation_run(tmp_path: Path) -> str | None:
    """The id of the activation flow run once it exists and took the tenant's review (read from
    the CLI's SQLite store). The key intake puts the tenant in review *before* that flow run is
    created, so "in review" alone is no sign that there is a run to kill."""
    try:
        with sqlite3.connect(tmp_path / "state.db") as db:
            rows = db.execute(
                "SELECT holder FROM leases WHERE purpose = ? AND holder IS NOT NULL",
                (APPROVAL_WAIT,),
            ).fetchall()
    except sqlite3.Error:
        return None
    return rows[0][0] if rows else None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_kill_9_of_the_cli_leaves_no_prefect_server_running(
    tmp_path: Path, migrated_prefect: MigratedPrefect
) -> None:
    # Not a first run on a fresh machine: the CLI's server starts on a migrated database.
    migrated_prefect.copy_sqlite(tmp_path / "prefect" / TEMPORARY_DATABASE)
    with sandbox_pair(size="small", seed=3) as pair:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "CI"))}
        env |= {
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "SVENN_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
            "SVENN_SYNC_TRIPLETEX_BASE_URL": pair.tripletex_url,
            "SVENN_SYNC_SVENN_BASE_URL": pair.svenn_url,
            "SVENN_SYNC_TRIPLETEX_CONSUMER_TOKEN": pair.consumer_token,
            "SVENN_SYNC_ENCRYPTION_KEY": TEST_KEY,
            "TRIPLETEX_EMPLOYEE_TOKEN": pair.employee_token,
            "SVENN_API_KEY": pair.svenn_api_key,
        }
        env.pop("SVENN_SYNC_DATABASE_SCHEMA", None)
        cli = subprocess.Popen(
            [str(CLI), "activate", pair.tenant, "--wait", "600"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        everything: set[int] = set()
        try:
            deadline = time.monotonic() + 300
            server: set[int] = set()
            run_id: str | None = None
            while time.monotonic() < deadline and cli.poll() is None:
                server = {
                    pid
                    for pid in children(cli.pid)
                    if b"uvicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
                }
                if server:
                    break
                time.sleep(0.5)
            assert server, "the CLI never started its temporary Prefect server"
            while time.monotonic() < deadline and cli.poll() is None:
                if (run_id := activation_run(tmp_path)) is not None:
                    break  # the activation flow run exists and is under way
                time.sleep(0.5)
            assert run_id is not None, "the activation flow run never started"
            everything = children(cli.pid)
            os.kill(cli.pid, signal.SIGKILL)
            cli.wait(timeout=10)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(alive(p) for p in everything):
                time.sleep(0.5)
            survivors = [p for p in everything if alive(p)]
            assert not survivors, f"processes outlived the killed CLI: {survivors}"
            # The killed activation run does not stay Running/Paused: the next CLI marks it
            # Crashed (no heartbeat since the kill).
            time.sleep(2)
            sweep = subprocess.run(
                [str(CLI), "prefect", "sweep", "--grace-seconds", "1"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert sweep.returncode == 0, sweep.stderr
            assert "marked crashed: " in sweep.stdout, sweep.stdout
            assert f"({run_id}, was" in " ".join(sweep.stdout.split()), sweep.stdout  # that run
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait()
            for pid in everything:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


def _prefect_states(prefect_home: Path) -> dict[str, str]:
    """Flow run id → state type, read from the CLI's temporary server's database."""
    try:
        with sqlite3.connect(prefect_home / TEMPORARY_DATABASE) as db:
            rows = db.execute("SELECT id, state_type FROM flow_run").fetchall()
    except sqlite3.Error:
        return {}
    return {str(run): str(state) for run, state in rows}


def _status(tmp_path: Path, tenant: str) -> str | None:
    with sqlite3.connect(tmp_path / "state.db") as db:
        row = db.execute("SELECT status FROM integrations WHERE tenant = ?", (tenant,)).fetchone()
    return row[0] if row else None


def test_an_approval_given_right_after_a_kill_at_the_pause_is_carried_out(
    tmp_path: Path, migrated_prefect: MigratedPrefect
) -> None:
    """`activate --wait` killed while its run is paused for approval, then `approve` at once:
    the answer is not acknowledged and dropped; `approve` sees that nobody takes it up, marks
    the run Crashed and carries the decision out itself."""
    # Not a first run on a fresh machine: the CLI's server starts on a migrated database.
    migrated_prefect.copy_sqlite(tmp_path / "prefect" / TEMPORARY_DATABASE)
    with sandbox_pair(size="small", seed=3) as pair:
        home = tmp_path / "prefect"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "CI"))}
        env |= {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "SVENN_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
            "SVENN_SYNC_TRIPLETEX_BASE_URL": pair.tripletex_url,
            "SVENN_SYNC_SVENN_BASE_URL": pair.svenn_url,
            "SVENN_SYNC_TRIPLETEX_CONSUMER_TOKEN": pair.consumer_token,
            "SVENN_SYNC_ENCRYPTION_KEY": TEST_KEY,
            # alive when approve starts (silent < 3 beats = 90 s); taken for gone after 1.5 beats
            "SVENN_SYNC_ACTIVATION_HEARTBEAT_SECONDS": "30",
            "TRIPLETEX_EMPLOYEE_TOKEN": pair.employee_token,
            "SVENN_API_KEY": pair.svenn_api_key,
        }
        env.pop("SVENN_SYNC_DATABASE_SCHEMA", None)
        cli = subprocess.Popen(
            [str(CLI), "activate", pair.tenant, "--wait", "600"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        everything: set[int] = set()
        try:
            deadline = time.monotonic() + 900  # a bound for a loaded machine, not a speed
            run_id: str | None = None
            while time.monotonic() < deadline and cli.poll() is None:
                run_id = activation_run(tmp_path)
                if run_id and _prefect_states(home).get(run_id) == "PAUSED":
                    break  # the run waits for the approver's form
                time.sleep(0.5)
            assert run_id and _prefect_states(home).get(run_id) == "PAUSED", "never paused"
            everything = children(cli.pid)
            os.kill(cli.pid, signal.SIGKILL)
            cli.wait(timeout=10)
            approved = subprocess.run(
                [str(CLI), "approve", pair.tenant, "--by", "kari@ops"],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert approved.returncode == 0, approved.stdout + approved.stderr
            said = " ".join(approved.stdout.split())  # the console wraps long lines
            assert "it continues there" not in said
            assert f"the activation run {run_id} is gone" in said, said
            assert "initial sync finished: active" in said, said
            assert _status(tmp_path, pair.tenant) == "active"
            assert _prefect_states(home)[run_id] == "CRASHED"  # never Running for good
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait()
            for pid in everything:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
