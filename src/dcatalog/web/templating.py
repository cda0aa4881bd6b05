"""The one Jinja2 environment of the pages, with gettext and Thai date filters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.responses import HTMLResponse

from dcatalog import __version__
from dcatalog.access import current_actor, current_citizen
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


def _field_reason(error: Any) -> str:
    from dcatalog.deeds.reasons import field_reason

    return field_reason(error)


def _status_reason(text: str) -> str:
    """A deed's stored status reason: ours translated, a verifier's own words as typed."""
    from dcatalog.deeds.reasons import status_reason

    return status_reason(text)


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
    env.globals["field_reason"] = _field_reason
    env.filters["status_reason"] = _status_reason
    env.globals["static"] = _static
    env.globals["app_version"] = __version__
    env.globals["current_language"] = i18n.current_language
    return env


templates = Jinja2Templates(env=build_environment())


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    data = {
        "lang": i18n.current_language(),
        "actor": current_actor(request),
        "signed_in": current_citizen(request),  # the citizen, for the header
        "csrf_token": csrf_token(request),
        "demo": request.app.state.settings.demo,
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, data, status_code=status_code)
