"""A run's long-lived objects kept out of the cyclic garbage collector's full passes."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Container objects allocated between two young-generation collections within the block (the
# interpreter's default is 700). A run allocates millions (rows, requests, records); at 700 it
# collected the young generation ≈1,300 times in an initial sync of 10,000 customers a side.
# At 20,000 more of what a run allocates is freed by reference counting before any collection
# sees it: ≈3 % of the sync's CPU (5.65 → 5.50 s, five runs each, alternately; a threshold
# of 100,000 measured like 20,000).
YOUNG_THRESHOLD = 20_000


@contextmanager
def long_lived() -> Iterator[Callable[[], None]]:
    """Every object alive on entering (the modules loaded), and on each call of the function
    the block is given (the extracts just read), is moved out of the collector's sight; on
    leaving they are in sight again, and what of theirs became garbage is collected as before.

    A full collection walks every tracked object. An initial sync holds the records of both
    sides for the whole run, and its allocations (rows, requests, records) set off full
    collections that walked them all again: about a sixth of the sync's CPU for a tenant with
    10,000 customers a side. Within the block the young generation is also collected less
    often (:data:`YOUNG_THRESHOLD`). What the run decides is not touched: only when cycles are
    freed.
    """
    thresholds = gc.get_threshold()
    gc.freeze()  # what was alive before the run (the modules loaded) outlives it
    gc.set_threshold(max(thresholds[0], YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield gc.freeze
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
