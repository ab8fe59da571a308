"""When a failed record is due for another try (pure: the clock is passed in).

Rows whose cause is outside the tenant's data (TARGET_UNAVAILABLE: the other system did not
answer) are retried on a schedule with exponential backoff; rows whose cause is in the data wait
for a change or for a person to ask for a retry.
"""

from __future__ import annotations

import datetime as dt

from sync.rules import ReasonCode

# Reasons a scheduled retry takes on its own: nothing in the data has to change first.
RETRIED_ON_SCHEDULE = frozenset({ReasonCode.TARGET_UNAVAILABLE.value})


def backoff(attempts: int, *, first: dt.timedelta, longest: dt.timedelta) -> dt.timedelta:
    """How long after its last attempt a row waits: ``first``, doubling, at most ``longest``."""
    doublings = max(attempts - 1, 0)
    if doublings >= 32:
        return longest
    wait: dt.timedelta = first * (2**doublings)
    return min(wait, longest)


def due_for_retry(
    attempts: int,
    last_seen: dt.datetime,
    now: dt.datetime,
    *,
    first: dt.timedelta,
    longest: dt.timedelta,
) -> bool:
    """True when the backoff after ``attempts`` tries has passed since ``last_seen``."""
    if last_seen.tzinfo is None:  # SQLite hands timestamps back without their zone
        last_seen = last_seen.replace(tzinfo=dt.UTC)
    return now - last_seen >= backoff(attempts, first=first, longest=longest)
