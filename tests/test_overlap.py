"""Batches sent one at a time, each stored while the next is on its way, in order."""

from __future__ import annotations

import asyncio

import pytest

from tasks.overlap import batches, overlapped


class Target:
    """Records what happens, in order: a batch sent, answered, stored."""

    def __init__(self, fail_send: int | None = None, fail_settle: int | None = None) -> None:
        self.events: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail_send, self.fail_settle = fail_send, fail_settle

    async def send(self, batch: int) -> str:
        self.events.append(f"send {batch}")
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)  # the target at work
        self.in_flight -= 1
        if batch == self.fail_send:
            raise ConnectionError(f"batch {batch} lost")
        self.events.append(f"answer {batch}")
        return f"outcome {batch}"

    async def settle(self, batch: int, outcome: str) -> None:
        assert outcome == f"outcome {batch}"
        self.events.append(f"store {batch}")
        if batch == self.fail_settle:
            raise RuntimeError("store down")


def test_each_batch_is_stored_while_the_next_is_sent_one_in_flight_in_order() -> None:
    target = Target()
    asyncio.run(overlapped([1, 2, 3], target.send, target.settle))
    assert target.events == [
        "send 1",
        "answer 1",
        "send 2",  # on its way before batch 1 is stored
        "store 1",
        "answer 2",
        "send 3",
        "store 2",
        "answer 3",
        "store 3",
    ]
    assert target.most_in_flight == 1


def test_a_failed_send_stops_before_anything_after_it_and_its_batch_is_not_stored() -> None:
    target = Target(fail_send=2)
    with pytest.raises(ConnectionError, match="batch 2 lost"):
        asyncio.run(overlapped([1, 2, 3], target.send, target.settle))
    assert target.events == ["send 1", "answer 1", "send 2", "store 1"]


def test_a_failed_store_waits_for_the_batch_on_its_way_and_raises_the_stores_error() -> None:
    target = Target(fail_settle=1)
    with pytest.raises(RuntimeError, match="store down"):
        asyncio.run(overlapped([1, 2, 3], target.send, target.settle))
    assert target.events == ["send 1", "answer 1", "send 2", "store 1", "answer 2"]


def test_no_batches_send_nothing() -> None:
    target = Target()
    asyncio.run(overlapped([], target.send, target.settle))
    assert target.events == []


def test_batches_are_consecutive_and_only_the_last_is_shorter() -> None:
    assert batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert batches([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]
    assert batches([], 200) == []
