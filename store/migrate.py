"""Run the Alembic migrations programmatically (used by the CLI, the demo and the tests).

Every flow run and CLI command migrates the store before it touches it; almost always the store
is already at the newest revision. That is found with one query, without importing Alembic
(≈0.4 s of CPU a process, and another ≈0.15 s to load the migration scripts): a scheduled flow
run is a new process each time. Alembic runs only when there is something to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The migrations form one line and their files are numbered in its order, each named after its
# revision from 0004 on: the newest file's name is the head (tests/test_store.py holds this
# against Alembic's own reading).
HEAD = max(path.stem for path in (MIGRATIONS / "versions").glob("[0-9]*.py"))


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs the migrations on this engine's connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store up to ``revision`` (nothing to do, and no Alembic, when it is there)."""
    if revision in ("head", HEAD) and stored_revision(engine) == HEAD:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the store down to ``revision``."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def stored_revision(engine: Engine) -> str | None:
    """The revision in the store's version table, read with one query; ``None`` when there is
    no table yet (or not exactly one row: then Alembic decides)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at, or ``None`` when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
