"""Build the DataFrames the suites validate, from canonical records (pure: pandas only).

One row per record, one column per field (nested addresses flattened as
``postal_address_city``), JSON-safe values, plus the check columns the suites need:

- ``email_normalized`` (extracts with an ``email`` column): trimmed and case-folded, so that
  ``employees_extract`` can expect e-mails unique case-insensitively;
- ``<key>_equal`` (links frame): whether the key field agrees across the link.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from pydantic import BaseModel

from sync import normalize
from sync.entities import Customer, Employee, Project
from sync.records import Entity, Record

# Key fields compared across a link, per entity. Values are normalised before comparing
# (see _normalise) so that "Bygg AS" and "BYGG  AS" count as equal.
_KeyOf = Callable[[Record], Any]
LINK_KEYS: dict[Entity, dict[str, _KeyOf]] = {
    Entity.CUSTOMER: {
        "name": lambda r: r.name if isinstance(r, Customer) else None,
        "organization_number": lambda r: r.organization_number if isinstance(r, Customer) else None,
    },
    Entity.EMPLOYEE: {
        "name": lambda r: (
            " ".join(p for p in (r.first_name, r.last_name) if p)
            if isinstance(r, Employee)
            else None
        ),
        "email": lambda r: r.email if isinstance(r, Employee) else None,
    },
    Entity.PROJECT: {
        "name": lambda r: r.name if isinstance(r, Project) else None,
        "number": lambda r: r.number if isinstance(r, Project) else None,
    },
}
# Match keys that are identifiers: a link made on one of them does not need equal names.
IDENTIFIER_KEYS = frozenset({"org_number", "customer_number", "email", "employee_number", "number"})
LINK_KEY_FIELDS: tuple[str, ...] = ("name", "organization_number", "email", "number")
SYSTEM_COLUMN = "system"  # extract frames: whose records
ROW_COLUMN = "row"  # sides frames: ``system:id``, the id failed rows are reported by


def extract_frame(
    records: Iterable[Record], record_type: type[Record] | None = None, system: str = ""
) -> pd.DataFrame:
    """One row per record, one column per field, plus ``email_normalized`` when relevant, and
    ``system``: whose records they are (the extract suites expect ids and numbers unique within
    a system, so both systems' records of an entity are checked in one frame; see
    :func:`sides_frame`).

    ``record_type`` gives the columns when ``records`` may be empty.
    """
    rows = [_flatten(r) for r in records]
    if rows or record_type is None:
        frame = pd.DataFrame(rows, dtype=object)
    else:
        frame = pd.DataFrame(columns=list(record_type.model_fields), dtype=object)
    frame[SYSTEM_COLUMN] = system
    # Formatting is not an error (matching normalises it): check the cleaned values.
    if "organization_number" in frame.columns:
        frame["organization_number"] = frame["organization_number"].map(_org_digits)
    if "email" in frame.columns:
        frame["email"] = frame["email"].map(_normalise_email)
        frame["email_normalized"] = frame["email"]
    return _json_safe(frame)


def sides_frame(sides: Mapping[str, Sequence[Record]]) -> pd.DataFrame:
    """Every system's records of one entity in one frame (``sides``: system -> records, at
    least one record in all), each row's ``row`` column ``system:id`` (None without an id)."""
    records = [record for found in sides.values() for record in found]
    systems = [system for system, found in sides.items() for _ in found]
    frame = extract_frame(records, type(records[0]))
    frame[SYSTEM_COLUMN] = systems
    frame[ROW_COLUMN] = [side_row(system, r) for system, r in zip(systems, records, strict=True)]
    return frame


def side_row(system: str, record: Record) -> str | None:
    """``record``'s row id in a sides frame: ``system:id`` (None without an id)."""
    return None if record.id is None else f"{system}:{record.id}"


