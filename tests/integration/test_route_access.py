"""Every route says who may call it (GOV.UK Notify's guard, adapted).

A route must depend on an access rule: ``public`` or a rule of the accounts
domain. A new route that states nothing makes this test fail.
"""

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from dcatalog.access import is_access_rule, public
from dcatalog.app import create_app
from dcatalog.config import Settings
from dcatalog.db import Database

# Mounted sub-applications that serve only public files.
PUBLIC_MOUNTS = {"/static"}
# FastAPI's own documentation routes (public by design: partners read them).
FRAMEWORK_ROUTES = {"/api/v1/openapi.json"}


def _calls(dependant: Dependant) -> list[object]:
    found: list[object] = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found.extend(_calls(sub))
    return found


def unguarded_routes(app: FastAPI) -> list[str]:
    missing = []
    for route in (context.original_route for context in iter_route_contexts(app.routes)):
        if isinstance(route, Mount):
            if route.path not in PUBLIC_MOUNTS:
                missing.append(f"mount {route.path}")
        elif isinstance(route, APIRoute):
            if not any(is_access_rule(call) for call in _calls(route.dependant)):
                missing.append(f"{sorted(route.methods)} {route.path}")
        elif getattr(route, "path", None) not in FRAMEWORK_ROUTES:
            missing.append(f"unknown kind of route {route!r}: teach this test about it")
    return missing


def test_every_route_states_who_may_call_it(settings: Settings) -> None:
    app = create_app(settings, database=Database.from_url("sqlite://"))
    assert unguarded_routes(app) == []


def test_the_guard_catches_a_route_without_a_rule(settings: Settings) -> None:
    app = create_app(settings, database=Database.from_url("sqlite://"))
    router = APIRouter()

    @router.get("/api/v1/forgotten")
    def forgotten() -> None: ...

    @router.get("/api/v1/remembered", dependencies=[public])
    def remembered() -> None: ...

    app.include_router(router)
    assert unguarded_routes(app) == ["['GET'] /api/v1/forgotten"]


def test_every_form_route_checks_the_csrf_token(settings: Settings) -> None:
    from dcatalog.web.csrf import csrf_protect

    app = create_app(settings, database=Database.from_url("sqlite://"))
    unprotected = [
        f"{sorted(route.methods)} {route.path}"
        for route in (context.original_route for context in iter_route_contexts(app.routes))
        if isinstance(route, APIRoute)
        and not route.path.startswith("/api/")
        and route.methods - {"GET", "HEAD"}
        and csrf_protect not in _calls(route.dependant)
    ]
    assert unprotected == []
