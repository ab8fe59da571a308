"""The README's run command does what it says (on a small world, in this process), and every
command it suggests at the end works exactly as printed, in a clean shell, on the demo's data."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from pathlib import Path

import pytest

from cli import demo, demo_style
from config.settings import load_settings
from intake.logg_link import LinkCheck, check

pytestmark = pytest.mark.scenario
ROOT = Path(__file__).resolve().parents[2]


def run_as_printed(line: str) -> subprocess.CompletedProcess[str]:
    """A printed command in a clean shell from the repository root (no settings exported)."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        ["sh", "-c", line], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=300
    )


def printed_after(label: str, text: str) -> str:
    found = re.search(rf"^{re.escape(label)} (.+)$", text, re.M)
    assert found, f"no '{label}' line in:\n{text}"
    return found.group(1)


def test_demo_activates_approves_syncs_and_reruns_without_writes(
    prefect_harness, tmp_path, monkeypatch, capsys
):
    for name in (
        "SVENN_SYNC_DATA_DIR",
        "SVENN_SYNC_DATABASE_URL",
        "SVENN_SYNC_DATABASE_SCHEMA",
        "SVENN_SYNC_TRIPLETEX_BASE_URL",
        "SVENN_SYNC_SVENN_BASE_URL",
    ):
        monkeypatch.setenv(name, "")  # restored after the test: the demo sets its own
    monkeypatch.delenv("SVENN_SYNC_DATABASE_SCHEMA")
    monkeypatch.setattr(demo_style, "console", demo_style.Console(width=80, force_terminal=False))
    monkeypatch.setattr(demo, "console", demo_style.console)
    monkeypatch.setattr(demo_style, "HINTS", [])
    try:
        demo.run_demo("small", data_dir=tmp_path)
    finally:
        load_settings.cache_clear()
    captured = capsys.readouterr()
    out = captured.out
    assert "Refused, as it should be; the tenant reads: KEY_LACKS_ENTITLEMENTS" in out
    assert "status: review; writes so far: Tripletex 0, Svenn 0" in out
    words = " ".join(out.split())  # where the review notification went (wrapped at 80)
    assert "Review notification: event svenn-sync.review-requested at" in words
    assert "to Prefect's event feed only (set SVENN_SYNC_ALERT_BLOCK" in words
    assert "initial sync finished: active" in out
    assert "writes during the second run: 0" in out
    assert "second export, nothing new: 0 created" in out
    assert "HOURS_LOCKED The hours on" in out and "(Logg) Timene" in out
    assert (tmp_path / "state.db").exists()
    # the realtime part: a quiet baseline, live edits with a conflict, then no echo
    assert "writes by the baseline tick: 0" in out
    assert "conflict logged" in out
    assert "writes: 0" in out.split("echo tick")[1]
    # The refusal staged on purpose is not an error, and no library chatter leaks out.
    assert "ERROR" not in out + captured.err
    assert "temporary directory" not in out + captured.err
    assert_a_clean_story(out + captured.err, tmp_path)
    # Tables and prose fit 80 columns; commands stay on one line so they copy whole.
    # commands, links and the log file's path stay on one line so they copy whole
    long_ok = ("  $ ", "  http", f"  {tmp_path}")
    assert max(len(line) for line in out.splitlines() if not line.startswith(long_ok)) <= 80
    # The end: the tenant's status and a signed link that opens its Logg page.
    assert "statusText: Aktiv (status active)" in out
    link = re.search(r"^  (http://\S+/tenants/t-demo/logg\?sig=(\S+))$", out, re.M)
    assert link, out[-2000:]
    assert check(load_settings().logg_link_key, "t-demo", link.group(2)) is LinkCheck.VALID
    fresh = run_as_printed(next(h for h in demo_style.HINTS if h.endswith("logg-link t-demo")))
    sig = fresh.stdout.strip().split("sig=")[1]
    assert check(load_settings().logg_link_key, "t-demo", sig) is LinkCheck.VALID

    hints = demo_style.HINTS
    assert len(hints) >= 3
    for line in hints:
        assert f"  $ {line}" in out  # printed exactly as collected
        done = run_as_printed(line)
        assert done.returncode == 0, (line, done.stderr)
        assert done.stdout.strip(), line
        assert "no integrations yet" not in done.stdout  # it read the demo's store
    list_hint = next(h for h in hints if h.endswith("failures list t-demo"))
    listed = run_as_printed(list_hint)
    assert re.search(r"open rows 1–\d+ of \d+", listed.stdout)
    story = run_as_printed(printed_after("one record's story:", listed.stdout))
    assert story.returncode == 0 and "Rule:" in story.stdout, story.stderr
    paged = run_as_printed(
        next(h for h in hints if h.endswith("failures list t-demo")) + " --limit 5"
    )
    following = run_as_printed(printed_after("next page:", paged.stdout))
    assert following.returncode == 0 and "open rows 6–10 of" in following.stdout
    as_csv = run_as_printed(next(h for h in hints if "--format csv" in h))
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows and {"message_en", "message_no", "target_error", "reason_code"} <= set(rows[0])


def assert_a_clean_story(text: str, data_dir: Path, cwd: Path = ROOT) -> None:
    """Steps numbered 1, 2, 3, ... in the order they run; Prefect's own lines (and their links
    to a server gone at the end) in the log file the demo names, not in the story; no error
    text; the demo's own duration at the end."""
    numbers = [int(n) for n in re.findall(r"^─* ?(\d+)\. ", text, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 8, numbers
    for prefect_line in ("View at http", "Starting temporary server", "| INFO", "Finished in"):
        assert prefect_line not in text
    assert not re.search(r"\berror\b", text, re.I), text
    log = data_dir / "prefect.log"
    said = "Prefect's own lines (its server, runs and tasks) are in this file:"
    assert f"{said}\n  {log}\n" in text  # the path on a line of its own, never wrapped
    assert (cwd / log).exists()
    if cwd != ROOT:  # in its own process, as `make demo` runs it, the file has Prefect's lines
        assert "Starting temporary server" in (cwd / log).read_text()
    assert re.search(r"The demo took \d+ s\.", " ".join(text.split()))


def test_the_demo_command_ends_cleanly_with_its_own_duration(tmp_path):
    """`svenn-sync demo` as `make demo` runs it, in its own process: the story, then nothing
    but its duration (Prefect's queued logs and events are flushed while the server is up)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SVENN_SYNC_"))}
    # A new Prefect home, no migrated copy of Prefect's database in it: a newcomer's first
    # `make demo`, whose temporary server migrates an empty database before the story starts.
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    done = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "cli", "demo", "--size", "small"],
        cwd=tmp_path,  # the demo's store and log go to data/demo here
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert_a_clean_story(done.stdout + done.stderr, Path("data/demo"), cwd=tmp_path)
    assert "Traceback" not in done.stdout + done.stderr
