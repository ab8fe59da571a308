"""Numbers a system assigns on create, which travel back to the record they were created from.

Tripletex gives a customer without a number the next customer number, and a project without a
number the next project number; Svenn assigns none, and neither system assigns employee numbers
(they travel as any field). So a record created in Tripletex from Svenn has its assigned number
written back to Svenn in the same step, and the linked pair agrees on every field.
"""

from __future__ import annotations

from typing import Any

from sync.records import Entity, Record

ASSIGNED_BY_TRIPLETEX: dict[Entity, str] = {
    Entity.CUSTOMER: "customer_number",
    Entity.PROJECT: "number",
}
"""Per entity: the field Tripletex fills in on create when it is missing."""


def assigned_numbers(source: Record, created: Record) -> dict[str, Any]:
    """``{field: value}`` of the numbers ``created`` got that ``source`` does not hold (empty when
    they agree): what to write back to the source's system."""
    name = ASSIGNED_BY_TRIPLETEX.get(source.entity)
    if name is None:
        return {}
    ours, theirs = source.synced_fields().get(name), created.synced_fields().get(name)
    if theirs is None or ours == theirs:
        return {}
    return {name: theirs}


__all__ = ["ASSIGNED_BY_TRIPLETEX", "assigned_numbers"]
