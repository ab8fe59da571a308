"""Several calls at once: their results in order, and none left running when one fails."""

from __future__ import annotations

import asyncio

import pytest

from connectors.together import together


def test_results_come_in_the_order_of_the_calls() -> None:
    async def after(seconds: float, value: int) -> int:
        await asyncio.sleep(seconds)
        return value

    assert asyncio.run(together(after(0.02, 1), after(0.0, 2), after(0.01, 3))) == [1, 2, 3]


def test_when_one_fails_the_others_are_stopped_before_its_error_is_raised() -> None:
    seen: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(5)
            seen.append("slow went on")  # a request after the run had stopped
        except asyncio.CancelledError:
            seen.append("slow stopped")
            raise

    async def failing() -> None:
        await asyncio.sleep(0.01)
        raise ValueError("refused")

    async def run() -> None:
        with pytest.raises(ValueError, match="refused"):
            await together(slow(), failing())
        seen.append("error raised")
        await asyncio.sleep(0.05)  # what asyncio.gather would have left running gets its turn

    asyncio.run(run())
    assert seen == ["slow stopped", "error raised"]
