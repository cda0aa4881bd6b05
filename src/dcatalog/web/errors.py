"""Turning every error into an answer a client or a person can use.

Under /api (and for clients that ask for JSON) the answer is an RFC 9457
problem document; for pages it is a readable page. Submitted values are never
echoed (one could be a national ID) and no stack trace leaves the server.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dcatalog.logs import get_logger
from dcatalog.problems import (
    BAD_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    PROBLEM_JSON,
    SERVER_ERROR,
    UNAUTHORIZED,
    FieldError,
    Problem,
    ProblemType,
    ValidationProblem,
)
from dcatalog.web.i18n import current_language
from dcatalog.web.templating import render

log = get_logger(__name__)
M = TypeVar("M", bound=BaseModel)

_BY_STATUS = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
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
        # A page that needs sign-in sends the person to sign in, then back here:
        # citizens' pages (under /me) to the citizens' sign-in, the rest to staff's.
        where = "/me/sign-in" if request.url.path.startswith("/me") else "/login"
        # The query too: a link such as /me/consents?benefit=<code> (a partner's QR
        # code) must land where it pointed once the person has signed in.
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{where}?next={quote(back)}", status_code=303)
    context = {
        "title": problem.kind.title_th if current_language() == "th" else problem.kind.title,
        "message": problem.detail,
        "request_id": getattr(request.state, "request_id", None),
    }
    response = render(request, "error.html", context, status_code=problem.status)
    response.headers.update(headers)
    return response


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
            "Some fields are not valid; see errors.",
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
        if any(error.get("type") == "json_invalid" for error in errors):
            problem: Problem = _HttpProblem(
                BAD_REQUEST, "The request body is not valid JSON.", status=400
            )
        else:
            count = len(errors)
            problem = ValidationProblem(
                f"{count} field{'s are' if count != 1 else ' is'} not valid; see errors.",
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
            detail = f"Nothing is at {request.url.path}."
        problem = _HttpProblem(kind, detail, status=exc.status_code, headers=exc.headers or {})
        return problem_response(request, problem)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc, path=request.url.path)
        problem = _HttpProblem(
            SERVER_ERROR,
            "Something failed on our side and nothing was changed. "
            "Quote the X-Request-ID header when you report it.",
            status=500,
        )
        return problem_response(request, problem)
