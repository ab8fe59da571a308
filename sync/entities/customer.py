"""Customers: the record and its spec (a synced field is one attribute and one row here)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import field_validator

from sync.entities.spec import DeleteRule, Endpoints, EntitySpec, FieldSpec, Kind, OnDelete
from sync.normalize import ascii_digits, without_controls
from sync.records import Address, Entity, Record, System

_T, _S = System.TRIPLETEX, System.SVENN


class Customer(Record):
    """A customer (a company or a private person) that work is done for."""

    entity: ClassVar[Entity] = Entity.CUSTOMER

    name: str
    organization_number: str | None = None
    # Svenn allows free-text numbers; only numeric ones sync (see sync.rules), so a
    # non-numeric value is kept as a string for the rule to report. Digits become int.
    customer_number: int | str | None = None
    email: str | None = None
    invoice_email: str | None = None
    phone: str | None = None
    postal_address: Address | None = None
    is_active: bool = True

    # Read as a number first, then cleaned of control characters ("12\x00" stays text).
    cleaned_by_field: ClassVar[frozenset[str]] = frozenset({"customer_number"})

    @field_validator("customer_number", mode="before")
    @classmethod
    def _digits_as_int(cls, value: Any) -> Any:
        """Store "123" as 123 so both systems fingerprint the same number alike."""
        if isinstance(value, str) and ascii_digits(value.strip()):
            return int(value.strip())
        return without_controls(value) if isinstance(value, str) else value


CUSTOMER = EntitySpec(
    Entity.CUSTOMER,
    Customer,
    "customer",
    "kunde",
    fields=(
        FieldSpec("name", Kind.TEXT, "name", "name"),
        FieldSpec(
            "organization_number", Kind.ORG_NUMBER, "organizationNumber", "organizationNumber"
        ),
        FieldSpec(
            "customer_number",
            Kind.CUSTOMER_NUMBER,
            "customerNumber",
            "customerNumber",
            svenn_converter="numeric_customer_number",
            tripletex_converter="customer_number",
        ),
        FieldSpec("email", Kind.EMAIL, "email", "email"),
        FieldSpec("invoice_email", Kind.EMAIL, "invoiceEmail", "invoiceEmail"),
        FieldSpec("phone", Kind.PHONE, "phone", "phoneNumber"),
        # Accounting owns the customer register; only Tripletex inactivates (Svenn's rule).
        FieldSpec(
            "is_active", Kind.FLAG, "active", "isInactive", tripletex_converter="inverted", owner=_T
        ),
        FieldSpec(
            "postal_address",
            Kind.ADDRESS,
            "postalAddress",
            "postalAddress",
            tripletex_select="postalAddress(id,addressLine1,addressLine2,postalCode,city,country(id))",
        ),
    ),
    endpoints=Endpoints(
        "/customer",
        "/customers",
        inactive_filter=True,
        deactivate={"isInactive": True},
        pushed=True,
    ),
    unique_keys=(("organization_number",), ("customer_number",), ("email",), ("name",)),
    suite="customers_extract",
    name_fields=("name",),
    number_field="customer_number",
    match_keys=("org_number", "customer_number", "email", "name_postcode"),
    on_delete={
        _T: DeleteRule(OnDelete.DEACTIVATE_IN_SVENN),
        _S: DeleteRule(
            OnDelete.LOG_ONLY,
            "only Tripletex inactivates customers: inactivate it in Tripletex if it is no longer "
            "a customer.",
            "bare Tripletex kan inaktivere kunder: inaktiver den i Tripletex om den ikke lenger "
            "er kunde.",
        ),
    },
)
