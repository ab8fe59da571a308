"""Batches written one after another, each stored while the next is on its way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

B = TypeVar("B")
R = TypeVar("R")
T = TypeVar("T")


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` cut into consecutive batches of ``size`` (the last one shorter)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


async def overlapped(
    batches: Iterable[B],
    send: Callable[[B], Awaitable[R]],
    settle: Callable[[B, R], Awaitable[None]],
) -> None:
    """``send`` each batch (the approval gate, then its writes), then ``settle`` its outcome
    (its links and refusals stored) while the next batch is already sent: the target works on
    one batch while we store the one before, instead of each side waiting for the other.

    One batch is in flight at a time, and batches are sent and settled in order. A batch whose
    send fails is not settled, and no batch after it is sent; when a settle fails, the batch
    already sent is waited for (not cut off mid-request) and the settle's error is raised: what
    was written and not stored is what a crash at that point leaves, and a rerun finds it again
    (Svenn's creates by their ``externalRef``, Tripletex's by the plan's resume key).
    """
    previous: tuple[B, R] | None = None
    for batch in batches:
        sending = asyncio.ensure_future(send(batch))
        if previous is not None:
            try:
                await asyncio.sleep(0)  # the next batch's request goes out before we store
                await settle(*previous)
            except BaseException:
                await asyncio.wait([sending])
                if not sending.cancelled():
                    sending.exception()  # seen: the settle's error is the one raised
                raise
        previous = (batch, await sending)
    if previous is not None:
        await settle(*previous)
