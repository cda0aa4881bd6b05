"""The one Jinja2 environment of the pages, with gettext and Thai date filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.responses import HTMLResponse

from dcatalog import __version__
from dcatalog.calendars import buddhist_era
from dcatalog.calendars.buddhist_era import Style
from dcatalog.geo.provinces import province_name
from dcatalog.problems import Problem
from dcatalog.web import i18n
from dcatalog.web.csrf import csrf_token


def _format_date(value: date, style: Style = "medium") -> str:
    return buddhist_era.format_date(value, i18n.current_language(), style)


def _format_datetime(value: datetime, style: Style = "medium") -> str:
    return buddhist_era.format_datetime(value, i18n.current_language(), style)


def _number(value: Decimal | int | float) -> str:
    """12.00 → 12, 1.50 → 1.5: quantities as people write them."""
    return format(Decimal(str(value)).normalize(), "f")


def _pick(thai: str, english: str) -> str:
    return thai if i18n.current_language() == "th" else english


@pass_context
def _static(context: Context, path: str) -> str:
    """The address of a static file as a path (``/static/css/app.css``). Never
    ``url_for``'s absolute URL: that is built from the request's Host header, and
    a page must not link to whatever host a client claimed."""
    request = context.get("request")
    root = request.scope.get("root_path", "") if request is not None else ""
    return f"{root}/static/{path.lstrip('/')}"


def _problem_detail(problem: Problem) -> str:
    """A problem's detail in the page's language. Where the catalogue has no
    translation of this occurrence but the problem lists its errors, a Thai page
    names the kind of problem in Thai instead (the errors below say what is wrong)."""
    text = i18n.translated(problem.detail)
    if text == problem.detail and problem.errors and i18n.current_language() == "th":
        return problem.kind.title_th
    return text


def build_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dcatalog.web", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["date"] = _format_date
    env.filters["datetime"] = _format_datetime
    env.filters["number"] = _number
    env.filters["province"] = lambda code: province_name(code, i18n.current_language())
    env.globals["pick"] = _pick
    env.globals["problem_detail"] = _problem_detail
    env.filters["translated"] = i18n.translated
    env.globals["static"] = _static
    env.globals["app_version"] = __version__
    env.globals["current_language"] = i18n.current_language
    return env


templates = Jinja2Templates(env=build_environment())

# What every page's context gets from the layers above (who is signed in, for
# the header): each registers itself here once, by name, so that the foundation
# never imports them (Django's context processors).
ContextProcessor = Callable[[Request], dict[str, Any]]
_context_processors: dict[str, ContextProcessor] = {}


def add_context_processor(name: str, processor: ContextProcessor) -> None:
    _context_processors[name] = processor


def add_template_helpers(
    *,
    functions: dict[str, Callable[..., Any]] | None = None,
    filters: dict[str, Callable[..., Any]] | None = None,
) -> None:
    """A domain's own helpers for every template (a deed's reasons in the reader's
    language, say), registered by the domain that owns them."""
    templates.env.globals.update(functions or {})
    templates.env.filters.update(filters or {})


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    data = {
        "lang": i18n.current_language(),
        "csrf_token": csrf_token(request),
        "demo": request.app.state.settings.demo,
    }
    for processor in _context_processors.values():
        data.update(processor(request))
    data.update(context or {})
    return templates.TemplateResponse(request, name, data, status_code=status_code)
