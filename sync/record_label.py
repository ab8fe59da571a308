"""How a failed record is named and found in the tenant's log.

A failed-record row stores the record as it was read (``payload``, redacted); from it this
module derives the name and number a tenant recognises and one lower-cased search text holding
the name, numbers, e-mail and organisation number (plus both ids), so that typing "hansen"
finds "Hansen Bygg AS" with a plain ``LIKE`` on every database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.entities import SPECS

# Per entity: the payload fields that name the record, that number it (from the specs), and
# that also find it.
NAME_FIELDS: dict[str, tuple[str, ...]] = {
    spec.entity.value: spec.name_fields for spec in SPECS.values() if spec.name_fields
}
NUMBER_FIELDS: dict[str, str] = {
    spec.entity.value: spec.number_field for spec in SPECS.values() if spec.number_field
}
NAME_MAX, NUMBER_MAX = 255, 64  # the columns' widths
FINDING_FIELDS = ("email", "organization_number", "phone", "date", "entry")


@dataclass(frozen=True)
class RecordLabel:
    """A record's name and number as the tenant sees them, and the text a search runs over."""

    name: str | None
    number: str | None
    search_text: str


def search_form(text: str) -> str:
    """The form both the stored search text and a query take: case-folded, and digits with
    spaces in between ("923 456 789") joined, as organisation numbers are often typed."""
    folded = text.casefold().strip()
    if folded.replace(" ", "").isdigit():
        return folded.replace(" ", "")
    return folded


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def label_record(
    entity: str,
    payload: Mapping[str, Any] | None,
    svenn_id: str | None = None,
    tripletex_id: str | None = None,
) -> RecordLabel:
    """The name, number and search text of a failed record (payload may be None or partial)."""
    data = payload or {}
    name, number = _name_and_number(entity, data)
    found = [name, number, *(_text(data.get(field)) for field in FINDING_FIELDS)]
    found += [svenn_id, tripletex_id]
    search = "\n".join(search_form(value) for value in found if value)
    return RecordLabel(
        name=name[:NAME_MAX] if name else None,
        number=number[:NUMBER_MAX] if number else None,
        search_text=search,
    )


def name_and_number(
    entity: str, payload: Mapping[str, Any] | None
) -> tuple[str | None, str | None]:
    """:func:`label_record`'s name and number alone (no search text)."""
    name, number = _name_and_number(entity, payload or {})
    return (name[:NAME_MAX] if name else None, number[:NUMBER_MAX] if number else None)


def _name_and_number(entity: str, data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The record's name and number, untruncated."""
    parts = [_text(data.get(field)) for field in NAME_FIELDS.get(entity, ())]
    name = " ".join(p for p in parts if p) or None
    if name is None and entity == "hours" and _text(data.get("date")):
        name = f"Timer {data['date']}"
    number = _text(data.get(NUMBER_FIELDS.get(entity, "")))
    return name, number
