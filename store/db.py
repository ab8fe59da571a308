"""Engines and sessions for the state store (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class StoreConfigError(RuntimeError):
    """The database URL or schema cannot be used."""


def make_engine(url: str, *, schema: str | None = None, echo: bool = False) -> Engine:
    """An engine for ``url``; with ``schema`` (PostgreSQL only) every table lives in it."""
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        connect_args["timeout"] = 30
    elif schema is not None:
        if not _SCHEMA_NAME.match(schema):
            raise StoreConfigError(f"invalid schema name {schema!r}")
        connect_args["options"] = f"-csearch_path={schema}"
    engine = create_engine(
        url,
        echo=echo,
        connect_args=connect_args,
        future=True,
        json_serializer=json_text,
        json_deserializer=json_value,
    )
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    elif schema is not None:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return engine


def insert_for(dialect: str) -> Any:
    """The INSERT construct of ``dialect`` ("postgresql", else SQLite's): both carry the
    ``ON CONFLICT`` clauses the store's upserts use."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def json_text(value: Any) -> str:
    """A JSON column's text (failed-record payloads and errors, links' agreed snapshots), by
    orjson: compact UTF-8, about six times faster than ``json.dumps`` on a record-sized dict,
    which the initial sync does for every link and failed record it stores. Keys that are not
    strings are written as ``json.dumps`` writes them (``1`` → ``"1"``)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def json_value(text: str | bytes) -> Any:
    """A JSON column's value; text ``json.dumps`` wrote before may hold ``NaN`` or
    ``Infinity``, which orjson refuses and ``json.loads`` reads."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory.begin() as session:
        yield session
