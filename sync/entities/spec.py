"""The shape of an entity's spec: its field rows and what is declared about the entity.

See :mod:`sync.entities` for how the specs are used, and one module per entity beside this one
for the specs themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sync.records import Entity, Record, System


class Kind(StrEnum):
    """What a field holds; it picks the normaliser (``comparable``) and the cleaner."""

    TEXT = "text"
    EMAIL = "e-mail"
    PHONE = "phone"
    ORG_NUMBER = "org number"
    CUSTOMER_NUMBER = "customer number"
    DATE = "date"
    DATETIME = "date and time"
    NUMBER = "number"
    ADDRESS = "address"
    REFERENCE = "reference"
    FLAG = "flag"
    CHOICE = "choice"


class OnDelete(StrEnum):
    """What a delete on one side does to the other side."""

    DEACTIVATE_IN_SVENN = "deactivate in Svenn"
    CLOSE_IN_SVENN = "close in Svenn"
    CLOSE_IN_TRIPLETEX = "close in Tripletex"
    LOG_ONLY = "log for the tenant, change nothing"


@dataclass(frozen=True)
class DeleteRule:
    """The rule for a record deleted (gone) in one system; the link is dropped after."""

    action: OnDelete
    advice_en: str = ""
    advice_no: str = ""


@dataclass(frozen=True)
class FieldSpec:
    """One field of an entity, as both systems name it.

    ``svenn``/``tripletex`` are the vendor's field names (``None``: that system does not hold
    it); ``tripletex_select`` is the ``fields=`` selection when it differs from the name (a
    nested object). ``svenn_converter``/``tripletex_converter`` name a special case the
    connector's mapping module implements (read and write), instead of the kind's default.
    ``synced``: merged and kept equal by the realtime sync (else mapped only). ``winner``
    overrides the entity's default winner of a same-field conflict; ``owner`` is the only
    system whose changes travel (the other's are put back, or stay there when ``local``).
    ``*_read_only``: the connector reads it but never writes it to that system. ``required``:
    a vendor record without it is malformed.
    """

    name: str
    kind: Kind
    svenn: str | None
    tripletex: str | None
    tripletex_select: str | None = None
    svenn_converter: str | None = None
    tripletex_converter: str | None = None
    synced: bool = True
    winner: System | None = None
    owner: System | None = None
    local: bool = False
    svenn_read_only: bool = False
    tripletex_read_only: bool = False
    required: bool = False

    def travels_to(self, system: System) -> bool:
        """True when a change made in the other system is written to ``system``."""
        if not self.synced:
            return False
        return self.owner is None or self.owner is not system


@dataclass(frozen=True)
class Endpoints:
    """Where an entity lives in each API, and what Tripletex's API does differently for it.

    ``tripletex``/``svenn``: the resource path. ``inactive_filter``: Tripletex lists filter on
    ``isInactive`` (default false, one value per read), so both states are read.
    ``closed_hidden_from_ids``: ``id=1,2,3`` leaves closed records out (Tripletex issue #101),
    so missing ids are read one by one. ``batch_update``: ``PUT <path>/list`` exists.
    ``deactivate``: the fields a soft delete sets (None: there is no soft delete). ``dated``:
    a list needs ``dateFrom``/``dateTo`` (the record's ``date`` bounds it). ``pushed``:
    Tripletex sends webhook events for it (``<entity>.create|update|delete``).
    """

    tripletex: str
    svenn: str
    inactive_filter: bool = False
    closed_hidden_from_ids: bool = False
    batch_update: bool = True
    deactivate: Mapping[str, Any] | None = None
    dated: bool = False
    pushed: bool = False


@dataclass(frozen=True)
class EntitySpec:
    """Everything declared about one entity; see the module docstring.

    ``label_en``/``label_no`` name the entity for ops and the tenant; ``name_fields`` and
    ``number_field`` name a record the way the tenant recognises it (the failed-record log);
    ``suite`` is the expectation suite its extracts run through; ``match_keys`` are the keys
    the initial sync matches on, strongest first (implemented in :mod:`sync.keys`);
    ``on_delete`` says what a delete in each system does to the other side; ``endpoints``
    where it lives in each API; ``unique_keys`` the fields (in groups, strongest first) that
    name one record exactly, by which a create whose outcome is unknown (a timeout) is looked
    up again (client-side, exact: Tripletex searches are fuzzy).
    """

    entity: Entity
    record: type[Record]
    label_en: str
    label_no: str
    fields: tuple[FieldSpec, ...]
    endpoints: Endpoints
    unique_keys: tuple[tuple[str, ...], ...] = ()
    winner: System = System.TRIPLETEX
    suite: str | None = None
    match_keys: tuple[str, ...] = ()
    on_delete: Mapping[System, DeleteRule] = field(default_factory=dict)
    name_fields: tuple[str, ...] = ()
    number_field: str | None = None
    tripletex_create_converter: str | None = None
    svenn_external_ref: bool = True

    def field(self, name: str) -> FieldSpec:
        """The row of field ``name`` (KeyError when the entity has none)."""
        for row in self.fields:
            if row.name == name:
                return row
        raise KeyError(f"{self.entity.value} has no field {name!r}")

    @property
    def synced_fields(self) -> tuple[str, ...]:
        """The fields the realtime sync keeps equal, in row order."""
        return tuple(f.name for f in self.fields if f.synced)
