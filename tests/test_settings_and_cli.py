"""Settings read from the environment, and the CLI's real commands (run as subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.config import Config

from config.settings import Settings, SettingsError, load_settings
from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[1]

CLI = [sys.executable, "-m", "cli"]


def test_defaults_are_safe_for_the_embedded_demo(monkeypatch):
    for name in list(os.environ):
        if name.startswith("SVENN_SYNC_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("data/state.db")
    assert settings.tripletex_base_url.startswith("http://127.0.0.1")
    assert "sandbox-consumer-token" not in repr(settings)


def test_a_malformed_setting_is_named_in_one_line(monkeypatch):
    monkeypatch.setenv("SVENN_SYNC_TRIPLETEX_BASE_URL", "tripletex.no/v2")
    load_settings.cache_clear()
    try:
        with pytest.raises(SettingsError) as caught:
            load_settings()
    finally:
        load_settings.cache_clear()
    message = str(caught.value)
    assert message.startswith("SVENN_SYNC_TRIPLETEX_BASE_URL:")
    assert "\n" not in message


def _run(args, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVENN_SYNC_")}
    env.pop("DATABASE_URL", None)
    env.update({"SVENN_SYNC_DATA_DIR": str(tmp_path)}, **env_extra)
    return subprocess.run(
        CLI + args, env=env, capture_output=True, text=True, timeout=120, cwd=Path.cwd()
    )


def _head() -> str:
    from alembic.script import ScriptDirectory

    from store.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return str(head)


def test_cli_upgrades_the_store_and_lists_integrations(tmp_path):
    done = _run(["db", "upgrade"], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"store at revision {_head()}" in done.stdout
    assert (tmp_path / "state.db").exists()
    listed = _run(["integrations", "list"], {}, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "no integrations yet" in listed.stdout


def test_cli_reports_a_bad_setting_without_a_traceback(tmp_path):
    done = _run(["integrations", "list"], {"SVENN_SYNC_REALTIME_POLL_SECONDS": "soon"}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: SVENN_SYNC_REALTIME_POLL_SECONDS:")
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL not requested")
def test_cli_works_on_postgres(tmp_path):
    from tests.conftest import new_schema_name

    schema = new_schema_name()
    env = {"SVENN_SYNC_DATABASE_URL": postgres_url(), "SVENN_SYNC_DATABASE_SCHEMA": schema}
    try:
        done = _run(["db", "upgrade"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"store at revision {_head()}" in done.stdout
    finally:
        from sqlalchemy import text

        from store.db import make_engine

        engine = make_engine(postgres_url())
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_ci_without_a_reachable_postgres_stops_loudly(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text("def test_uses_store(state_store):\n    assert state_store\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVENN_SYNC_")}
    env.update(CI="true", DATABASE_URL="postgresql://postgres@127.0.0.1:1/test")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.conftest",
            str(probe),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path.cwd(),
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "refusing to fall back to SQLite" in done.stdout + done.stderr


def test_hours_export_needs_both_ends_of_a_period():
    from typer.testing import CliRunner

    from cli.main import app

    done = CliRunner().invoke(app, ["hours", "export", "t-demo", "--from", "2025-01-01"])
    assert done.exit_code == 2 and "give both --from and --to" in done.output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_demo_counts_its_duration_from_its_process_start(tmp_path):
    # the imports before the demo's first line are part of what a stopwatch shows
    code = (
        "import time; time.sleep(1.5); from cli.demo import seconds_since_process_start as s; "
        "print(s())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert float(done.stdout) >= 1.5
