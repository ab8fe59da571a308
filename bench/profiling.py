"""cProfile for the bench scripts: `make bench ARGS=--profile` (or ``BENCH_PROFILE=1``).

``with profiled("plan_100k"):`` saves ``bench/profiles/plan_100k.prof`` (open it with
``python -m pstats`` or snakeviz) and prints the top 20 functions by cumulative time, measured
in CPU seconds (``time.process_time``: on a shared machine wall time is mostly waiting).
Without the flag it does nothing.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROFILES = Path(__file__).resolve().parent / "profiles"


def wanted() -> bool:
    """True when this run should profile."""
    return "--profile" in sys.argv[1:] or os.environ.get("BENCH_PROFILE", "") not in ("", "0")


def arguments() -> list[str]:
    """The script's arguments without ``--profile``; ``-h``/``--help`` prints the script's
    docstring (its usage) and exits."""
    if {"-h", "--help"} & set(sys.argv[1:]):
        print((sys.modules["__main__"].__doc__ or "").strip())
        raise SystemExit(0)
    return [arg for arg in sys.argv[1:] if arg != "--profile"]


@contextmanager
def profiled(label: str, top: int = 20) -> Iterator[None]:
    """Profile the block (CPU time) when profiling is wanted; save and print the top ``top``."""
    if not wanted():
        yield
        return
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        PROFILES.mkdir(parents=True, exist_ok=True)
        path = PROFILES / f"{label}.prof"
        profiler.dump_stats(path)
        print(f"\n-- profile {label} (CPU seconds, with the profiler's overhead): {path}")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)
