"""Prefect's own database, migrated once per test run and copied for every server the tests start.

A Prefect server on an empty database first runs Prefect's Alembic migrations (about 150): on a
2-core machine ≈5 of the ≈10 s of CPU a start costs. The suite starts many servers (the harness
server of every xdist worker, the real servers of tests/server, the CLI's temporary servers), so
one database is migrated per run, by Prefect's own ``prefect server database upgrade``, and each
server starts on a copy of it:

- SQLite: the file ``prefect.db`` in a folder the run's processes share (the xdist workers wait
  for the first one to make it, under a file lock), copied to where each server keeps its file;
- PostgreSQL: a database ``prefect_template_<unix time>_<random>`` on the suite's server, made
  the same way, cloned with ``CREATE DATABASE ... TEMPLATE`` for each server; dropped when the
  run ends (:func:`drop_postgres_templates`), and any left by a run that was killed is dropped a
  day later by the next run that makes one.

:func:`prefect_test_harness` is Prefect's harness of the same name, started on such a copy and
told not to migrate. The real servers of tests/server and the CLI's temporary servers migrate at
start as they do for a user, which on a copy is what a user's second start is: Alembic finds the
database at Prefect's head and changes nothing. The tests whose point is a first run on a fresh
machine (the demo command, the README rehearsal, which file the CLI's server makes) are given
no copy.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFECT = str(Path(sys.executable).with_name("prefect"))
SQLITE_TEMPLATE = "prefect.db"
POSTGRES_TEMPLATE_PREFIX = "prefect_template_"
STALE_SECONDS = 24 * 3600  # a template older than this is a killed run's leftover
MADE_LOG = "made.log"  # one line per template made: what the tests count
# What would point the migrating process at another database than the template.
_DATABASE_VARIABLES = (
    "PREFECT_API_URL",
    "PREFECT_API_DATABASE_CONNECTION_URL",
    "PREFECT_SERVER_DATABASE_CONNECTION_URL",
)


def migrate(url: str) -> None:
    """Migrate Prefect's database at ``url`` to Prefect's head, the way a user does it
    (``prefect server database upgrade -y``), in a process of its own: nothing of it (settings,
    engines, connections) stays in the caller."""
    env = {k: v for k, v in os.environ.items() if k not in _DATABASE_VARIABLES}
    env |= {"PREFECT_API_DATABASE_CONNECTION_URL": url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    done = subprocess.run(
        [PREFECT, "server", "database", "upgrade", "-y"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"migrating Prefect's database failed:\n{done.stdout}\n{done.stderr}")


def prefect_head(dialect: str) -> str:
    """The revision Prefect's migrations for ``dialect`` (sqlite, postgresql) end at."""
    import prefect.server.database
    from alembic.script import ScriptDirectory
    from prefect.server.database.alembic_commands import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    versions = Path(prefect.server.database.__file__).parent / "_migrations" / "versions"
    script.version_locations = [str(versions / dialect)]  # as Prefect's env.py picks them
    head = script.get_current_head()
    assert head is not None
    return head


