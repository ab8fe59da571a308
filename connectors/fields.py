"""Typed reads of one vendor record's fields, for the mappers of every connector.

Each read checks the JSON type the API documents and raises
:class:`~sync.malformed.MalformedFieldError` naming the field (dotted for nested ones, e.g.
``postalAddress.city``) and the value as received, so that one bad record becomes one failed
record instead of an exception somewhere inside a sync.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterator, Mapping
from decimal import Decimal
from typing import Any

from sync.malformed import MalformedFieldError, Problem

_MISSING = object()


class Fields:
    """The fields of one JSON object; ``path`` names it inside its record ("" at the top)."""

    def __init__(self, row: Any, path: str = "") -> None:
        if not isinstance(row, Mapping):
            raise MalformedFieldError(path or "(record)", row, Problem.NOT_OBJECT)
        self.row: Mapping[str, Any] = row
        self.path = path

    def name(self, key: str) -> str:
        """The field's name as shown in a failed record."""
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool) -> Any:
        value = self.row.get(key)
        if value is None and required:
            raise MalformedFieldError(self.name(key), value, Problem.MISSING)
        return value

    def text(self, key: str, *, required: bool = False) -> str | None:
        """A string field (``None`` when absent or null)."""
        value = self._get(key, required)
        if value is not None and not isinstance(value, str):
            raise MalformedFieldError(self.name(key), value, Problem.NOT_TEXT)
        return value

    def integer(self, key: str, *, required: bool = False) -> int | None:
        """A whole-number field (booleans and numeric strings are not whole numbers)."""
        value = self._get(key, required)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise MalformedFieldError(self.name(key), value, Problem.NOT_INTEGER)
        return value

    def number(self, key: str, *, required: bool = False) -> Decimal | None:
        """A finite JSON number as a :class:`Decimal`."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MalformedFieldError(self.name(key), value, Problem.NOT_NUMBER)
        if isinstance(value, float) and not math.isfinite(value):
            raise MalformedFieldError(self.name(key), value, Problem.NOT_NUMBER)
        return Decimal(str(value))

    def boolean(self, key: str, default: bool) -> bool:
        """A true/false field (``default`` when absent or null)."""
        value = self.row.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise MalformedFieldError(self.name(key), value, Problem.NOT_BOOLEAN)
        return value

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        """An ISO date ``YYYY-MM-DD`` (a time after it is ignored); empty text is no date."""
        value = self._get(key, required)
        if value is None or value == "":
            if required:
                raise MalformedFieldError(self.name(key), value, Problem.MISSING)
            return None
        day = _iso_date(value)
        if day is None:
            raise MalformedFieldError(self.name(key), value, Problem.NOT_DATE)
        return day

    def datetime(self, key: str) -> dt.datetime | None:
        """An ISO date-time (``Z`` accepted); ``None`` when absent, null or empty."""
        value = self.row.get(key)
        if value is None or value == "":
            return None
        try:
            return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise MalformedFieldError(self.name(key), value, Problem.NOT_DATETIME) from None

    def choice(self, key: str, allowed: Collection[str], default: str) -> str:
        """A field that takes one of ``allowed`` (``default`` when absent or null)."""
        value = self.row.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or value not in allowed:
            raise MalformedFieldError(self.name(key), value, Problem.NOT_ALLOWED)
        return value

    def nested(self, key: str) -> Fields | None:
        """A nested object (``None`` when absent, null or empty)."""
        value = self.row.get(key)
        if value is None or value == {}:
            return None
        return Fields(value, self.name(key))

    def items(self, key: str) -> Iterator[Fields]:
        """The objects of a list field (nothing when absent or null)."""
        value = self.row.get(key)
        if value is None:
            return
        if not isinstance(value, list):
            raise MalformedFieldError(self.name(key), value, Problem.NOT_LIST)
        for index, item in enumerate(value):
            yield Fields(item, f"{self.name(key)}[{index}]")


def _iso_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10 or (len(value) > 10 and value[10] not in "T "):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
