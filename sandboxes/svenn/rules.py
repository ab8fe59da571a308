"""Field rules of the Svenn resources: types, required fields, lengths (shape checks only).

Rules that need the tenant's data (uniqueness, references) live in :mod:`.tenant`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .problems import field_error

DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²", which int() refuses
READ_ONLY = frozenset({"id", "version", "createdAt", "updatedAt"})
ADDRESS_FIELDS = ("addressLine1", "addressLine2", "postalCode", "city", "countryCode")
ADDRESS_LIMITS = {"addressLine1": 255, "addressLine2": 255, "postalCode": 20, "city": 100}
HOUR_STATUSES = ("draft", "submitted", "approved", "rejected")


@dataclass(frozen=True)
class FieldRule:
    """What one field accepts."""

    kind: str  # str | int | bool | date | datetime | number | address | enum
    required: bool = False
    nullable: bool = True
    max_length: int | None = None
    min_length: int = 0
    choices: tuple[str, ...] = ()
    ref: str | None = None  # collection the id must exist in
    minimum: float | None = None
    maximum: float | None = None
    admin_only: bool = False  # writable through /_admin edits and seeds, not through the API


def _text(max_length: int, required: bool = False) -> FieldRule:
    return FieldRule("str", required=required, nullable=not required, max_length=max_length)


EXTERNAL_REF = FieldRule("str", max_length=200, min_length=1)
INT32_MAX = 2**31 - 1  # Tripletex stores customer numbers as int32: our connector's limit

FIELDS: dict[str, dict[str, FieldRule]] = {
    "customers": {
        "name": _text(255, required=True),
        "organizationNumber": _text(20),
        "customerNumber": FieldRule("customer_number", minimum=1, maximum=INT32_MAX, max_length=50),
        "email": _text(255),
        "invoiceEmail": _text(255),
        "phone": _text(50),
        "postalAddress": FieldRule("address"),
        "active": FieldRule("bool", nullable=False),
        "externalRef": EXTERNAL_REF,
    },
    "employees": {
        "firstName": _text(100, required=True),
        "lastName": _text(100),
        "email": _text(255),
        "phone": _text(50),
        "employeeNumber": _text(50),
        "dateOfBirth": FieldRule("date"),
        "active": FieldRule("bool", nullable=False),
        "externalRef": EXTERNAL_REF,
    },
    "projects": {
        "name": _text(255, required=True),
        "number": _text(50),
        "customerId": FieldRule("str", ref="customers"),
        "projectManagerId": FieldRule("str", ref="employees"),
        "parentProjectId": FieldRule("str", ref="projects"),
        "startDate": FieldRule("date"),
        "endDate": FieldRule("date"),
        "address": FieldRule("address"),
        "status": FieldRule("enum", nullable=False, choices=("active", "closed")),
        "externalRef": EXTERNAL_REF,
    },
    "activities": {
        "code": _text(50, required=True),
        "name": _text(255, required=True),
        "active": FieldRule("bool", nullable=False),
    },
    "hours": {
        "employeeId": FieldRule("str", required=True, nullable=False, ref="employees"),
        "projectId": FieldRule("str", ref="projects"),
        "activityId": FieldRule("str", ref="activities"),
        "date": FieldRule("date", required=True, nullable=False),
        "hours": FieldRule("number", required=True, nullable=False, minimum=0, maximum=24),
        "comment": _text(1000),
        "status": FieldRule("enum", nullable=False, choices=HOUR_STATUSES),
        "approvedBy": FieldRule("str", admin_only=True, ref="employees"),
        "approvedAt": FieldRule("datetime", admin_only=True),
    },
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "customers": {"active": True},
    "employees": {"active": True},
    "projects": {"status": "active"},
    "activities": {"active": True},
    "hours": {"status": "draft"},
}


def check_shape(
    resource: str, body: Any, *, partial: bool, admin: bool, prefix: str = ""
) -> list[dict[str, str]]:
    """Field errors for a create (``partial=False``) or patch body; empty when the shape is fine."""
    if not isinstance(body, dict):
        return [field_error(prefix.rstrip(".") or "body", "must be a JSON object", "invalid")]
    rules = FIELDS[resource]
    errors: list[dict[str, str]] = []
    for name, value in body.items():
        rule = rules.get(name)
        if name in READ_ONLY and not admin:
            errors.append(field_error(prefix + name, "is read-only", "read_only"))
        elif rule is None or (rule.admin_only and not admin):
            if name not in READ_ONLY:
                errors.append(field_error(prefix + name, "is not a known field", "unknown_field"))
        else:
            message = _check_value(rule, value)
            if message:
                code = "required" if value is None and rule.required else "invalid"
                code = "out_of_range" if message.startswith("must be between") else code
                errors.append(field_error(prefix + name, message, code))
    if not partial:
        for name, rule in rules.items():
            if rule.required and body.get(name) is None and name not in body:
                errors.append(field_error(prefix + name, "is required", "required"))
    if resource == "hours" and not admin and body.get("status") in ("approved", "rejected"):
        errors.append(
            field_error(prefix + "status", "only draft or submitted can be set", "invalid")
        )
    return errors


def _check_value(rule: FieldRule, value: Any) -> str | None:
    if value is None:
        return None if rule.nullable and not rule.required else "is required"
    if rule.kind == "str":
        if not isinstance(value, str):
            return "must be a string"
        if rule.required and not value.strip():
            return "must not be empty"
        if rule.max_length and len(value) > rule.max_length:
            return f"must be at most {rule.max_length} characters"
        if len(value) < rule.min_length:
            return f"must be at least {rule.min_length} character(s)"
        return None
    return _CHECKS[rule.kind](rule, value)


def _check_int(rule: FieldRule, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be an integer"
    if rule.minimum is not None and value < rule.minimum:
        return f"must be at least {rule.minimum:g}"
    if rule.maximum is not None and value > rule.maximum:
        return f"must be at most {rule.maximum:g}"
    return None


def _check_customer_number(rule: FieldRule, value: Any) -> str | None:
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > (rule.max_length or 50):
            return "must be 1 to 50 characters"
        return _check_int(rule, int(text)) if DIGITS.fullmatch(text) else None
    return _check_int(rule, value)


def _check_number(rule: FieldRule, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    low, high = rule.minimum or 0, rule.maximum or 0
    if not low <= value <= high:
        return f"must be between {low:g} and {high:g}"
    return None


def _check_date(rule: FieldRule, value: Any) -> str | None:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return "must be a date (YYYY-MM-DD)"
    return None if len(value) == 10 else "must be a date (YYYY-MM-DD)"


def _check_datetime(rule: FieldRule, value: Any) -> str | None:
    try:
        dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return "must be a date-time (ISO 8601)"
    return None


def _check_address(rule: FieldRule, value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be an object"
    unknown = set(value) - set(ADDRESS_FIELDS)
    if unknown:
        return f"unknown address field(s): {', '.join(sorted(unknown))}"
    if any(v is not None and not isinstance(v, str) for v in value.values()):
        return "address fields must be strings"
    for name, limit in ADDRESS_LIMITS.items():
        if len(value.get(name) or "") > limit:
            return f"{name} must be at most {limit} characters"
    code = value.get("countryCode")
    if code is not None and len(code) != 2:
        return "countryCode must be two letters (ISO 3166-1)"
    return None


_CHECKS = {
    "int": _check_int,
    "customer_number": _check_customer_number,
    "number": _check_number,
    "bool": lambda rule, value: None if isinstance(value, bool) else "must be true or false",
    "enum": lambda rule, value: (
        None if value in rule.choices else f"must be one of {', '.join(rule.choices)}"
    ),
    "date": _check_date,
    "datetime": _check_datetime,
    "address": _check_address,
}


def normalise_customer_number(value: Any) -> Any:
    """A string of digits becomes an integer (as the canonical record does); text stays text."""
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return value.strip() if isinstance(value, str) else value


def normalise_address(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """An address with all five keys (missing ones null), or None."""
    if value is None:
        return None
    return {name: value.get(name) for name in ADDRESS_FIELDS}
