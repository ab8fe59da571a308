"""The initial sync's long-lived objects are out of the collector's sight for the run only."""

from __future__ import annotations

import gc
import weakref

import pytest

from tasks.heap import YOUNG_THRESHOLD, long_lived


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
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), long_lived():
        raise RuntimeError("stopped")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_the_young_generation_is_collected_less_often_within_the_block_only() -> None:
    before = gc.get_threshold()
    with long_lived():
        assert gc.get_threshold() == (max(before[0], YOUNG_THRESHOLD), *before[1:])
        young = gc.get_count()[0]
        # Containers are counted as allocated; a young collection would start the count again.
        kept: list[list[int]] = [[] for _ in range(YOUNG_THRESHOLD // 2)]
        assert gc.get_count()[0] > young + len(kept) * 9 // 10  # no young collection between
        with long_lived():  # an activation that goes on to the sync nests them
            assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
        assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    assert gc.get_threshold() == before
