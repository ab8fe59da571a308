"""How the demo prints, for every step (ours and those other modules add to cli/demo.py).

Rules: a table fits 80 columns and reads the same when piped (plain box, labels that wrap); an
expected refusal reads as what it is, never as a red ERROR; every command we suggest is printed
with :func:`hint`, exactly as it runs from the repository root on the demo's data, and is
collected in :data:`HINTS` so a test can run each one as printed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

console = Console()
CLI = ".venv/bin/svenn-sync"
HINTS: list[str] = []  # every command the demo suggested, as printed


STEPS = [0]  # the last step's number: steps number themselves, wherever they are added


def step(title: str, *, numbered: bool = True) -> None:
    """A step's heading, numbered in the order the steps run."""
    if numbered:
        STEPS[0] += 1
        title = f"{STEPS[0]}. {title}"
    console.rule(title, style="dim")


def say(text: str) -> None:
    """A line of narrative (wraps at the console width)."""
    console.print(text, highlight=False)


def table(title: str, rows: Sequence[Mapping[str, Any]], labels: Mapping[str, str] = {}) -> None:
    """Rows as a table that fits 80 columns: headers are words that wrap, never cut."""
    if not rows:
        say(f"{title}: none")
        return
    out = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in rows[0]:
        numeric = all(isinstance(row.get(column), int | float) for row in rows)
        label = labels.get(column, column.replace("_", " "))
        out.add_column(label, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        out.add_row(*(str(v) for v in row.values()))
    console.print(out)


def demo_env(data_dir: Path) -> str:
    """The environment that points the CLI at the demo's store (relative when possible)."""
    try:
        shown = data_dir.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = data_dir.resolve()
    return f"SVENN_SYNC_DATA_DIR={shown}"


def hint(command: str, data_dir: Path, why: str = "") -> str:
    """Print a CLI command that works as printed, on the demo's store; returns it."""
    line = f"{demo_env(data_dir)} {CLI} {command}"
    HINTS.append(line)
    if why:
        console.print(f"  [dim]# {why}[/dim]", highlight=False)
    console.print(f"  $ {line}", highlight=False, soft_wrap=True)
    return line


@contextmanager
def expected_refusal() -> Iterator[None]:
    """While a refusal the demo stages on purpose runs, Prefect's ERROR lines about it stay
    quiet (the demo prints the refusal itself); anything else still shows."""
    loggers = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@contextmanager
def prefect_lines_to(log_file: Path) -> Iterator[None]:
    """Prefect's own lines (its temporary server, flow and task runs, "View at" links to a
    server that is gone when the demo ends) go to ``log_file`` in this block, not into the
    story; its console handlers are put back afterwards."""
    from prefect.logging.configuration import setup_logging

    setup_logging()  # Prefect's handlers exist before they are moved
    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    prefect = logging.getLogger("prefect")  # its children propagate to it, and it to the root
    detached = [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if name.startswith("prefect.") and isinstance(logger, logging.Logger)
        if not logger.propagate
    ]
    moved = [
        (logger, handler)
        for logger in detached
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
    ]
    for logger, handler in moved:
        logger.removeHandler(handler)
        logger.addHandler(to_file)
    propagated, prefect.propagate = prefect.propagate, False
    prefect.addHandler(to_file)
    try:
        yield
    finally:
        prefect.removeHandler(to_file)
        prefect.propagate = propagated
        for logger, handler in moved:
            logger.removeHandler(to_file)
            logger.addHandler(handler)
        to_file.close()


def quiet_libraries() -> None:
    """Library chatter that says nothing to a demo reader (GX's temporary directory)."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # A loaded machine needs more than Prefect's default 20 s to start the temporary server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
