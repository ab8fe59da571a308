"""The routes a sandbox app serves, flattened (FastAPI >= 0.150 nests included routers)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


def app_routes(app: Any) -> Iterator[tuple[str, set[str], Any]]:
    """(path, methods, route) for every route of ``app``, included routers unfolded."""
    yield from _walk(app.routes, "")


def _walk(routes: Sequence[Any], prefix: str) -> Iterator[tuple[str, set[str], Any]]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "path"):
            yield prefix + route.path, set(getattr(route, "methods", None) or ()), route


def allowed_methods(app: Any, path: str) -> list[str]:
    """The methods some route of ``app`` serves at a concrete ``path`` (for a 405's Allow)."""
    methods: set[str] = set()
    for _, route_methods, route in app_routes(app):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= route_methods
    return sorted(methods)


def path_shape(path: str) -> str:
    """A path with its parameters made anonymous, so route and spec paths compare."""
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))
