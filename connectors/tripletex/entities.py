"""What the connector needs to know per Tripletex entity, read from the entity's spec: the path,
the ``fields=`` selection, the mappers, the unique keys and what the API does differently.

Unique keys are used to reconcile a create whose outcome is unknown (a timeout): the record is
looked up and matched *exactly*, client-side, because Tripletex searches are fuzzy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from connectors.tripletex import mapping as m
from sync.entities import SPECS, Endpoints, EntitySpec
from sync.merge import comparable
from sync.records import Entity, Record

JsonDict = dict[str, Any]


def unique_keys(spec: EntitySpec, record: Record) -> list[tuple[str, str]]:
    """The record's unique keys, strongest first, as the spec's ``unique_keys`` name them: each
    group's values as compared (one e-mail form, an organisation number's digits, text trimmed
    and in lower case) joined by ``|``; a group without any value is left out."""
    keys: list[tuple[str, str]] = []
    for group in spec.unique_keys:
        parts = [comparable(name, getattr(record, name)) for name in group]
        if any(part is not None for part in parts):
            text = "|".join("" if p is None else str(p).lower() for p in parts)
            keys.append(("+".join(group), text))
    return keys


def _to_json(record: Record, include_identity: bool) -> JsonDict:
    # an update carries the identity; only a create adds what the spec's create converter adds
    return m.record_to_tripletex(
        record, include_identity=include_identity, for_create=not include_identity
    )


@dataclass(frozen=True)
class EntityApi:
    """One Tripletex entity as the generic calls of
    :class:`~connectors.tripletex.client.TripletexClient` use it (built from its spec)."""

    spec: EntitySpec
    fields: str
    from_json: Callable[[Mapping[str, Any]], Record]
    to_json: Callable[[Any, bool], JsonDict]

    @classmethod
    def of(cls, spec: EntitySpec) -> EntityApi:
        """The entity's API as its spec declares it."""
        return cls(
            spec, m.field_selection(spec), partial(m.record_from_tripletex, spec.entity), _to_json
        )

    @property
    def entity(self) -> Entity:
        return self.spec.entity

    @property
    def name(self) -> str:
        """How logs and errors name it (``customer``, ``hours``)."""
        return self.spec.label_en

    @property
    def endpoints(self) -> Endpoints:
        return self.spec.endpoints

    @property
    def path(self) -> str:
        return self.spec.endpoints.tripletex

    @property
    def batch_path(self) -> str:
        """The batch endpoint (``POST``/``PUT <path>/list``)."""
        return f"{self.path}/list"

    def keys(self, record: Record) -> list[tuple[str, str]]:
        """The record's unique keys, strongest first (see :func:`unique_keys`)."""
        return unique_keys(self.spec, record)


ENTITIES: dict[Entity, EntityApi] = {entity: EntityApi.of(spec) for entity, spec in SPECS.items()}
