"""Wrong input, said in our words: one line naming the option and what it takes.

Typer and click word their refusals for programmers ("Value error, 'custmer' is not one of
…", "does not match the formats '%Y-%m-%d'") and draw them in a box; the CLI prints one line.
"""

from __future__ import annotations

import re
import sys

import typer

# Typer carries its own copy of click; its refusals are these classes, not click's.
from typer._click.exceptions import NoArgsIsHelpError, UsageError

__all__ = ["NoArgsIsHelpError", "UsageError", "ask_for_key", "usage_sentence"]

REWRITES = [
    (re.compile(r"^Invalid value for '?([^':]+)'?: "), r"\1: "),
    (re.compile(r"Value error, "), ""),
    (re.compile(r"does not match the formats? [^.]*"), "is not a date (write it as 2025-10-31)"),
    (re.compile(r"is not one of "), "is not one of: "),
    (re.compile(r"Input should be greater than or equal to "), "must be at least "),
    (re.compile(r"Input should be less than or equal to "), "must be at most "),
    (re.compile(r"Input should be a valid integer[^.(]*"), "must be a whole number"),
]


def usage_sentence(error: UsageError) -> str:
    """The refusal as one line, with where to read the command's options."""
    text = " ".join(error.format_message().split())
    for pattern, replacement in REWRITES:
        text = pattern.sub(replacement, text)
    command = error.ctx.command_path if error.ctx else "svenn-sync"
    return f"{text} (`{command} --help` lists what it takes)"


def ask_for_key(what: str, variable: str) -> str:
    """A key typed on a terminal (never echoed), or a clear refusal when there is no terminal."""
    if not sys.stdin.isatty():
        print(
            f"error: no {what}: give it in the environment ({variable}=…) or run the command "
            "on a terminal, where it is asked for without echo",
            file=sys.stderr,
        )
        raise SystemExit(2)
    value = str(typer.prompt(what, hide_input=True)).strip()
    if not value:
        print(f"error: the {what} is empty; nothing was stored", file=sys.stderr)
        raise SystemExit(2)
    return value
