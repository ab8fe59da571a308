"""The whole sandbox: tenants by id and by API key, seeding, and user-like edits."""

from __future__ import annotations

import copy
from typing import Any

from .problems import ProblemError, field_error, validation_error
from .store import Record
from .tenant import RESOURCES, Tenant, utc_now

ENTITY_RESOURCES = {
    "customer": "customers",
    "employee": "employees",
    "project": "projects",
    "hours": "hours",
    "activity": "activities",
}
EDIT_OPERATIONS = (
    "create",
    "update",
    "deactivate",
    "delete",
    "approve",
    "unapprove",
    "submit",
    "reject",
)


class SandboxState:
    """Every tenant of the sandbox (``app.state.sandbox``)."""

    def __init__(self, seed: dict[str, Any] | None, feed_retention: int) -> None:
        self.seed = copy.deepcopy(seed) if seed else {"tenants": []}
        self.feed_retention = feed_retention
        self.tenants: dict[str, Tenant] = {}
        self.by_key: dict[str, Tenant] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the seed the sandbox started with (new feeds: old cursors expire)."""
        self.tenants.clear()
        self.by_key.clear()
        for tenant in self.seed.get("tenants", []):
            self.add_tenant(tenant)

    def tenant_for_key(self, api_key: str | None) -> Tenant | None:
        """The tenant an API key belongs to."""
        return self.by_key.get(api_key) if api_key else None

    def tenant(self, tenant_id: str) -> Tenant:
        """A tenant by id, or a 404 problem."""
        if tenant_id not in self.tenants:
            raise ProblemError(404, "not-found", f"No tenant {tenant_id!r}.")
        return self.tenants[tenant_id]

    def add_tenant(self, spec: dict[str, Any]) -> Tenant:
        """Create a tenant from its seed form (records are validated like API writes)."""
        missing = [k for k in ("id", "name", "apiKey") if not spec.get(k)]
        if missing:
            errors = [field_error(k, "is required", "required") for k in missing]
            raise validation_error(errors)
        if spec["id"] in self.tenants or spec["apiKey"] in self.by_key:
            raise ProblemError(409, "conflict", f"Tenant {spec['id']!r} or its key exists.")
        tenant = Tenant(spec["id"], spec["name"], spec["apiKey"], self.feed_retention)
        for resource in RESOURCES:
            for index, body in enumerate(spec.get(resource, [])):
                prefix = f"{resource}[{index}]."
                tenant.create(resource, body, admin=True, prefix=prefix, seeding=True)
        self.tenants[tenant.id] = tenant
        self.by_key[tenant.api_key] = tenant
        return tenant

    def revoke_key(self, tenant_id: str) -> None:
        """The tenant revoked its API key in the app: the key answers 401 from now on."""
        tenant = self.tenant(tenant_id)
        self.by_key.pop(tenant.api_key, None)

    def edit(
        self,
        tenant_id: str,
        entity: str,
        record_id: str | None,
        operation: str,
        changes: dict[str, Any],
    ) -> Record | None:
        """A change as a user would make it in the app (emits feed events)."""
        tenant = self.tenant(tenant_id)
        resource = ENTITY_RESOURCES.get(entity, entity)
        if resource not in RESOURCES or operation not in EDIT_OPERATIONS:
            raise validation_error([field_error("entity/operation", "unknown", "invalid")])
        if operation == "create":
            return tenant.create(resource, changes, admin=True)
        if record_id is None:
            raise validation_error([field_error("id", "is required", "required")])
        if operation == "delete":
            tenant.delete(resource, record_id)
            return None
        return tenant.update(
            resource,
            record_id,
            {**changes, **_operation_changes(resource, operation, changes)},
            admin=True,
        )


def _operation_changes(resource: str, operation: str, changes: dict[str, Any]) -> dict[str, Any]:
    if operation == "update":
        return {}
    if operation == "deactivate":
        return {"status": "closed"} if resource == "projects" else {"active": False}
    if resource != "hours":
        raise validation_error([field_error("operation", f"{operation} is for hours", "invalid")])
    if operation == "approve":
        return {
            "status": "approved",
            "approvedBy": changes.get("approvedBy"),
            "approvedAt": changes.get("approvedAt") or utc_now(),
        }
    status = {"unapprove": "submitted", "submit": "submitted", "reject": "rejected"}[operation]
    return {"status": status, "approvedBy": None, "approvedAt": None}
