"""The initial sync's long-lived objects are out of the collector's sight for the run only."""

from __future__ import annotations

import gc
import weakref

import pytest

from tasks.heap import long_lived


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_heap_is_frozen_within_the_block_and_given_back_after() -> None:
    assert gc.get_freeze_count() == 0
    with long_lived() as spare:
        assert gc.get_freeze_count() > 0
        read = [_Cycle() for _ in range(1000)]  # the records of a run, say
        assert all(gc.is_tracked(record) for record in read)
        spare()
        in_sight = {id(o) for o in gc.get_objects()}  # a frozen object is in no generation
        assert not any(id(record) in in_sight for record in read)
    assert gc.get_freeze_count() == 0
    in_sight = {id(o) for o in gc.get_objects()}
    assert all(id(record) in in_sight for record in read)


def test_a_cycle_that_became_garbage_in_the_run_is_collected_after_it() -> None:
    with long_lived() as spare:
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        spare()
        del cycle
        gc.collect()
        assert gone() is not None  # out of the collector's sight until the run ends
    gc.collect()
    assert gone() is None


def test_an_error_gives_the_heap_back() -> None:
    with pytest.raises(RuntimeError), long_lived():
        raise RuntimeError("stopped")
    assert gc.get_freeze_count() == 0
