"""Tripletex's calendar: it is a Norwegian system, so its days and times are Oslo's.

Every date Tripletex interprets against "today" (a session's ``expirationDate``, the end of an
employment, the timesheet probe's date range) is an Oslo date, whatever the machine's zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time, aware (the default clock; tests inject a frozen one)."""
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with a zone (a naive one is taken to be the machine's local time)."""
    return moment if moment.tzinfo is not None else moment.astimezone()


def oslo_today(now: Clock = utc_now) -> dt.date:
    """Today's date in Oslo."""
    return aware(now()).astimezone(OSLO).date()


def oslo_midnight(day: dt.date) -> dt.datetime:
    """The moment ``day`` begins in Oslo (aware)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=OSLO)
