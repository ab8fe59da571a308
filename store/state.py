"""Open the configured state store: one engine and session factory per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from store.db import make_engine, session_factory
from store.migrate import upgrade
from store.token_cipher import TokenCipher


@dataclass
class StateStore:
    """The store's engine, session factory and token cipher, built from settings."""

    engine: Engine
    sessions: sessionmaker[Session]
    cipher: TokenCipher

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = False) -> StateStore:
        """Connect (and optionally migrate) the store the settings point at."""
        engine = make_engine(settings.resolved_database_url, schema=settings.database_schema)
        if migrate:
            upgrade(engine)
        return cls(engine, session_factory(engine), TokenCipher(settings.encryption_key))
