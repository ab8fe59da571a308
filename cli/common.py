"""What every ``svenn-sync`` command shares: the console, one-line errors, the store.

Kept apart from :mod:`cli.main` (which assembles the commands) so that a command module never
imports the module that imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from config.settings import SettingsError, load_settings
from store.db import StoreConfigError
from store.state import StateStore
from store.token_cipher import TokenCipherError

console = Console()


def fail(message: str, code: int = 2) -> None:
    """Print one clear line on stderr and exit."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn configuration errors into one line instead of a traceback."""
    try:
        yield
    except (SettingsError, StoreConfigError, TokenCipherError) as error:
        fail(str(error))


def open_store(*, migrate: bool = False) -> StateStore:
    """The configured store (migrated first when asked)."""
    return StateStore.from_settings(load_settings(), migrate=migrate)
