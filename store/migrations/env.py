"""Alembic environment: runs on the engine handed over by ``store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from store.models import Base

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:  # `alembic` run from the command line: use the configured store
    from config.settings import load_settings
    from store.db import make_engine

    settings = load_settings()
    engine = make_engine(settings.resolved_database_url, schema=settings.database_schema)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
