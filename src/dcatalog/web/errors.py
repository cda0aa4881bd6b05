"""Turning every error into an answer a client or a person can use.

Under /api (and for clients that ask for JSON) the answer is an RFC 9457
problem document; for pages it is a readable page. Submitted values are never
echoed (one could be a national ID) and no stack trace leaves the server.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dcatalog.logs import get_logger
from dcatalog.problems import (
    BAD_REQUEST,
    FORBIDDEN,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    PROBLEM_JSON,
    SERVER_ERROR,
    UNAUTHORIZED,
    VALIDATION,
    FieldError,
    Problem,
    ProblemType,
    Unauthorized,
    ValidationProblem,
)
from dcatalog.web.i18n import N_, current_language, translated
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

log = get_logger(__name__)
M = TypeVar("M", bound=BaseModel)

_BY_STATUS = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: PAYLOAD_TOO_LARGE,
}


class _HttpProblem(Problem):
    """A plain HTTP error raised by the framework, given a type by its status."""

    def __init__(self, kind: ProblemType, detail: str, status: int, **kwargs: Any) -> None:
        self.kind = kind  # type: ignore[misc]
        super().__init__(detail, status=status, **kwargs)


# Read by machines (load balancers, Prometheus), never by a person in a browser.
_MACHINE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def wants_problem_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path in _MACHINE_PATHS:
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def problem_response(request: Request, problem: Problem) -> Response:
    headers = dict(problem.headers)
    if wants_problem_json(request):
        return JSONResponse(
            problem.document(instance=request.url.path),
            status_code=problem.status,
            media_type=PROBLEM_JSON,
            headers=headers,
        )
    if problem.status == 401:
        # A page that needs sign-in sends the person to sign in, then back here.
        # The citizens' sign-in (ThaiD) where the route lets citizens act: their own
        # record, public proposals (staff sign in from the header first).
        citizen = isinstance(problem, Unauthorized) and problem.for_citizens
        where = "/me/sign-in" if citizen else "/login"
        return RedirectResponse(f"{where}?next={quote(_come_back_to(request))}", status_code=303)
    context = {
        "title": problem.kind.title_th if current_language() == "th" else problem.kind.title,
        "message": _explanation(problem),
        "specific": _specific(problem),
        "status": problem.status,
        "request_id": getattr(request.state, "request_id", None),
    }
    response = render(request, "error.html", context, status_code=problem.status)
    response.headers.update(headers)
    return response


def _specific(problem: Problem) -> str | None:
    """On a Thai page, what this occurrence says beyond its kind, where the service
    marked it for translation (``N_``): "this needs the permission audit:read"; not
    the framework's own details, which the explanation already covers."""
    if current_language() != "th" or isinstance(problem, _HttpProblem):
        return None
    text = translated(problem.detail)
    return text if text != problem.detail else None


def _come_back_to(request: Request) -> str:
    """Where a person comes back to after signing in: the page asked for; for a form
    sent (POST), the page the form was on, as the browser says (same site only), else
    the address it was sent to. Always a path: the sign-in pages check it again."""
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return request.url.path


def _explanation(problem: Problem) -> str:
    """What a person reads on an error page. The detail is written for developers and
    in English, so a Thai page says what the kind of error means, in Thai (and
    ``_specific`` adds the detail where the catalogue has it in Thai)."""
    if current_language() != "th":
        return problem.detail
    by_status = {
        400: _("The page could not read what was sent. Nothing was changed."),
        403: _(
            "You may not see or do this. If you were filling in a form, reload its page "
            "and try again."
        ),
        404: _(
            "There is nothing at this address. It may have been mistyped, or the page "
            "may have moved or been removed."
        ),
        405: _("This address does not answer that way. Go back and use the page's buttons."),
        409: _("This conflicts with what is already recorded. Nothing was changed."),
        413: _("What was sent is larger than this service accepts. Send less at a time."),
        422: _("Some of what was sent is not valid. Go back, check the form and try again."),
        429: _("Too many attempts in a short time. Wait a moment, then try again."),
        500: _(
            "Something failed on our side and nothing was changed. Please try again later; "
            "if it happens again, quote the reference below."
        ),
        503: _("The service cannot answer just now. Please try again in a few minutes."),
    }
    return by_status.get(problem.status) or by_status[500 if problem.status >= 500 else 400]


def field_errors(errors: Any) -> list[FieldError]:
    """Pydantic's errors as JSON Pointers (body) or parameter names (query, path),
    without the ``input`` Pydantic would otherwise echo back."""
    result = []
    for error in errors:
        where, *path = error.get("loc", ()) or ("body",)
        message = str(error.get("msg", "invalid value"))
        if where == "body":
            pointer = "#" + "".join(f"/{_escape(part)}" for part in path)
            result.append(FieldError(message, pointer=pointer))
        else:
            result.append(FieldError(message, parameter=".".join(str(part) for part in path)))
    return result


def validate_form(model: type[M], data: Any) -> M:
    """A form parsed by the API's body model, so pages and API share one set of rules;
    its errors become the same problem (with JSON Pointers) the API would give."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationProblem(
            N_("Some fields are not valid; see errors."),
            errors=field_errors(exc.errors(include_input=False)),
        ) from exc


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        in_path = all((error.get("loc") or ("",))[0] == "path" for error in errors)
        if in_path and errors and not wants_problem_json(request):
            # A page address with a malformed id (/proposals/abc) names no page: to a
            # person that is "not found", not a form to correct. The API keeps its 422.
            problem: Problem = _HttpProblem(
                NOT_FOUND, N_("Nothing is at %(path)s.", path=request.url.path), status=404
            )
        elif any(error.get("type") == "json_invalid" for error in errors):
            problem = _HttpProblem(BAD_REQUEST, "The request body is not valid JSON.", status=400)
        else:
            count = len(errors)
            problem = _HttpProblem(
                VALIDATION,
                N_("1 field is not valid; see errors.")
                if count == 1
                else N_("%(count)s fields are not valid; see errors.", count=count),
                status=422,
                errors=field_errors(errors),
            )
        return problem_response(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        kind = _BY_STATUS.get(exc.status_code)
        if kind is None:
            kind = SERVER_ERROR if exc.status_code >= 500 else BAD_REQUEST
        detail = exc.detail if isinstance(exc.detail, str) else kind.title
        if exc.status_code == 404 and detail == "Not Found":
            detail = N_("Nothing is at %(path)s.", path=request.url.path)
        problem = _HttpProblem(kind, detail, status=exc.status_code, headers=exc.headers or {})
        return problem_response(request, problem)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc, path=request.url.path)
        problem = _HttpProblem(
            SERVER_ERROR,
            N_(
                "Something failed on our side and nothing was changed. "
                "Quote the X-Request-ID header when you report it."
            ),
            status=500,
        )
        return problem_response(request, problem)
