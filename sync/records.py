"""Canonical records: what every record shares, in one shape for both systems.

The record type of each entity lives with its spec in :mod:`sync.entities` (``Customer`` in
``sync/entities/customer.py``, ...); this module holds their base, the entity and system names,
and the shapes they share (an address, an activity).

Each connector maps its vendor JSON to and from these records. ``id`` and ``version`` belong
to the system the record was read from (or ``None`` before it is created there); references to
other records (``customer_id``, ``project_manager_id``, ...) are ids *in that same system*.
The sync layer translates references across systems through links.

The fingerprint covers only synced fields, never ``id``/``version``/references, so that an
echo of our own write is recognisable on the other side.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, model_validator

from sync.normalize import without_controls


class Entity(StrEnum):
    """The kinds of record we sync, in the order the initial sync handles them."""

    EMPLOYEE = "employee"
    CUSTOMER = "customer"
    PROJECT = "project"
    HOURS = "hours"


class System(StrEnum):
    """The two systems we keep in sync."""

    SVENN = "svenn"
    TRIPLETEX = "tripletex"

    @property
    def other(self) -> System:
        """The system on the other side."""
        return System.TRIPLETEX if self is System.SVENN else System.SVENN


class Direction(StrEnum):
    """Which way a record was travelling."""

    TRIPLETEX_TO_SVENN = "tripletex_to_svenn"
    SVENN_TO_TRIPLETEX = "svenn_to_tripletex"

    @classmethod
    def leaving(cls, system: str) -> Direction:
        """The way a record of ``system`` ("svenn" or "tripletex") travels to the other."""
        return cls(f"{system}_to_{System(system).other}")

    @property
    def source(self) -> System:
        """The system the record travels from."""
        return System(self.split("_to_")[0])


class CleanText(BaseModel):
    """Text fields hold no control characters (NUL, ESC, ...), whichever system sent them.

    Tabs and line breaks become a space except in ``multiline_fields``. See
    :func:`sync.normalize.without_controls`. One pass over the values given, before the
    fields are validated (a validator call per field was most of building a record); a field
    in ``cleaned_by_field`` is left to its own validator, which cleans it after its own step.
    """

    multiline_fields: ClassVar[frozenset[str]] = frozenset()
    cleaned_by_field: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _without_controls(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned: dict[Any, Any] | None = None
        for name, value in data.items():
            if not isinstance(value, str) or value.isprintable():
                continue  # most values: nothing a control-character pattern would match
            if name in cls.cleaned_by_field:
                continue
            if cleaned is None:
                cleaned = dict(data)
            cleaned[name] = without_controls(value, multiline=name in cls.multiline_fields)
        return data if cleaned is None else cleaned


class Address(CleanText):
    """A postal address as both systems hold it."""

    model_config = ConfigDict(frozen=True)

    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country_code: str | None = None  # ISO 3166-1 alpha-2, e.g. "NO"


def address_of(
    line1: str | None,
    line2: str | None,
    postal_code: str | None,
    city: str | None,
    country_code: str | None,
) -> Address | None:
    """The address of these parts as read from either system, ``None`` when every part is
    missing (validation keeps text, empty text too, as text: only all-None parts are no
    address)."""
    parts = (line1, line2, postal_code, city, country_code)
    if parts.count(None) == len(parts):
        return None
    return Address(
        address_line1=line1,
        address_line2=line2,
        postal_code=postal_code,
        city=city,
        country_code=country_code,
    )


class Record(CleanText):
    """Base of every canonical record: the id and version on its own system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: ClassVar[Entity]
    # Fields that are not "content": excluded from the fingerprint and from field merges.
    identity_fields: ClassVar[frozenset[str]] = frozenset({"id", "version"})
    # Fields that point at other records on the same system (translated through links).
    reference_fields: ClassVar[frozenset[str]] = frozenset()

    id: str | None = None
    version: int | None = None

    def synced_fields(self) -> dict[str, Any]:
        """The content fields as JSON-safe values (no id, version or references)."""
        skip = self.identity_fields | self.reference_fields
        data = self.model_dump(mode="json", exclude=set(skip))
        return data

    def fingerprint(self) -> str:
        """Stable hash of the synced fields: equal content gives an equal fingerprint."""
        return fingerprint_of(self.synced_fields())


def fingerprint_of(synced: dict[str, Any]) -> str:
    """:meth:`Record.fingerprint` of a record whose ``synced_fields()`` are ``synced`` (for a
    caller that holds them already).

    The text hashed is ``json.dumps(synced, sort_keys=True, separators=(",", ":"))``, as it
    always was (fingerprints stored on links stay comparable). orjson writes that same text
    about 30 times faster when it is plain printable ASCII without floats (most records); any
    other content (``ø``, which json writes as ``\\u00f8``, a float, DEL) goes through json.
    """
    text = _as_json_writes_it(synced)
    if text is None:
        text = json.dumps(synced, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(text).hexdigest()[:32]


def _as_json_writes_it(synced: dict[str, Any]) -> bytes | None:
    """orjson's text of ``synced`` when it is the text json writes (printable ASCII, no float),
    else ``None``."""
    try:
        text = orjson.dumps(synced, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # a key that is not text, an integer past 64 bits
        return None
    if not text.isascii() or b"\x7f" in text or _holds_float(synced):
        return None
    return text


def _holds_float(value: Any) -> bool:
    """A float anywhere in a JSON value (json and orjson may spell one differently)."""
    values: Iterable[Any]
    if type(value) is dict:
        values = value.values()
    elif type(value) is list or type(value) is tuple:
        values = value
    else:
        return type(value) is float
    for item in values:
        kind = type(item)
        if kind is float or (kind in _NESTED and _holds_float(item)):
            return True
    return False


_NESTED = (dict, list, tuple)


class Activity(CleanText):
    """What hours are registered as (normal time, overtime, travel...). Read-only for sync."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | None = None
    name: str
    number: str | None = None
    is_project_activity: bool = True


SYNC_ORDER: tuple[Entity, ...] = (Entity.EMPLOYEE, Entity.CUSTOMER, Entity.PROJECT)
