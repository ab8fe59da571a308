"""The README's run command does what it says (on a small world, in this process)."""

from __future__ import annotations

import pytest

from cli import demo
from config.settings import load_settings

pytestmark = pytest.mark.scenario


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
    monkeypatch.setattr(demo, "console", demo.Console(width=200, force_terminal=False))
    try:
        demo.run_demo("small", data_dir=tmp_path)
    finally:
        load_settings.cache_clear()
    out = capsys.readouterr().out
    assert "refused: KEY_LACKS_ENTITLEMENTS" in out
    assert "status: review; writes so far: Tripletex 0, Svenn 0" in out
    assert "initial sync finished: active" in out
    assert "writes during the second run: 0" in out
    assert "second export, nothing new: 0 created" in out
    assert "HOURS_LOCKED The hours on" in out and "(Logg) Timene" in out
    assert (tmp_path / "state.db").exists()
    # the realtime part: a quiet baseline, live edits with a conflict, then no echo
    assert "writes by the baseline tick: 0" in out
    assert "conflict logged" in out
    assert "writes: 0" in out.split("echo tick")[1]
