"""The figures table of `make bench`: every figure of the speed targets, measured against target.

Each bench script prints its own figures and also appends them, one JSON line each, to
``.bench/figures.jsonl`` (gitignored) with :func:`record`:

    from figures import record      # a bench script's own folder is first on sys.path
    record("initial sync wall", 5.2, "s", 6, cpu=4.9)

or, from a script that cannot import this module, the same line written by hand:
``{"name": ..., "value": ..., "unit": ..., "target": ..., "at": <unix time>}``. `make bench`
starts a run (``figures.py --begin``), runs every ``bench/bench_*.py`` and ends with
``figures.py``, which prints ONE table: the figures of the targets in a fixed order, then any
other recorded figure. A figure not measured in this run shows its last earlier value and when
it was measured (the suite's time is written by the test run), or "not measured".

    .venv/bin/python bench/figures.py           # the table
    .venv/bin/python bench/figures.py --begin   # mark the start of a run
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

FIGURES = Path(
    os.environ.get("BENCH_FIGURES", Path(__file__).resolve().parent.parent / ".bench/figures.jsonl")
)

RATIO_UNITS = ("x", "×")

# (name, unit, target, higher is better): the figures the targets are about, in table order.
TARGETS: tuple[tuple[str, str, float, bool], ...] = (
    ("quiet realtime tick, CPU per active tenant", "ms", 0.5, False),
    ("quiet realtime tick with webhooks, CPU per active tenant", "ms", 0.5, False),
    ("initial sync 10k/2k/500 per side, wall", "s", 6, False),
    ("activation (validate, extract both sides, plan preview), wall", "s", 4, False),
    ("whole customer plan 100k x 100k, CPU", "s", 4, False),
    ("matching alone 100k x 100k, CPU", "s", 1.5, False),
    ("make test (CI=true)", "s", 300, False),
    ("tenants per second, 2 workers vs 1", "x", 1.8, True),
)


def record(
    name: str,
    value: float,
    unit: str,
    target: float | None = None,
    *,
    higher_is_better: bool | None = None,
    **extra: Any,
) -> None:
    """Append one measured figure (``extra``: e.g. ``cpu=`` seconds, ``wall=``) as a JSON line.

    ``higher_is_better`` unsaid: a ratio ("x") is better higher, any other figure lower."""
    if higher_is_better is None:
        higher_is_better = unit in RATIO_UNITS
    line = {"name": name, "value": round(float(value), 4), "unit": unit, "target": target}
    line |= {"higher_is_better": higher_is_better, "at": time.time(), **extra}
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with FIGURES.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def begin() -> None:
    """Mark the start of a bench run: the table then tells this run's figures from older ones."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with FIGURES.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"run_started": time.time()}) + "\n")


def _lines() -> list[dict[str, Any]]:
    if not FIGURES.exists():
        return []
    found = []
    for text in FIGURES.read_text(encoding="utf-8").splitlines():
        try:
            found.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return found


def table() -> str:
    """The Markdown table of every figure: this run's, else the last earlier one."""
    lines = _lines()
    started = max((line["run_started"] for line in lines if "run_started" in line), default=0.0)
    latest: dict[str, dict[str, Any]] = {}
    for line in lines:
        if "name" in line:
            latest[line["name"]] = line
    rows = ["| figure | measured | target | met |", "| --- | --- | --- | --- |"]
    known = {name for name, *_ in TARGETS}
    wanted: list[tuple[str, dict[str, Any] | None, str, float | None, bool]] = [
        (name, latest.get(name), unit, target, up) for name, unit, target, up in TARGETS
    ]
    wanted += [
        (name, line, line.get("unit", ""), line.get("target"), _higher(line))
        for name, line in latest.items()
        if name not in known
    ]
    for name, found, unit, target, up in wanted:
        rows.append(_row(name, found, unit, target, up, started))
    return "\n".join(rows)


def _higher(line: dict[str, Any]) -> bool:
    return bool(line.get("higher_is_better", line.get("unit") in RATIO_UNITS))


def _row(
    name: str, line: dict[str, Any] | None, unit: str, target: Any, up: bool, started: float
) -> str:
    bound = "" if target is None else f"{'≥' if up else '≤'} {target:g} {unit}"
    if line is None:
        return f"| {name} | not measured | {bound} | |"
    value = float(line["value"])
    shown = f"{value:.4g} {line.get('unit', unit)}"
    if "cpu" in line and "sandbox_cpu" in line:
        shown += f" ({float(line['cpu']):.3g} s CPU; sandboxes {float(line['sandbox_cpu']):.3g} s)"
    elif "cpu" in line:
        shown += f" ({float(line['cpu']):.3g} s CPU)"
    if "wall" in line:
        shown += f" ({float(line['wall']):.3g} s wall)"
    if float(line.get("at", 0)) < started:
        when = dt.datetime.fromtimestamp(float(line.get("at", 0)), dt.UTC)
        shown += f", earlier run {when:%Y-%m-%d %H:%M} UTC"
    target = line.get("target", target)
    met = (
        "" if target is None else ("yes" if (value >= target if up else value <= target) else "no")
    )
    return f"| {name} | {shown} | {bound} | {met} |"


if __name__ == "__main__":
    if "--begin" in sys.argv[1:]:
        begin()
    else:
        print(table())
