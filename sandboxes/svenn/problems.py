"""RFC 9457 problem documents: the one error shape of the Svenn API."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_BASE = "https://api.svenn.no/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

TITLES = {
    "unauthorized": "Unauthorized",
    "not-found": "Not found",
    "bad-request": "Bad request",
    "validation-error": "Validation failed",
    "version-conflict": "Version conflict",
    "precondition-required": "Precondition required",
    "external-ref-conflict": "External reference already in use",
    "cursor-expired": "Cursor expired",
    "conflict": "Conflict",
    "internal-error": "Internal error",
}


def field_error(field: str, message: str, code: str) -> dict[str, str]:
    """One entry of a problem's ``errors`` list."""
    return {"field": field, "message": message, "code": code}


class ProblemError(Exception):
    """Raised anywhere in the sandbox; turned into a problem document by the handler."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.errors = errors or []
        self.extra = extra

    def document(self, instance: str | None = None) -> dict[str, Any]:
        """The problem as a JSON-ready dict."""
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": TITLES.get(self.slug, self.slug),
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc


def validation_error(errors: list[dict[str, str]]) -> ProblemError:
    """A 422 listing field errors, with a readable summary in ``detail``."""
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return ProblemError(422, "validation-error", f"Invalid data: {summary}", errors)


def problem_response(problem: ProblemError, instance: str | None = None) -> Response:
    """Render a problem document with the right media type (and WWW-Authenticate on 401)."""
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    body = json.dumps(problem.document(instance), ensure_ascii=False)
    return Response(body, problem.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error (ours, FastAPI's parameter validation, unknown routes) a problem."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(exc, request.url.path)

    async def on_request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [field_error(str(e["loc"][-1]), str(e["msg"]), "invalid") for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(ProblemError(400, "bad-request", detail, errors), request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        slug = "not-found" if exc.status_code == 404 else "bad-request"
        problem = ProblemError(exc.status_code, slug, str(exc.detail))
        return problem_response(problem, request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # A sandbox bug must still answer in the API's one error shape, never as plain text.
        problem = ProblemError(500, "internal-error", f"Unexpected {type(exc).__name__}.")
        return problem_response(problem, request.url.path)

    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
