"""The FastAPI application factory: API routers, pages, middleware, error handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from dcatalog import __version__, assembly
from dcatalog.access import public
from dcatalog.accounts import pages as accounts_pages
from dcatalog.agencies import pages as agencies_pages
from dcatalog.audit import pages as audit_pages
from dcatalog.benefits import api as benefits_api
from dcatalog.benefits import pages as benefits_pages
from dcatalog.campaigns import api as campaigns_api
from dcatalog.campaigns import pages as campaigns_pages
from dcatalog.catalog import api as catalog_api
from dcatalog.catalog import pages as catalog_pages
from dcatalog.citizens import api as citizens_api
from dcatalog.citizens import pages as citizens_pages
from dcatalog.config import Settings, get_settings
from dcatalog.credentials import api as credentials_api
from dcatalog.credentials import pages as credentials_pages
from dcatalog.db import Database
from dcatalog.deeds import api as deeds_api
from dcatalog.deeds import pages as deeds_pages
from dcatalog.home import pages as home_pages
from dcatalog.identity.citizen_key import CitizenKeyer, load_pepper
from dcatalog.instance import instance_secret
from dcatalog.jobs import Jobs
from dcatalog.jobs.queue import InProcess
from dcatalog.logs import configure_logging, get_logger
from dcatalog.me import pages as me_pages
from dcatalog.openapi import install_openapi
from dcatalog.ops import api as ops_api
from dcatalog.ops.observe import RequestObserver
from dcatalog.ops.service import check_readiness
from dcatalog.problems import MethodNotAllowed, NotFound
from dcatalog.proposals import pages as proposals_pages
from dcatalog.reports import api as reports_api
from dcatalog.reports import pages as reports_pages
from dcatalog.stats import pages as stats_pages
from dcatalog.web.csrf import CsrfCookieMiddleware
from dcatalog.web.errors import install_error_handlers
from dcatalog.web.i18n import LANGUAGES, LanguageMiddleware, translations
from dcatalog.web.request_guard import RequestGuard
from dcatalog.web.security_headers import SecurityHeaders, TrustedHosts
from dcatalog.web.throttle import Limiter

log = get_logger(__name__)

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    assembly.assemble()
    database = database or Database.from_settings(settings)
    keyer = CitizenKeyer(load_pepper(settings))
    secret_key = instance_secret(settings, "secret_key", settings.secret_key)
    for lang in LANGUAGES:
        translations(lang)  # a broken catalogue fails here, not on a visitor's page

    queue = Jobs(database, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        workers = None
        in_process = settings.jobs_in_process and not queue.huey.immediate
        if _check_database(database, keyer) and in_process:
            workers = InProcess(queue)  # the embedded default: serve also runs jobs
            workers.start()
        yield
        if workers is not None:
            await asyncio.to_thread(workers.stop)
        database.dispose()

    app = _Application(
        title="D-Catalog API",
        version=__version__,
        description=(
            "The API of D-Catalog (ศูนย์รวมพฤติกรรมความดี). Every error is an RFC 9457 "
            "problem document; its `type` is documented at that address."
        ),
        docs_url=None,  # served by home.pages.api_docs with self-hosted assets
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.keyer = keyer
    app.state.secret_key = secret_key
    app.state.jobs = queue
    app.state.limiter = Limiter(settings)  # per app: each (test) app counts afresh

    install_error_handlers(app)
    app.add_middleware(  # innermost of ours: its refusals render like any other error
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        max_json_depth=settings.max_json_depth,
    )
    app.add_middleware(CsrfCookieMiddleware)
    app.add_middleware(LanguageMiddleware, default=settings.default_language)
    app.add_middleware(TrustedHosts, allowed_hosts=settings.trusted_hosts)

    app.mount("/static", StaticFiles(packages=[("dcatalog.web", "static")]), name="static")
    # Routers are tried in order: the hot path (recording deeds) first.
    app.include_router(deeds_api.router)
    app.include_router(citizens_api.router)
    app.include_router(benefits_api.router)
    app.include_router(benefits_api.claims_router)
    app.include_router(catalog_api.router)
    app.include_router(ops_api.router)
    app.include_router(credentials_api.router)
    app.include_router(reports_api.router)
    app.include_router(campaigns_api.router)
    app.include_router(home_pages.router)
    app.include_router(accounts_pages.router)
    app.include_router(citizens_pages.router)
    app.include_router(me_pages.router)
    app.include_router(benefits_pages.router)
    app.include_router(credentials_pages.router)
    app.include_router(agencies_pages.router)
    app.include_router(deeds_pages.router)
    app.include_router(reports_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(proposals_pages.router)
    app.include_router(campaigns_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(stats_pages.router)
    app.include_router(_api_fallback())
    _pages_answer_head(app)
    install_openapi(app)  # security and problem answers, derived from the routes
    return app


class _Application(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's ServerErrorMiddleware (which answers a crash with the
        # server's own `send`, past every added middleware): a 500 gets the security
        # headers and the X-Request-ID its message asks people to quote, and is
        # timed and counted like any other answer.
        return SecurityHeaders(RequestObserver(super().build_middleware_stack()))


def _pages_answer_head(app: FastAPI) -> None:
    """HEAD of a page answers as its GET does, without the body (RFC 9110 §9.3.2):
    link checkers, previews and monitors ask HEAD first, and got 405 (FastAPI's
    routes take only the methods named). Pages only: the API's methods are its
    documented contract, and the server sends no body for HEAD."""
    for route in iter_route_contexts(app.routes):
        methods = route.methods
        page = isinstance(route.original_route, APIRoute) and not route.include_in_schema
        if page and methods is not None and "GET" in methods:
            methods.add("HEAD")


def _api_fallback() -> APIRouter:
    """Unknown addresses under /api answer 404 as a problem document (never a page);
    a known address asked with a method it does not take answers 405 with ``Allow``
    (this route takes every method, so Starlette's own 405 never comes)."""
    router = APIRouter(include_in_schema=False, dependencies=[public])

    @router.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown_api_route(rest: str, request: Request) -> None:
        allowed = sorted(
            method
            for route in iter_route_contexts(request.app.routes)
            if isinstance(route.original_route, APIRoute)
            and route.original_route.endpoint is not unknown_api_route
            and route.path_regex.match(request.url.path)
            for method in route.methods or ()
        )
        if allowed:
            raise MethodNotAllowed(
                f"/api/{rest} does not take {request.method}; it takes {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        raise NotFound(f"There is no API at /api/{rest}. The API is described at /api/docs.")

    return router


def _check_database(database: Database, keyer: CitizenKeyer) -> bool:
    """Say at start-up what /readyz would say, so an operator sees it in the log."""
    readiness = check_readiness(database, keyer)
    if not readiness.ready:
        log.warning("not ready", checks=readiness.checks)
    return readiness.ready
