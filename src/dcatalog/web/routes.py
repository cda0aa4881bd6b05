"""Walking the application's routes (FastAPI keeps included routers as branches)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute


def flat_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, with included routers opened up."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from flat_routes(included.routes)
        else:
            yield route


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    return (route for route in flat_routes(routes) if isinstance(route, APIRoute))
