"""Tripletex's error envelope and the exception the sandbox raises to produce it."""

from __future__ import annotations

from typing import Any

DOCS_LINK = "https://tripletex.no/v2-docs/"

# The English "message" Tripletex puts next to each code (code table in the spec).
MESSAGES = {
    1000: "Internal error",
    3000: "Unauthorized",
    4000: "Bad request",
    6000: "Object not found",
    7000: "Object exists",
    8000: "Revision Exception",
    9000: "You do not have permission to access this feature.",
    10000: "Locked",
    11000: "Illegal filter",
    12000: "Path param error",
    14000: "Duplicate entry",
    15000: "Validation failed",
    16000: "Request mapping failed",
    17000: "Sorting error",
    18000: "Validering feilet.",
    21000: "Param error",
    22000: "Invalid JSON",
    23000: "Result Set Too Large",
}

FIELD_REQUIRED = "Feltet må fylles ut."
NOT_NULL = "Kan ikke være null."
UNKNOWN_FIELD = "Feltet eksisterer ikke i objektet."


class TripletexError(Exception):
    """An API error; rendered as Tripletex's JSON error envelope."""

    def __init__(
        self,
        status: int,
        code: int,
        *,
        message: str | None = None,
        developer_message: str | None = None,
        validation: list[tuple[str | None, str]] | None = None,
    ) -> None:
        super().__init__(message or MESSAGES.get(code, ""))
        self.status = status
        self.code = code
        self.message = message or MESSAGES.get(code, "")
        self.developer_message = developer_message
        self.validation = validation
        self.path_prefix = ""
        self.headers: list[tuple[bytes, bytes]] = []

    def body(self, request_id: str) -> dict[str, Any]:
        """The error envelope exactly as Tripletex sends it."""
        messages = None
        if self.validation is not None:
            messages = [
                {
                    "field": field,
                    "message": text,
                    "path": f"{self.path_prefix}{field or ''}" or None,
                    "rootId": None,
                }
                for field, text in self.validation
            ]
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "link": DOCS_LINK,
            "developerMessage": self.developer_message,
            "validationMessages": messages,
            "requestId": request_id,
        }


def validation_error(*problems: tuple[str | None, str]) -> TripletexError:
    """422 code 18000 "Validering feilet." with one message per (field, text)."""
    return TripletexError(
        422, 18000, developer_message="VALIDATION_ERROR", validation=list(problems)
    )


def not_found(what: str = "Object") -> TripletexError:
    """404 code 6000."""
    return TripletexError(404, 6000, developer_message=f"{what} not found")


def unknown_field(name: str) -> TripletexError:
    """422 code 16000: a JSON field the model does not have."""
    return TripletexError(
        422,
        16000,
        developer_message=f'Unrecognized field "{name}"',
        validation=[(name, UNKNOWN_FIELD)],
    )


def forbidden() -> TripletexError:
    """403 code 9000: the employee token lacks the entitlement."""
    return TripletexError(403, 9000, developer_message="No entitlement for this area")


def unauthorized(developer_message: str) -> TripletexError:
    """401 code 3000."""
    return TripletexError(401, 3000, developer_message=developer_message)
