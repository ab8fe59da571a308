"""Awaiting several calls at once, without leaving any running when one fails."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def together(*calls: Awaitable[Any]) -> list[Any]:
    """Each call's result, in order, as ``asyncio.gather`` gives them; but when one fails, the
    others are cancelled and waited for before its error is raised.

    ``asyncio.gather`` raises the first error and leaves the other calls running: a read of
    Tripletex went on after the run had stopped and closed its clients, and its next request
    opened a connection pool of its own that nothing closed. The error raised is the first
    one, as with ``gather`` (not an ``ExceptionGroup``, as a ``TaskGroup`` would raise).
    """
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for running in tasks:
            running.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
