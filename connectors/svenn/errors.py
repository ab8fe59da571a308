"""Svenn's RFC 9457 problem documents as the project's typed errors.

:func:`svenn_error_factory` is handed to :class:`connectors.http.ApiClient`; batch endpoints
carry one problem per refused item, turned into the same errors by :func:`problem_error`. The
problem ``type`` ends in a short name (``validation-error``, ``version-conflict``,
``external-ref-conflict``, ``cursor-expired``...), kept as the error's ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import (
    ApiError,
    ConflictError,
    FieldError,
    PreconditionFailedError,
    StaleVersionError,
    error_class_for_status,
)
from connectors.http import Answer, default_error_factory, request_id_of


class SvennStaleVersionError(StaleVersionError, PreconditionFailedError):
    """412 version-conflict: the record changed since it was read; re-read and merge."""

    @property
    def current_version(self) -> int | None:
        """The record's version on the server, when the problem names it."""
        value = self.details.get("currentVersion")
        return int(value) if isinstance(value, int) else None


class ExternalRefConflictError(ConflictError):
    """409 external-ref-conflict: a record already carries this ``externalRef``."""

    @property
    def existing_id(self) -> str | None:
        """Id of the record that holds the ``externalRef``."""
        value = self.details.get("existingId")
        return str(value) if value is not None else None


class CursorExpiredError(ApiError):
    """410 cursor-expired: the feed no longer holds this cursor; resynchronise with a full read."""


_BY_KIND: dict[str, type[ApiError]] = {
    "version-conflict": SvennStaleVersionError,
    "external-ref-conflict": ExternalRefConflictError,
    "cursor-expired": CursorExpiredError,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    412: SvennStaleVersionError,
    410: CursorExpiredError,
}


def problem_kind(problem: Mapping[str, Any]) -> str:
    """The short name of a problem ``type`` (``.../problems/not-found`` → ``not-found``)."""
    return str(problem.get("type") or "about:blank").rstrip("/").rsplit("/", 1)[-1]


def problem_error(
    problem: Mapping[str, Any], status: int | None = None, request_id: str | None = None
) -> ApiError:
    """The typed error for one problem document (``status`` defaults to the problem's own)."""
    status = int(status if status is not None else problem.get("status") or 0)
    kind = problem_kind(problem)
    cls = _BY_KIND.get(kind) or _BY_STATUS.get(status) or error_class_for_status(status)
    field_errors = [
        FieldError(e.get("field"), str(e.get("message", "")))
        for e in problem.get("errors") or []
        if isinstance(e, Mapping)
    ]
    message = str(problem.get("detail") or problem.get("title") or kind)
    return cls(
        message,
        status=status or None,
        code=kind,
        request_id=request_id,
        details=dict(problem),
        field_errors=field_errors,
    )


def svenn_error_factory(response: Answer) -> ApiError:
    """``error_factory`` for ApiClient: problem documents → typed errors, else the default."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "type" not in body or "title" not in body:
        error = default_error_factory(response)
        cls = _BY_STATUS.get(response.status_code)
        if cls is None:
            return error
        return cls(
            error.message, status=error.status, request_id=error.request_id, details=error.details
        )
    return problem_error(body, response.status_code, request_id_of(response))
