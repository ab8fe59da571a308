"""The CLI on wrong input: one line on stderr, an exit code other than 0, no traceback, and no
temporary Prefect server started to say it. A closed pipe ends the CLI and its temporary server;
that server keeps its runs in its own database, apart from a real local server's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.prefect_server import TEMPORARY_DATABASE
from store.integrations import ensure_integration, transition
from store.models import IntegrationStatus as S

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cli"]
LIBRARY_WORDING = ["Value error", "%Y", "Traceback", "╭", "GetPassWarning", "Aborted"]


def environment(database, prefect_home: Path, **extra: str) -> dict[str, str]:
    url, schema = database
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SVENN_SYNC_", "PREFECT_", "TRIPLETEX_EMPLOYEE", "SVENN_API"))
    }
    env |= {
        "SVENN_SYNC_DATABASE_URL": url,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # nothing listens here: a command that got as far as calling a system would fail
        "SVENN_SYNC_TRIPLETEX_BASE_URL": "http://127.0.0.1:9/v2",
        "SVENN_SYNC_SVENN_BASE_URL": "http://127.0.0.1:9/api/v1",
    }
    if schema:
        env["SVENN_SYNC_DATABASE_SCHEMA"] = schema
    return env | extra


def run_cli(
    database, prefect_home: Path, *args: str, python: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """The CLI with ``args`` (``python``: options of the interpreter itself, before ``-m``)."""
    interpreter, *module = CLI
    return subprocess.run(
        [interpreter, *python, *module, *args],
        cwd=ROOT,
        env=environment(database, prefect_home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], starts: str) -> None:
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {starts}"), done.stderr
    for wording in LIBRARY_WORDING:
        assert wording not in done.stdout + done.stderr


@pytest.fixture
def in_review(state_store, database):
    with state_store.sessions.begin() as session:
        ensure_integration(session, "t-review")
        transition(session, "t-review", S.REVIEW, actor="intake")
    return database


@pytest.mark.parametrize(
    "args",
    [
        ["hours", "export", "t-nope"],
        ["initial-sync", "t-nope"],
        ["approve", "t-nope", "--by", "kari@ops"],
        ["reject", "t-nope", "--by", "kari@ops", "--reason", "wrong company"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_an_unknown_tenant_is_one_line_and_starts_no_server(in_review, tmp_path, args):
    done = run_cli(in_review, tmp_path, *args)
    assert_one_line(done, "no integration for tenant 't-nope'")
    assert "integrations list" in done.stderr  # where to see the tenants
    assert "temporary server" not in done.stdout + done.stderr
    assert not list(tmp_path.glob("*.db")), "a temporary Prefect server was started"


def test_a_tenant_in_the_wrong_state_is_one_line_and_starts_no_server(in_review, tmp_path):
    done = run_cli(in_review, tmp_path, "hours", "export", "t-review")
    assert_one_line(done, "t-review is review, not in active")
    done = run_cli(in_review, tmp_path, "initial-sync", "t-review")
    assert_one_line(done, "t-review is review, not in ")
    assert not list(tmp_path.glob("*.db"))


def test_activate_without_a_terminal_says_where_keys_come_from(in_review, tmp_path):
    done = run_cli(in_review, tmp_path, "activate", "t-new")
    assert_one_line(done, "no Tripletex employee token")
    assert "TRIPLETEX_EMPLOYEE_TOKEN" in done.stderr and "terminal" in done.stderr


def test_a_refusal_loads_neither_prefect_nor_a_flow(in_review, tmp_path):
    # Importing them is seconds of CPU; a command that refuses has nothing to run.
    for args in (
        ["hours", "export", "t-review"],
        ["initial-sync", "t-nope"],
        ["approve", "t-nope", "--by", "kari@ops"],
        ["activate", "t-new"],
    ):
        done = run_cli(in_review, tmp_path, *args, python=("-X", "importtime"))
        assert done.returncode != 0 and "error: " in done.stderr, done.stderr[-500:]
        imported = {
            line.rsplit("|", 1)[-1].strip()
            for line in done.stderr.splitlines()
            if line.startswith("import time:")
        }
        assert "cli.main" in imported  # -X importtime did list the imports
        loaded = sorted(m for m in imported if m.split(".")[0] in ("prefect", "flows"))
        assert not loaded, (args, loaded[:5])


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["failures", "list", "t-x", "--entity", "custmer"], "--entity: 'custmer' is not one of"),
        (["hours", "export", "t-x", "--from", "2025-13-01", "--to", "2025-12-31"], "--from: "),
        (["failures", "list", "t-x", "--limit", "0"], "--limit: must be at least 1"),
        (["approve", "t-x"], "Missing option '--by'"),
    ],
    ids=["entity", "date", "limit", "missing"],
)
def test_wrong_options_are_said_in_our_words(in_review, tmp_path, args, said):
    done = run_cli(in_review, tmp_path, *args)
    assert_one_line(done, said)
    assert "--help` lists what it takes" in done.stderr
    if "--from" in args:
        assert "is not a date (write it as 2025-10-31)" in done.stderr


def _processes_with(marker: str) -> list[int]:
    """Living processes whose environment holds ``marker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().split(")")[-1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.scenario
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_closed_pipe_ends_the_cli_and_its_temporary_server(
    state_store, database, tmp_path, migrated_prefect
):
    with state_store.sessions.begin() as session:
        ensure_integration(session, "t-active").status = S.ACTIVE.value
    home = tmp_path / "prefect-home-closed-pipe"
    # Not a first run on a fresh machine: the CLI's server starts on a migrated database.
    migrated_prefect.copy_sqlite(home / TEMPORARY_DATABASE)
    env = environment(database, home)
    command = " ".join([*CLI, "hours", "export", "t-active"]) + " 2>&1 | head -1"
    shown = subprocess.run(
        ["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert shown.stdout.strip(), shown.stderr  # the pipe carried a line, then closed
    marker = f"PREFECT_HOME={home}"
    deadline = time.monotonic() + 60  # a bound on waiting, not a measured speed
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_with(marker) == [], "the CLI's temporary Prefect server outlived it"


def test_the_temporary_server_keeps_its_runs_apart_from_a_local_server(state_store, tmp_path):
    # A first run on a fresh machine (no migrated copy given): which file the CLI makes is
    # the point.
    done = run_cli(("sqlite:///" + str(tmp_path / "state.db"), None), tmp_path, "prefect", "sweep")
    assert done.returncode == 0, done.stderr
    assert "no zombie flow runs" in done.stdout
    assert (tmp_path / TEMPORARY_DATABASE).exists()
    assert not (tmp_path / "prefect.db").exists()  # a local `prefect server start` uses that one


def test_wait_for_says_in_one_line_what_it_waited_for_or_will_never_see(
    in_review, state_store, tmp_path
):
    done = run_cli(in_review, tmp_path, "wait-for", "4200")
    assert_one_line(done, "'4200' is not a URL, plan:TENANT or active:TENANT")
    done = run_cli(in_review, tmp_path, "wait-for", "http://127.0.0.1:9/", "--timeout", "1")
    assert_one_line(done, "http://127.0.0.1:9/ was not ready within 1 s")
    # rejected: it will never be active, and that is told at once, not after the timeout
    with state_store.sessions.begin() as session:
        transition(session, "t-review", S.REJECTED, actor="kari@ops")
    done = run_cli(in_review, tmp_path, "wait-for", "active:t-review", "plan:t-review")
    assert_one_line(done, "t-review is rejected")
