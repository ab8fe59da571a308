"""In-memory storage of one tenant: id-ordered collections and the change feed.

Both answer a page in O(page): collections keep a sorted id list (bisect), the feed keeps its
events in a list indexed by sequence.
"""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from .problems import ProblemError

Record = dict[str, Any]


class Collection:
    """Records of one resource, keyed by id, listed in id order."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.order: list[str] = []

    def __len__(self) -> int:
        return len(self.records)

    def get(self, record_id: str) -> Record | None:
        """The record with this id, or None."""
        return self.records.get(record_id)

    def put(self, record: Record) -> None:
        """Insert or replace (records are replaced, never mutated: readers keep a stable copy)."""
        record_id = record["id"]
        if record_id not in self.records:
            bisect.insort(self.order, record_id)
        self.records[record_id] = record

    def remove(self, record_id: str) -> None:
        """Forget a record."""
        del self.records[record_id]
        del self.order[bisect.bisect_left(self.order, record_id)]

    def page(
        self,
        after: str | None,
        limit: int,
        keep: Callable[[Record], bool] | None = None,
        ids: Iterable[str] | None = None,
    ) -> tuple[list[Record], str | None]:
        """Up to ``limit`` records with id > ``after`` that ``keep``; and the next cursor.

        The cursor is the last id returned while ids remain after it (with a filter, the
        following page may turn out empty).
        """
        order = sorted(set(ids)) if ids is not None else self.order
        start = bisect.bisect_right(order, after) if after is not None else 0
        found: list[Record] = []
        position = start
        while position < len(order) and len(found) < limit:
            record = self.records.get(order[position])
            position += 1
            if record is not None and (keep is None or keep(record)):
                found.append(record)
        more = position < len(order) and len(found) == limit
        return found, (found[-1]["id"] if more and found else None)


class Feed:
    """The tenant's change events, kept up to ``retention`` of them."""

    def __init__(self, retention: int) -> None:
        self.retention = retention
        self.epoch = secrets.token_hex(4)
        self.events: list[Record] = []
        self.start = 0  # index in ``events`` of the oldest retained event
        self.base = 1  # sequence of events[0]
        self.head = 0  # sequence of the newest event (0 before the first)

    @property
    def first_retained(self) -> int:
        """Sequence of the oldest event still readable (head + 1 when none are)."""
        return self.base + self.start

    def cursor(self, sequence: int) -> str:
        """The opaque cursor that continues after ``sequence``."""
        return f"{self.epoch}.{sequence}"

    def append(self, event: Record) -> Record:
        """Add an event (``sequence`` is assigned here) and trim to the retention."""
        self.head += 1
        event = {"sequence": self.head, **event}
        self.events.append(event)
        self.keep_last(self.retention)
        return event

    def keep_last(self, count: int) -> None:
        """Drop all but the newest ``count`` events (cursors before them expire)."""
        retained = len(self.events) - self.start
        if retained > count:
            self.start += retained - count
        if self.start > 1024 and self.start * 2 > len(self.events):
            del self.events[: self.start]
            self.base += self.start
            self.start = 0

    def read(self, cursor: str | None, limit: int) -> tuple[list[Record], str, bool]:
        """Events after ``cursor``; raises 410 cursor-expired when it is unknown or too old."""
        after = self.first_retained - 1 if cursor is None else self._parse(cursor)
        if after < self.first_retained - 1:
            raise _expired("This cursor is older than the feed's retention.")
        index = after + 1 - self.base
        events = self.events[index : index + limit]
        last = events[-1]["sequence"] if events else after
        return events, self.cursor(last), last < self.head

    def _parse(self, cursor: str) -> int:
        epoch, _, number = cursor.partition(".")
        if epoch != self.epoch or not number.isascii() or not number.isdigit():
            raise _expired("This cursor is unknown to this tenant's feed.")
        if int(number) > self.head:
            raise _expired("This cursor is unknown to this tenant's feed.")
        return int(number)


def _expired(reason: str) -> ProblemError:
    return ProblemError(
        410,
        "cursor-expired",
        f"{reason} Changes may have been missed: resynchronise (read every record again), "
        "then continue from GET /changes/latest.",
        resync=True,
    )
