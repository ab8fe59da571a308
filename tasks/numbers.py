"""Write back to Svenn the numbers Tripletex assigned to records created from Svenn records."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from connectors.errors import ApiError
from connectors.svenn.client import WRITE_CONCURRENCY, SvennClient
from connectors.together import together
from sync.numbers import assigned_numbers
from sync.realtime import with_fields
from sync.records import Record


async def write_back_numbers(
    svenn: SvennClient, pairs: Sequence[tuple[Record, Record]]
) -> tuple[list[tuple[Record, Record]], list[tuple[Record, ApiError]]]:
    """For (created Tripletex record, Svenn source) pairs: PATCH each assigned number into the
    Svenn record. Returns the pairs with the Svenn record as it is now, and each Tripletex
    record whose number Svenn refused with Svenn's error (that pair keeps its Svenn record)."""
    gate = asyncio.Semaphore(WRITE_CONCURRENCY)
    refused: list[tuple[Record, ApiError]] = []

    async def one(created: Record, source: Record) -> tuple[Record, Record]:
        numbers = assigned_numbers(source, created)
        if not numbers:
            return created, source
        async with gate:
            try:
                return created, await svenn.update(
                    with_fields(source, numbers), fields=list(numbers)
                )
            except ApiError as error:
                if error.retryable or error.status in (401, 403):
                    raise
                refused.append((created, error))
                return created, source

    done = await together(*(one(created, source) for created, source in pairs))
    return list(done), refused