@dataclass
class MigratedPrefect:
    """The run's migrated templates (made on first use, in ``folder``, shared by the run's
    processes) and copies of them."""

    folder: Path
    postgres_templates: set[str] = field(default_factory=set)  # the ones this process used

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """Held by one process of the run at a time (released when the file is closed, also by
        a process that dies)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _made(self, what: str) -> None:
        with (self.folder / MADE_LOG).open("a") as log:
            log.write(f"{what} {os.getpid()}\n")

    def sqlite_template(self) -> Path:
        """The migrated SQLite file, made by the first process that asks."""
        path = self.folder / SQLITE_TEMPLATE
        with self._locked("sqlite"):
            if not path.exists():
                part = self.folder / f"{SQLITE_TEMPLATE}.part"
                for leftover in self.folder.glob(f"{part.name}*"):  # a killed maker's
                    leftover.unlink()
                migrate(f"sqlite+aiosqlite:///{part}")
                # Prefect writes in WAL mode: one self-contained file, so a copy is whole
                with closing(sqlite3.connect(part)) as db:
                    db.execute("PRAGMA journal_mode = DELETE")
                part.rename(path)
                self._made("sqlite")
        return path

    def copy_sqlite(self, path: Path) -> Path:
        """A migrated SQLite database at ``path`` (its folder made if missing)."""
        template = self.sqlite_template()
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, path)
        return path

    def postgres_template(self, admin_url: str) -> str:
        """The name of the migrated database on ``admin_url``'s server, made by the first
        process that asks (one per run; the run's processes read its name from a file)."""
        from sqlalchemy import text

        named = self.folder / "postgres-template"
        with self._locked("postgres"):
            if not named.exists():
                name = f"{POSTGRES_TEMPLATE_PREFIX}{int(time.time())}_{secrets.token_hex(4)}"
                with postgres_admin(admin_url) as connection:
                    drop_stale_postgres_templates(connection)
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                migrate(prefect_postgres_url(admin_url, name))
                named.write_text(name)
                self._made("postgres")
            name = named.read_text()
        self.postgres_templates.add(name)
        return name


def drop_stale_postgres_templates(connection: Any, now: float | None = None) -> list[str]:
    """Drop the templates older than a day (those of runs killed before their end); their
    names."""
    from sqlalchemy import text

    now = time.time() if now is None else now
    names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
    stale = []
    for name in names:
        stamp = name.removeprefix(POSTGRES_TEMPLATE_PREFIX).split("_", 1)[0]
        made_at = (
            int(stamp) if name.startswith(POSTGRES_TEMPLATE_PREFIX) and stamp.isdigit() else now
        )
        if now - made_at > STALE_SECONDS:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            stale.append(name)
    return stale


def drop_postgres_templates(admin_url: str, names: set[str]) -> None:
    """Drop the run's templates (at its end, once every process that cloned them is done)."""
    from sqlalchemy import text

    with postgres_admin(admin_url) as connection:
        for name in sorted(names):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def postgres_admin(url: str) -> Iterator[Any]:
    """An autocommit connection to the PostgreSQL server of ``url`` (any driver named in it),
    for ``CREATE DATABASE`` and ``DROP DATABASE``."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    admin = create_engine(
        make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as connection:
            yield connection
    finally:
        admin.dispose()


def prefect_postgres_url(url: str, database: str) -> str:
    """The URL a Prefect server uses for ``database`` on the PostgreSQL server of ``url``."""
    from sqlalchemy.engine import make_url

    named = make_url(url).set(drivername="postgresql+asyncpg", database=database)
    return named.render_as_string(hide_password=False)


@contextmanager
def prefect_test_harness(
    database: Path, settings: Mapping[Any, Any], server_startup_timeout: int
) -> Iterator[None]:
    """Prefect's ``prefect.testing.utilities.prefect_test_harness``, on the SQLite ``database``
    given (a migrated copy) instead of a new empty one, with ``settings`` added for the server.

    As Prefect's: a temporary server (``SubprocessASGIServer``) registered as the default one
    (the ``None`` key) while it runs, so nothing in a flow run starts a second one; the API URL
    in the settings and in the process-global settings context; Prefect's log and event workers
    drained before the server stops. Unlike Prefect's, the server does not run the migrations
    at start: its database is at Prefect's head already (see ``tests/test_migrated_prefect.py``).
    """
    import prefect.context
    import prefect.settings
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.server.database.dependencies import temporary_database_interface

    from cli.prefect_server import flush_to_server
    from sandboxes.runner import free_port

    server_settings = {
        prefect.settings.PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{database}",
        prefect.settings.PREFECT_API_DATABASE_MIGRATE_ON_START: False,
        **settings,
    }
    with ExitStack() as stack:
        stack.enter_context(temporary_database_interface())
        stack.enter_context(prefect.settings.temporary_settings(updates=server_settings))
        server = SubprocessASGIServer(port=free_port())
        prior_default = SubprocessASGIServer._instances.get(None)
        SubprocessASGIServer._instances[None] = server
        try:
            server.start(timeout=server_startup_timeout)  # the child reads the settings above
            api = {prefect.settings.PREFECT_API_URL: server.api_url}
            stack.enter_context(prefect.settings.temporary_settings(updates=api))
            stack.enter_context(
                prefect.context._temporary_global_settings_context(
                    prefect.context.get_settings_context()
                )
            )
            yield
            flush_to_server()  # the logs and events still queued, while the server is up
        finally:
            server.stop()
            if prior_default is not None:
                SubprocessASGIServer._instances[None] = prior_default
            else:
                SubprocessASGIServer._instances.pop(None, None)
