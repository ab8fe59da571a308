"""What the Tripletex spec says a value may be, enforced on every body field and query parameter.

One layer, driven by the vendored spec rather than by checks written per endpoint: JSON types,
``int32``/``int64`` ranges, enums, minimum/maximum, and lengths. The 2.75 spec states no
lengths, so ``maxLength`` comes from the last spec that did (2.54.8, ``spec/legacy-...json``;
FACTS §6 quotes the same limits, e.g. 255 for names).

How Tripletex answers (FACTS §3): a value its JSON mapping cannot take (wrong type, a number
outside the field's integer type, an unknown enum constant) is **422 code 16000** "Request
mapping failed"; a value that maps but breaks a limit (too long, below the minimum) is
**422 code 18000** "Validering feilet.". A malformed query parameter is **422 code 21000**.
Messages are Norwegian, as the sandbox's other validation messages (README lists which are
seen and which invented).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from sandboxes.routes import path_shape

from .errors import TripletexError, validation_error

SPEC_DIR = Path(__file__).with_name("spec")
INTEGER = re.compile(r"-?[0-9]+")  # ASCII only: Python's int() also takes "١" or "٣"
RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
LIST_PARAM = re.compile(r"^List of (IDs|customer numbers)", re.IGNORECASE)

WRONG_TYPE = "Verdien har feil type: forventet {}."
OUT_OF_RANGE = "Tallet er utenfor gyldig område ({} til {})."
NOT_IN_ENUM = "Ugyldig verdi. Gyldige verdier er: {}."
TOO_LONG = "Verdien kan ikke være lengre enn {} tegn."
TOO_SHORT = "Verdien må være minst {} tegn."
BELOW_MINIMUM = "Verdien kan ikke være mindre enn {}."
ABOVE_MAXIMUM = "Verdien kan ikke være større enn {}."
BAD_PARAM = "Ugyldig verdi for parameteret: forventet {}."
TYPE_NAMES = {"string": "tekst", "integer": "heltall", "number": "tall", "boolean": "true/false"}


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((SPEC_DIR / "openapi.json").read_text())
    return spec


@cache
def _legacy() -> dict[str, Any]:
    legacy: dict[str, Any] = json.loads((SPEC_DIR / "legacy-required-2.54.8.json").read_text())
    return legacy["schemas"]


@cache
def field_schema(model: str, name: str) -> dict[str, Any]:
    """The spec's schema of one model field, with the legacy length limits merged in."""
    properties = _spec()["components"]["schemas"].get(model, {}).get("properties", {})
    schema = dict(properties.get(name, {}))
    limits = _legacy().get(model, {}).get("constraints", {}).get(name, {})
    for key in ("maxLength", "minLength"):
        if key in limits and key not in schema:
            schema[key] = limits[key]
    return schema


def integer_in_range(value: int, fmt: str | None) -> bool:
    """Whether an integer fits the field's type (``int32`` when no format is given)."""
    low, high = RANGES.get(fmt or "int32", RANGES["int32"])
    return low <= value <= high


def check_field(model: str, name: str, value: Any) -> TripletexError | None:
    """The error Tripletex gives for ``value`` in field ``name`` of ``model``, if any."""
    schema = field_schema(model, name)
    kind = schema.get("type")
    if value is None or kind is None:
        return None
    mapping = _mapping_problem(schema, kind, value)
    if mapping is not None:
        return TripletexError(
            422,
            16000,
            developer_message=f"Could not map value of {model}.{name}",
            validation=[(name, mapping)],
        )
    limit = _limit_problem(schema, value)
    return validation_error((name, limit)) if limit is not None else None


def _mapping_problem(schema: dict[str, Any], kind: str, value: Any) -> str | None:
    wrong = WRONG_TYPE.format(TYPE_NAMES.get(kind, kind))
    if kind == "boolean":
        return None if isinstance(value, bool) else wrong
    if kind in ("integer", "number") and isinstance(value, bool):
        return wrong
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            return wrong
        low, high = RANGES.get(schema.get("format") or "int32", RANGES["int32"])
        return None if low <= value <= high else OUT_OF_RANGE.format(low, high)
    if kind == "number":
        return None if isinstance(value, int | float) else wrong
    if kind == "string":
        if not isinstance(value, str):
            return wrong
        choices = schema.get("enum")
        if choices and value not in choices:
            return NOT_IN_ENUM.format(", ".join(choices))
    return None


def _limit_problem(schema: dict[str, Any], value: Any) -> str | None:
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return TOO_LONG.format(schema["maxLength"])
        if schema.get("minLength", 0) > 0 and 0 < len(value) < schema["minLength"]:
            return TOO_SHORT.format(schema["minLength"])
        return None
    if "minimum" in schema and value < schema["minimum"]:
        return BELOW_MINIMUM.format(_number(schema["minimum"]))
    if "maximum" in schema and value > schema["maximum"]:
        return ABOVE_MAXIMUM.format(_number(schema["maximum"]))
    return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# -- query parameters ------------------------------------------------------------------------
@cache
def _operation_params(method: str, route: str) -> dict[str, dict[str, Any]]:
    """Declared query parameters of one operation (``route`` as the sandbox registers it)."""
    path = route.removeprefix("/v2")
    shape = path_shape(path)
    for template, item in _spec()["paths"].items():
        if path_shape(template) == shape and method.lower() in item:
            params = item[method.lower()].get("parameters", [])
            return {p["name"]: p for p in params if p.get("in") == "query"}
    return {}


def check_query(method: str, route: str, query: Any) -> None:
    """422 code 21000 for a declared query parameter whose value its type cannot take."""
    problems: list[tuple[str | None, str]] = []
    for name, param in _operation_params(method, route).items():
        values = query.getlist(name) if hasattr(query, "getlist") else [query.get(name)]
        for text in (v for v in values if v is not None and v != ""):
            problem = _param_problem(param, text)
            if problem is not None:
                problems.append((name, problem))
    if problems:
        raise TripletexError(
            422,
            21000,
            developer_message=f"Illegal query parameter: {problems[0][0]}",
            validation=problems,
        )


def _param_problem(param: dict[str, Any], text: str) -> str | None:
    schema = param.get("schema", {})
    kind = schema.get("type")
    if kind == "integer":
        fits = parse_int(text, schema.get("format") or "int32") is not None
        return None if fits else BAD_PARAM.format("heltall")
    if kind == "number":
        try:
            float(text)
        except ValueError:
            return BAD_PARAM.format("tall")
        return None
    if kind == "string" and LIST_PARAM.match(param.get("description") or ""):
        return None if parse_int_list(text) is not None else BAD_PARAM.format("liste av heltall")
    return None


def parse_int(text: Any, fmt: str = "int64") -> int | None:
    """An integer written in ASCII digits that fits ``fmt``, else None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if integer_in_range(text, fmt) else None
    if not isinstance(text, str) or INTEGER.fullmatch(text.strip()) is None:
        return None
    value = int(text.strip())
    return value if integer_in_range(value, fmt) else None


def parse_int_list(text: str) -> set[int] | None:
    """A comma-separated list of integers (``1,2,3``; blanks between commas ignored), else None."""
    values: set[int] = set()
    for part in text.split(","):
        if not part.strip():
            continue
        value = parse_int(part)
        if value is None:
            return None
        values.add(value)
    return values
