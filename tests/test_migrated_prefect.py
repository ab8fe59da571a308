"""The Prefect servers the tests start begin on a copy of one database migrated once per run
(``tests/migrated_prefect.py``): the copy is at Prefect's head before the server starts, the
harness server is told not to migrate and still serves flow runs, and a copy is a database of
its own (what one server stores is not in the template or in another copy)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
from prefect import flow
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import postgres_url
from tests.migrated_prefect import (
    MADE_LOG,
    POSTGRES_TEMPLATE_PREFIX,
    STALE_SECONDS,
    MigratedPrefect,
    drop_postgres_templates,
    drop_stale_postgres_templates,
    postgres_admin,
    prefect_head,
)
from tests.server.harness import prefect_database

PROBE = "migrated-copy-probe"


@flow(name=PROBE)
def probe() -> str:
    return "ran"


def revision(path: Path) -> str:
    with closing(sqlite3.connect(path)) as db:
        return str(db.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def flows_in(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [str(row[0]) for row in db.execute("SELECT name FROM flow")]


def made(migrated: MigratedPrefect, kind: str) -> int:
    """How many times this run made its ``kind`` template (every process of the run counted)."""
    log = migrated.folder / MADE_LOG
    lines = log.read_text().splitlines() if log.exists() else []
    return sum(line.split()[0] == kind for line in lines)


def test_the_sqlite_template_is_made_once_per_run_at_prefects_head(
    migrated_prefect: MigratedPrefect, tmp_path: Path
) -> None:
    template = migrated_prefect.sqlite_template()
    assert migrated_prefect.sqlite_template() == template
    assert made(migrated_prefect, "sqlite") == 1  # by whichever of the run's processes came first
    assert revision(template) == prefect_head("sqlite")
    copy = migrated_prefect.copy_sqlite(tmp_path / "home" / "prefect.db")
    assert revision(copy) == prefect_head("sqlite")
    assert made(migrated_prefect, "sqlite") == 1


def test_the_harness_server_starts_on_a_migrated_copy_and_does_not_migrate(
    prefect_harness: Path, migrated_prefect: MigratedPrefect
) -> None:
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer._instances[None]
    assert server.server_process is not None
    environment = Path(f"/proc/{server.server_process.pid}/environ").read_bytes().split(b"\0")
    assert b"PREFECT_SERVER_DATABASE_MIGRATE_ON_START=False" in environment
    assert (
        f"PREFECT_SERVER_DATABASE_CONNECTION_URL=sqlite+aiosqlite:///{prefect_harness}".encode()
        in environment
    )
    # ... and it serves: its database was at Prefect's head before it started
    assert probe() == "ran"
    assert PROBE in flows_in(prefect_harness)
    assert revision(prefect_harness) == prefect_head("sqlite")
    template = migrated_prefect.sqlite_template()
    assert not prefect_harness.samefile(template)
    assert PROBE not in flows_in(template)  # a copy of its own


needs_postgres = pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL only")


@pytest.mark.scenario  # makes the run's PostgreSQL template if no server test did (≈7 s of CPU)
@needs_postgres
def test_a_postgres_database_is_a_clone_of_the_template_at_prefects_head(
    migrated_prefect: MigratedPrefect, tmp_path: Path
) -> None:
    url = postgres_url()
    assert url is not None
    with prefect_database(url, tmp_path, migrated_prefect) as first:
        template = migrated_prefect.postgres_template(url)
        with prefect_database(url, tmp_path, migrated_prefect) as second:
            for database in (first, second):
                with postgres_admin(database) as connection:
                    head = connection.execute(text("SELECT version_num FROM alembic_version"))
                    assert head.scalar_one() == prefect_head("postgresql")
            with postgres_admin(first) as connection:
                connection.execute(text("CREATE TABLE probe (id int)"))
            for other in (second, make_url(first).set(database=template).render_as_string(False)):
                with postgres_admin(other) as connection:
                    found = connection.execute(text("SELECT to_regclass('probe')")).scalar()
                    assert found is None  # a database of its own
    assert made(migrated_prefect, "postgres") == 1
    assert template in migrated_prefect.postgres_templates  # dropped at the run's end


@needs_postgres
def test_a_template_left_by_a_killed_run_is_dropped_after_a_day() -> None:
    url = postgres_url()
    assert url is not None
    now = time.time()
    old = f"{POSTGRES_TEMPLATE_PREFIX}{int(now - STALE_SECONDS - 60)}_test"
    recent = f"{POSTGRES_TEMPLATE_PREFIX}{int(now - 60)}_test"
    try:
        with postgres_admin(url) as connection:
            for name in (old, recent):
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            assert old in drop_stale_postgres_templates(connection, now)
            names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
            assert old not in names and recent in names
    finally:
        drop_postgres_templates(url, {old, recent})
