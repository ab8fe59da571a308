"""Typed errors raised by every connector: each says whether a retry can help.

The HTTP policy (:mod:`connectors.http`) raises these; connectors may subclass them to keep
vendor details (see ``connectors.tripletex.errors``). Messages keep the server's own text
(Norwegian as sent) but are redacted of every registered secret before they are raised.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One field-level complaint from the server (``path`` locates it inside a batch)."""

    field: str | None
    message: str
    path: str | None = None


class ApiError(Exception):
    """An HTTP call failed; ``retryable`` says whether trying again may succeed."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | str | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
        field_errors: Iterable[FieldError] = (),
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details: dict[str, Any] = dict(details or {})
        self.field_errors: list[FieldError] = list(field_errors)
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        code = f" code {self.code}" if self.code not in (None, "") else ""
        fields = "".join(
            f"; {fe.field or fe.path or '?'}: {fe.message}" for fe in self.field_errors
        )
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}{status}{code}: {self.message}{fields}{rid}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def redact(self, redactor: Callable[[str], str]) -> None:
        """Remove secrets from every text this error carries (done before it is raised)."""
        self.message = redactor(self.message)
        self.args = (self.message,)
        self.path = redactor(self.path) if self.path else self.path
        self.details = _redact_value(self.details, redactor)
        self.field_errors = [
            replace(
                fe,
                message=redactor(fe.message),
                field=redactor(fe.field) if fe.field else fe.field,
                path=redactor(fe.path) if fe.path else fe.path,
            )
            for fe in self.field_errors
        ]


class TransientError(ApiError):
    """5xx, connection failure or timeout: retrying later may succeed."""

    retryable = True


class RateLimitedError(ApiError):
    """429 after the retry budget was spent: slow down and retry later."""

    retryable = True


class OutcomeUnknownError(ApiError):
    """A non-idempotent write was sent but no answer came: look it up before retrying."""

    retryable = True


class AuthenticationError(ApiError):
    """401: the credentials were refused (after one renewal, where the connector renews)."""


class PermissionDeniedError(ApiError):
    """403: the credentials lack the right for this call."""


class NotFoundError(ApiError):
    """404: the object or endpoint does not exist."""


class ConflictError(ApiError):
    """409: the write conflicts with the current state (duplicate, locked...)."""


class StaleVersionError(ConflictError):
    """409 on a versioned write: someone changed the object; re-read and merge."""


class ValidationFailedError(ApiError):
    """400/422: the server refused the content; ``field_errors`` says why."""


class PreconditionFailedError(ApiError):
    """412: a conditional request's precondition did not hold."""


ERROR_FOR_STATUS: dict[int, type[ApiError]] = {
    400: ValidationFailedError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    422: ValidationFailedError,
    429: RateLimitedError,
}


def error_class_for_status(status: int) -> type[ApiError]:
    """The error type for an HTTP status (5xx → TransientError, unknown 4xx → ApiError)."""
    if status >= 500:
        return TransientError
    return ERROR_FOR_STATUS.get(status, ApiError)


_AUTH_VALUE = re.compile(r"(?i)\b(basic|bearer|token)\s+[A-Za-z0-9._~+/=:-]{6,}")
_MIN_SECRET_LENGTH = 4


@dataclass
class SecretRedactor:
    """Replaces every registered secret, and anything shaped like an auth header, by ``***``."""

    secrets: set[str] = field(default_factory=set)

    def add(self, value: str | None) -> None:
        """Register a secret (values too short to be secrets are ignored)."""
        if value and len(value) >= _MIN_SECRET_LENGTH:
            self.secrets.add(value)

    def __call__(self, text: str) -> str:
        """``text`` with every secret removed."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, "***")
        return _AUTH_VALUE.sub(lambda m: f"{m.group(1)} ***", text)


def _redact_value(value: Any, redactor: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, dict):
        return {k: _redact_value(v, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, redactor) for v in value]
    return value
