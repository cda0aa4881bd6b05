"""The site's own pages: home, the language switch, the API docs and the problem types."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dcatalog.access import public
from dcatalog.agencies.service import list_active_agencies
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.catalog.service import list_virtues
from dcatalog.problems import PROBLEM_TYPES, NotFound
from dcatalog.web.deps import SessionDep
from dcatalog.web.i18n import LANG_COOKIE, LANGUAGES
from dcatalog.web.links import safe_next
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[public])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    context = {
        "virtues": list_virtues(session),
        "agencies": list_active_agencies(session),
        "today": today_in_thailand(),
    }
    return render(request, "home.html", context)


@router.get("/lang/{lang}")
def switch_language(lang: str, next_url: str = Query("/", alias="next")) -> RedirectResponse:
    if lang not in LANGUAGES:
        raise NotFound(f"no language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    response = RedirectResponse(safe_next(next_url), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from our own static files: the docs work offline and load nothing
    from a third-party CDN (and, unlike FastAPI's page, run no inline script)."""
    return render(request, "api_docs.html", {"openapi_url": request.app.openapi_url})


@router.get("/problems", response_class=HTMLResponse)
def problem_types(request: Request) -> HTMLResponse:
    kinds = sorted(PROBLEM_TYPES.values(), key=lambda kind: kind.slug)
    return render(request, "problems.html", {"kinds": kinds, "selected": None})


@router.get("/problems/{slug}", response_class=HTMLResponse)
def problem_type(request: Request, slug: str) -> HTMLResponse:
    kind = PROBLEM_TYPES.get(slug)
    if kind is None:
        raise NotFound(f"no problem type {slug!r}")
    return render(request, "problems.html", {"kinds": [kind], "selected": kind})