def links_frame(
    entity: Entity,
    links: Iterable[tuple[str | None, str | None] | tuple[str | None, str | None, str | None]],
    svenn: Mapping[str, Record],
    tripletex: Mapping[str, Record],
) -> pd.DataFrame:
    """One row per ``(svenn_id, tripletex_id)`` link with both sides' key fields compared.

    ``svenn``/``tripletex`` map ids to the records read back after the sync. A side that is
    missing (dangling link) makes every ``<key>_equal`` False. ``<key>_equal`` is None where
    the key does not apply to the entity (e.g. ``organization_number`` for projects). ``id``
    is ``entity:svenn_id:tripletex_id`` so failed rows can be traced to the link.
    """
    keys = LINK_KEYS[entity]
    rows: list[dict[str, Any]] = []
    for link in links:
        svenn_id, tripletex_id = link[0], link[1]
        # A name is free text (typos, spelling): when an identifier made the link, it may differ.
        name_counts = (link[2] if len(link) > 2 else None) not in IDENTIFIER_KEYS
        s = svenn.get(svenn_id) if svenn_id is not None else None
        t = tripletex.get(tripletex_id) if tripletex_id is not None else None
        row: dict[str, Any] = {
            "id": f"{entity.value}:{svenn_id}:{tripletex_id}",
            "entity": entity.value,
            "svenn_id": svenn_id,
            "tripletex_id": tripletex_id,
        }
        for field in LINK_KEY_FIELDS:
            key_of = keys.get(field) if field != "name" or name_counts else None
            s_value = key_of(s) if key_of and s is not None else None
            t_value = key_of(t) if key_of and t is not None else None
            row[f"svenn_{field}"] = s_value
            row[f"tripletex_{field}"] = t_value
            row[f"{field}_equal"] = _key_equal(key_of is not None, s, t, field, s_value, t_value)
        rows.append(row)
    return _json_safe(pd.DataFrame(rows, columns=_link_columns(), dtype=object))


def link_rows_of(entity: Entity) -> Callable[[str], bool]:
    """Whether a links frame's row id (``entity:svenn_id:tripletex_id``) is ``entity``'s."""
    prefix = f"{entity.value}:"
    return lambda row: row.startswith(prefix)


def _key_equal(
    applies: bool, s: Record | None, t: Record | None, field: str, s_value: Any, t_value: Any
) -> bool | None:
    """None when the key does not apply or one side has no value; False for a dangling link."""
    if not applies:
        return None
    if s is None or t is None:
        return False
    left, right = _normalise(field, s_value), _normalise(field, t_value)
    if left is None or right is None:  # a value missing on one side is not a disagreement
        return None
    return left == right


def _link_columns() -> list[str]:
    columns = ["id", "entity", "svenn_id", "tripletex_id"]
    for field in LINK_KEY_FIELDS:
        columns += [f"svenn_{field}", f"tripletex_{field}", f"{field}_equal"]
    return columns


def _json_safe(frame: pd.DataFrame) -> pd.DataFrame:
    # Object columns holding None (not NaN) survive json.dumps and keep ints as ints.
    return frame.astype(object).where(frame.notna(), None)


def _flatten(record: Record) -> dict[str, Any]:
    data = record.model_dump(mode="json")
    nested = _nested_models(type(record))
    if not nested:
        return data
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in nested:  # an absent address still gives its columns: every row has one shape
            flat.update({f"{key}_{sub}": (value or {}).get(sub) for sub in nested[key]})
        else:
            flat[key] = value
    return flat


@functools.cache
def _nested_models(record_type: type[Record]) -> dict[str, tuple[str, ...]]:
    """Fields holding a nested model (e.g. ``postal_address``), with that model's fields."""
    nested: dict[str, tuple[str, ...]] = {}
    for name, info in record_type.model_fields.items():
        for candidate in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                nested[name] = tuple(candidate.model_fields)
    return nested


def _normalise_email(value: object) -> str | None:
    return value.strip().casefold() if isinstance(value, str) else None


def _org_digits(value: object) -> str | None:
    return normalize.org_number_digits(value) if isinstance(value, str) else None


def _normalise(field: str, value: object) -> str | None:
    """The form matching compares: formatting, case, legal forms and diacritics do not count."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value)
    if field == "organization_number":
        return normalize.org_number_digits(text)
    if field == "email":
        return text.strip().casefold()
    # Legal forms do not count here: a link made on a name already had compatible forms, and
    # one made on an identifier may pair "Bygg AS" with "Bygg" written without its form.
    return normalize.company_stem(text) or None
