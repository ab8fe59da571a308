"""What a person needs to tell two records apart: a small card per record (name, org number,
e-mail, address, number), stored with a held-back row so the tenant's Logg can show the
candidates side by side without asking either system again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sync.record_label import name_and_number
from sync.records import Record

CARD_FIELDS = ("name", "organization_number", "email", "address", "number")


def _address(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    street = ", ".join(str(value[k]) for k in ("address_line1", "address_line2") if value.get(k))
    place = " ".join(str(value[k]) for k in ("postal_code", "city") if value.get(k))
    return ", ".join(part for part in (street, place) if part) or None


def card_of(entity: str, payload: Mapping[str, Any] | None) -> dict[str, str | None]:
    """The card of one record, from its fields as stored (JSON); absent fields are None."""
    payload = payload or {}
    name, number = name_and_number(entity, payload)  # the search text a label has is no use here
    email, org = payload.get("email"), payload.get("organization_number")
    return {
        "name": name,
        "organization_number": str(org) if org else None,
        "email": str(email) if email else None,
        "address": _address(payload.get("postal_address") or payload.get("address")),
        "number": number,
    }


def cards(ids: Sequence[str], records: Mapping[str, Record]) -> dict[str, dict[str, str | None]]:
    """The cards of the records among ``ids`` that are at hand, by id."""
    return {
        i: card_of(records[i].entity.value, records[i].model_dump(mode="json"))
        for i in ids
        if i in records
    }
