"""Tripletex error bodies → typed errors that keep Tripletex's code and messages as sent.

A Tripletex error body is ``{status, code, message, link, developerMessage,
validationMessages: [{field, message, path, rootId}], requestId}``; messages are usually in
Norwegian. Each class here is both a :class:`TripletexError` and the matching HTTP error, so
callers can catch either.
"""

from __future__ import annotations

from typing import Any

from connectors.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    StaleVersionError,
    TransientError,
    ValidationFailedError,
)
from connectors.http import Answer

REVISION_CODE = 8000  # 409: the `version` sent is stale
LOCKED_CODE = 10000  # 409: the object is locked (e.g. an approved timesheet entry)
DUPLICATE_CODE = 14000  # 409: duplicate entry


class TripletexError(ApiError):
    """An error answer from Tripletex; ``developer_message`` is kept as sent."""

    @property
    def developer_message(self) -> str | None:
        """Tripletex's ``developerMessage`` (English, technical), if any."""
        value = self.details.get("developerMessage")
        return str(value) if value is not None else None

    @property
    def validation_messages(self) -> list[dict[str, Any]]:
        """Tripletex's ``validationMessages`` list as sent (``[]`` when none)."""
        value = self.details.get("validationMessages")
        return list(value) if isinstance(value, list) else []


class TripletexTransientError(TripletexError, TransientError):
    """5xx from Tripletex."""


class TripletexRateLimitedError(TripletexError, RateLimitedError):
    """429 from Tripletex (it sends no ``X-Rate-Limit-Reset`` on the 429 itself)."""


class TripletexAuthenticationError(TripletexError, AuthenticationError):
    """401 (code 3000): the session token was refused."""


class TripletexPermissionError(TripletexError, PermissionDeniedError):
    """403 (code 9000): the employee token lacks an entitlement."""


class TripletexNotFoundError(TripletexError, NotFoundError):
    """404 (code 6000): object not found."""


class TripletexConflictError(TripletexError, ConflictError):
    """409: object exists (7000), locked (10000) or duplicate entry (14000)."""


class TripletexStaleVersionError(TripletexError, StaleVersionError):
    """409 code 8000 "Revision Exception": re-read the object, merge and retry."""


class TripletexValidationError(TripletexError, ValidationFailedError):
    """400/422: Tripletex refused the content; ``field_errors`` holds its messages."""


class TripletexPreconditionError(TripletexError, PreconditionFailedError):
    """412 from Tripletex."""


_BY_STATUS: dict[int, type[TripletexError]] = {
    400: TripletexValidationError,
    401: TripletexAuthenticationError,
    403: TripletexPermissionError,
    404: TripletexNotFoundError,
    409: TripletexConflictError,
    412: TripletexPreconditionError,
    422: TripletexValidationError,
    429: TripletexRateLimitedError,
}


def tripletex_error_class(status: int, code: int | None) -> type[TripletexError]:
    """The error type for a Tripletex status and error code."""
    if status == 409 and code == REVISION_CODE:
        return TripletexStaleVersionError
    if status >= 500:
        return TripletexTransientError
    return _BY_STATUS.get(status, TripletexError)


def tripletex_error(response: Answer) -> ApiError:
    """Build the typed error for a failed Tripletex response (the ApiClient error factory)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    details: dict[str, Any] = body if isinstance(body, dict) else {"body": response.text[:2000]}
    code = details.get("code")
    code_int = code if isinstance(code, int) else None
    messages = details.get("validationMessages") or []
    field_errors = [
        FieldError(m.get("field"), str(m.get("message") or ""), m.get("path"))
        for m in messages
        if isinstance(m, dict)
    ]
    message = str(details.get("message") or response.reason_phrase or "error")
    cls = tripletex_error_class(response.status_code, code_int)
    return cls(
        message,
        status=response.status_code,
        code=code_int,
        request_id=response.headers.get("x-tlx-request-id") or details.get("requestId"),
        details=details,
        field_errors=field_errors,
    )
