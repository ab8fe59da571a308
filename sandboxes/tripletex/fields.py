"""The ``fields`` filter, ``sorting``, paging, ``versionDigest`` and rendering of rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .errors import TripletexError
from .model import EMBEDDED_MODELS, MODEL_FIELDS
from .state import ENTITIES, ENTITY_OF_MODEL, Company

NO_DIGEST = "'If-None-Match' header not specified"
MAX_COUNT = 10_000


@dataclass
class FieldTree:
    """A parsed ``fields`` expression: ``*`` and named fields with optional sub-trees."""

    star: bool = False
    names: dict[str, FieldTree | None] = field(default_factory=dict)


DEFAULT = FieldTree(star=True)


def parse_fields(text: str | None, model: str) -> FieldTree:
    """Parse and check a ``fields`` expression against a model (400 code 11000 if unknown)."""
    if not text or not text.strip():
        return DEFAULT
    tree, rest = _parse(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise _illegal(text, model)
    _check(tree, model)
    return tree


def _parse(text: str, pos: int) -> tuple[FieldTree, int]:
    tree = FieldTree()
    while pos < len(text) and text[pos] != ")":
        end = pos
        while end < len(text) and text[end] not in ",()":
            end += 1
        name = text[pos:end]
        sub: FieldTree | None = None
        if end < len(text) and text[end] == "(":
            sub, end = _parse(text, end + 1)
            end += 1  # the closing parenthesis
        if name == "*":
            tree.star = True
        elif name:
            tree.names[name] = sub
        pos = end + 1 if end < len(text) and text[end] == "," else end
    return tree, pos


def _illegal(name: str, model: str) -> TripletexError:
    return TripletexError(
        400,
        11000,
        message=(
            f"Illegal field in fields filter: {name}. "
            f"{name} does not match a field in the model: {model}DTO"
        ),
        developer_message=f"Illegal field in fields filter: {name}",
    )


def _check(tree: FieldTree, model: str | None) -> None:
    if model is None:
        return
    known = MODEL_FIELDS.get(model, {})
    for name, sub in tree.names.items():
        if name not in known:
            raise _illegal(name, model)
        if sub is not None:
            _check(sub, known[name][1])


@dataclass
class Renderer:
    """Renders rows of one company as Tripletex JSON for one request."""

    company: Company
    host: str

    def url(self, path: str, ident: Any) -> str:
        """The ``url`` of an object, in Tripletex's scheme-less form."""
        return f"{self.host}/v2/{path}/{ident}"

    def row(self, row: dict[str, Any], entity: str, tree: FieldTree = DEFAULT) -> dict[str, Any]:
        """One stored row as JSON, filtered by the fields tree."""
        model, path, _ = ENTITIES[entity]
        return self._object(row, model, path, tree)

    def _object(
        self, row: dict[str, Any], model: str, path: str, tree: FieldTree
    ) -> dict[str, Any]:
        known = MODEL_FIELDS[model]
        out: dict[str, Any] = {}
        if tree.star:
            for key, value in row.items():
                if key[0] == "_" or key == "changes" or key not in known:
                    continue
                out[key] = self._value(value, known[key], None)
            out["url"] = self.url(path, row.get("id"))
        for key, sub in tree.names.items():
            if key == "url":
                out["url"] = self.url(path, row.get("id"))
                continue
            value = row.get(key)
            if value is None:
                continue
            out[key] = self._value(value, known[key], sub)
        return out

    def _value(self, value: Any, spec: list[Any], sub: FieldTree | None) -> Any:
        kind, ref = spec[0], spec[1]
        if kind == "list":
            if ref == "Change":
                return [{k: v for k, v in c.items() if k[0] != "_"} for c in value]
            return value
        if kind != "ref" or not isinstance(value, dict):
            return value
        path = _path_of(ref)
        if sub is None:
            return {"id": value["id"], "url": self.url(path, value["id"])}
        if ref in EMBEDDED_MODELS:
            return self._object(value, ref, path, sub)
        entity = ENTITY_OF_MODEL.get(ref)
        target = self.company.table(entity).get(value["id"]) if entity else None
        if target is None:
            return {"id": value["id"], "url": self.url(path, value["id"])}
        return self._object(target, ref, path, sub)


def _path_of(model: str) -> str:
    entity = ENTITY_OF_MODEL.get(model)
    if entity:
        return ENTITIES[entity][1]
    return model[0].lower() + model[1:]


def sort_rows(
    rows: list[dict[str, Any]], sorting: str | None, model: str, company: Company
) -> list[dict[str, Any]]:
    """Apply ``sorting`` (``a,-b,customer.name``); unknown field → 422 code 17000."""
    if not sorting:
        return rows
    keys = [k.strip() for k in sorting.split(",") if k.strip()]
    for key in reversed(keys):
        descending = key.startswith("-")
        parts = key.lstrip("-").split(".")
        getter = _sort_getter(parts, model, company)
        rows = sorted(rows, key=getter, reverse=descending)
    return rows


def _sort_getter(parts: list[str], model: str, company: Company) -> Any:
    known = MODEL_FIELDS[model]
    if parts[0] not in known:
        raise TripletexError(422, 17000, developer_message=f"Illegal sorting field: {parts[0]}")
    ref = known[parts[0]][1]
    entity = ENTITY_OF_MODEL.get(ref) if ref else None

    def key(row: dict[str, Any]) -> tuple[bool, Any]:
        value: Any = row.get(parts[0])
        if len(parts) > 1 and isinstance(value, dict):
            if entity and ref not in EMBEDDED_MODELS:
                value = company.table(entity).get(value.get("id") or -1, {})
            value = value.get(parts[1])
        if isinstance(value, dict):
            value = value.get("id")
        return (value is not None, value if value is not None else 0)

    return key


def page_bounds(query: Any) -> tuple[int, int]:
    """``from``/``count`` (default 0/1000); count above 10 000 → 422 code 23000."""
    try:
        start = int(query.get("from") or 0)
        count = int(query.get("count") or 1000)
    except ValueError as error:
        raise TripletexError(422, 21000, developer_message="from/count must be integers") from error
    if start < 0 or count < 0:
        raise TripletexError(422, 21000, developer_message="from/count must not be negative")
    if count > MAX_COUNT:
        raise TripletexError(422, 23000, developer_message=f"count may be at most {MAX_COUNT}")
    return start, count


def digest(rows: list[dict[str, Any]], start: int, count: int, fields: str) -> str:
    """Checksum of a result page: ids and versions of the rows, plus paging and fields."""
    hasher = hashlib.sha256(f"{start}:{count}:{fields}|".encode())
    hasher.update(",".join(f"{r['id']}.{r['version']}" for r in rows).encode())
    return hasher.hexdigest()[:40]
