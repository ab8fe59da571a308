"""One tenant's data and every change to it: validation, versions, unique keys, feed events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .problems import ProblemError, field_error, validation_error
from .rules import (
    DEFAULTS,
    FIELDS,
    READ_ONLY,
    check_shape,
    normalise_address,
    normalise_customer_number,
)
from .store import Collection, Feed, Record

RESOURCES = ("activities", "employees", "customers", "projects", "hours")
ENTITY_OF = {
    "customers": "customer",
    "employees": "employee",
    "projects": "project",
    "hours": "hours",
}  # activities are not in the feed
ID_PREFIX = {"customers": "cus", "employees": "emp", "projects": "prj", "activities": "act"}
UNIQUE_FIELDS: dict[str, tuple[str, ...]] = {
    "customers": ("customerNumber",),
    "employees": ("email",),
    "projects": ("number",),
}
EXTERNAL_REF_RESOURCES = frozenset({"customers", "employees", "projects"})


def utc_now() -> str:
    """Now, as the API writes timestamps (UTC, milliseconds, ``Z``)."""
    now = dt.datetime.now(dt.UTC)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _unique_key(field: str, value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


class Tenant:
    """A tenant: its key, its records and its change feed."""

    def __init__(self, tenant_id: str, name: str, api_key: str, feed_retention: int) -> None:
        self.id = tenant_id
        self.name = name
        self.api_key = api_key
        self.collections = {resource: Collection() for resource in RESOURCES}
        self.feed = Feed(feed_retention)
        self.unique: dict[tuple[str, str, Any], str] = {}
        self._counter = 0

    def __repr__(self) -> str:  # never show the API key
        return f"Tenant(id={self.id!r}, name={self.name!r})"

    # -- reads -------------------------------------------------------------------------------
    def get(self, resource: str, record_id: str) -> Record:
        """The record, or a 404 problem."""
        record = self.collections[resource].get(record_id)
        if record is None:
            noun = ENTITY_OF.get(resource, "activity")
            raise ProblemError(404, "not-found", f"No {noun} with id {record_id!r}.")
        return record

    def find_unique(self, resource: str, field: str, value: Any) -> str | None:
        """Id of the record holding a unique value (externalRef, email...), if any."""
        return self.unique.get((resource, field, _unique_key(field, value)))

    # -- writes ------------------------------------------------------------------------------
    def create(
        self,
        resource: str,
        body: Any,
        *,
        admin: bool = False,
        prefix: str = "",
        seeding: bool = False,
    ) -> Record:
        """Validate and store a new record; emits a ``create`` event.

        ``seeding`` tolerates duplicates of unique keys: seeds are data that already exists
        (the generator's messy worlds hold such duplicates); API writes never may add one.
        """
        errors = check_shape(resource, body, partial=False, admin=admin, prefix=prefix)
        if errors:
            raise validation_error(errors)
        now = utc_now()
        record: Record = {"id": body.get("id") or self._new_id(resource), "version": 1}
        record.update({"createdAt": now, "updatedAt": now})
        if admin:  # seeds may carry their own id, version and timestamps
            record.update({k: body[k] for k in READ_ONLY if body.get(k) is not None})
        if self.collections[resource].get(record["id"]) is not None:
            raise ProblemError(409, "conflict", f"Id {record['id']!r} is already in use.")
        for name in FIELDS[resource]:
            record[name] = body.get(name, DEFAULTS[resource].get(name))
        self._normalise(resource, record)
        self._check_data(resource, record, None, prefix, unique=not seeding)
        self._store(resource, record, None, "create")
        return record

    def update(
        self,
        resource: str,
        record_id: str,
        changes: Any,
        *,
        if_match: int | None = None,
        admin: bool = False,
    ) -> Record:
        """Apply a partial change; bumps the version and emits ``update`` if anything changed."""
        current = self.get(resource, record_id)
        if if_match is not None and if_match != current["version"]:
            raise ProblemError(
                412,
                "version-conflict",
                f"The record is at version {current['version']}, not {if_match}: "
                "read it again and re-apply your change.",
                currentVersion=current["version"],
            )
        errors = check_shape(resource, changes, partial=True, admin=admin)
        if errors:
            raise validation_error(errors)
        if resource == "hours" and not admin and current["status"] == "approved":
            raise validation_error(
                [
                    field_error(
                        "status", "approved hours are locked; un-approve them first", "invalid"
                    )
                ]
            )
        record = {**current, **{k: v for k, v in changes.items() if k not in READ_ONLY}}
        self._normalise(resource, record)
        if all(record[k] == current[k] for k in FIELDS[resource]):
            return current
        self._check_data(resource, record, current, "")
        record["version"] = current["version"] + 1
        record["updatedAt"] = utc_now()
        self._store(resource, record, current, "update")
        return record

    def delete(self, resource: str, record_id: str) -> None:
        """Remove a record as a user deleting it would; emits a ``delete`` event."""
        current = self.get(resource, record_id)
        users = self._references_to(resource, record_id)
        if users:
            raise ProblemError(
                409, "conflict", f"Cannot delete {record_id!r}: it is used by {users[0]!r}."
            )
        self._unindex(resource, current)
        self.collections[resource].remove(record_id)
        self._emit(resource, record_id, "delete", current["version"] + 1)

    # -- internals ---------------------------------------------------------------------------
    def _new_id(self, resource: str) -> str:
        prefix = ID_PREFIX.get(resource, "hrs")
        while True:
            self._counter += 1
            candidate = f"{prefix}-{self._counter:08d}"
            if self.collections[resource].get(candidate) is None:
                return candidate

    def _normalise(self, resource: str, record: Record) -> None:
        for name in ("postalAddress", "address"):
            if name in record:
                record[name] = normalise_address(record[name])
        if "customerNumber" in record:
            record["customerNumber"] = normalise_customer_number(record["customerNumber"])

    def _check_data(
        self,
        resource: str,
        record: Record,
        current: Record | None,
        prefix: str,
        unique: bool = True,
    ) -> None:
        """Rules across records: references exist, unique keys, dates in order.

        An ``externalRef`` that exists is checked first: a client repeating a create whose
        answer it lost must learn that the record exists, not that its e-mail is taken.
        """
        ref = record.get("externalRef")
        holder = self.find_unique(resource, "externalRef", ref) if ref and unique else None
        if holder not in (None, record["id"]):
            raise ProblemError(
                409,
                "external-ref-conflict",
                f"A record with externalRef {ref!r} exists: {holder}.",
                existingId=holder,
            )
        errors = []
        for name, rule in FIELDS[resource].items():
            value = record.get(name)
            if rule.ref and value is not None and self.collections[rule.ref].get(value) is None:
                errors.append(
                    field_error(prefix + name, f"no record with id {value!r}", "not_found")
                )
        for name in UNIQUE_FIELDS.get(resource, ()) if unique else ():
            holder = self.find_unique(resource, name, record.get(name))
            if record.get(name) is not None and holder not in (None, record["id"]):
                errors.append(field_error(prefix + name, f"is already used by {holder}", "unique"))
        if resource == "projects":
            errors += self._project_rules(record, prefix)
        if errors:
            raise validation_error(errors)

    def _project_rules(self, record: Record, prefix: str) -> list[dict[str, str]]:
        errors = []
        start, end = record.get("startDate"), record.get("endDate")
        if start and end and end < start:
            errors.append(
                field_error(prefix + "endDate", "must not be before startDate", "invalid")
            )
        if record.get("parentProjectId") == record["id"]:
            errors.append(field_error(prefix + "parentProjectId", "cannot be itself", "invalid"))
        return errors

    def _references_to(self, resource: str, record_id: str) -> list[str]:
        users = []
        for other, rules in FIELDS.items():
            names = [n for n, r in rules.items() if r.ref == resource]
            if names:
                records = self.collections[other].records.values()
                users += [r["id"] for r in records if any(r.get(n) == record_id for n in names)]
                if users:
                    break
        return users

    def _store(self, resource: str, record: Record, current: Record | None, op: str) -> None:
        if current is not None:
            self._unindex(resource, current)
        self.collections[resource].put(record)
        self._index(resource, record)
        self._emit(resource, record["id"], op, record["version"])

    def _unique_names(self, resource: str) -> tuple[str, ...]:
        names = UNIQUE_FIELDS.get(resource, ())
        return (*names, "externalRef") if resource in EXTERNAL_REF_RESOURCES else names

    def _index(self, resource: str, record: Record) -> None:
        for name in self._unique_names(resource):
            if record.get(name) is not None:
                key = (resource, name, _unique_key(name, record[name]))
                self.unique.setdefault(key, record["id"])  # a seeded duplicate keeps the first

    def _unindex(self, resource: str, record: Record) -> None:
        for name in self._unique_names(resource):
            if record.get(name) is not None:
                key = (resource, name, _unique_key(name, record[name]))
                if self.unique.get(key) == record["id"]:
                    del self.unique[key]

    def _emit(self, resource: str, record_id: str, op: str, version: int) -> None:
        entity = ENTITY_OF.get(resource)
        if entity is not None:
            event = {"entity": entity, "id": record_id, "operation": op, "version": version}
            self.feed.append({**event, "occurredAt": utc_now()})
