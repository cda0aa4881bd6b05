"""The OpenAPI document, completed from what the application really does.

FastAPI describes the success answers and the request shapes; it cannot know our
access rules, nor that every error is an RFC 9457 problem document. This module
adds both once, from the routes themselves, so that a new route is described
correctly without anyone writing it down by hand:

- ``security`` from the route's access rule (``public``: none; ``require(scope)``:
  the API key, with the scope named in the description; ``signed_in``: any key);
- the error answers every operation can give, as ``application/problem+json``
  with one shared ``Problem`` schema: 400, 401 and 403 where a key is needed,
  404 where the path names something (and where a route declares it), 405, 409
  where a route declares it, 413 where there is a body, 422 where there are
  inputs, 429 and 500.

The contract test (tests/contract) holds the document to the real answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from dcatalog.access import is_access_rule, public
from dcatalog.problems import PROBLEM_JSON, PROBLEM_TYPES

API_KEY_SCHEME = "apiKey"
METRICS_SCHEME = "metricsToken"

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; `type` is documented at its address.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A relative URI, e.g. /problems/not-found."},
        "title": {"type": "string", "description": "Never changes for a given type."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong this time."},
        "instance": {"type": "string", "description": "The path that was asked for."},
        "errors": {
            "type": "array",
            "description": "Each invalid input, when there are several to name.",
            "items": {"$ref": "#/components/schemas/FieldError"},
        },
    },
    "additionalProperties": True,  # a problem type may add members (e.g. `checks`)
}
_FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "FieldError",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "pointer": {"type": "string", "description": "JSON Pointer into the body: #/deeds/3."},
        "parameter": {"type": "string", "description": "A query or path parameter's name."},
        "detail_th": {"type": "string"},
    },
    "additionalProperties": True,
}
_OPTIONAL_STRING = {"required": False, "schema": {"type": "string"}}
_ERRORS: dict[int, dict[str, Any]] = {
    400: {"description": "The request could not be read (for example the body is not JSON)."},
    401: {
        "description": "No API key, or one that is unknown, revoked or of a suspended agency.",
        "headers": {"WWW-Authenticate": _OPTIONAL_STRING},
    },
    403: {"description": "The key's scopes do not allow this."},
    404: {"description": "Nothing is there, or it is not yours to see."},
    405: {
        "description": "This address does not take this method; `Allow` lists those it takes.",
        "headers": {"Allow": {"required": True, "schema": {"type": "string"}}},
    },
    409: {"description": "It conflicts with what is recorded; nothing was changed."},
    413: {"description": "The request body is too large; nothing was changed."},
    422: {"description": "Some inputs are not valid; `errors` names each one."},
    429: {
        "description": "Too many requests; try again later.",
        "headers": {"Retry-After": _OPTIONAL_STRING},
    },
    500: {"description": "Something failed on our side; nothing was changed."},
}


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document (built once, on the first request for it)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(document, app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # our 422 is a problem document
    schemas.pop("ValidationError", None)
    schemas["Problem"] = _PROBLEM_SCHEMA
    schemas["FieldError"] = _FIELD_ERROR_SCHEMA
    components["securitySchemes"] = {
        API_KEY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "An agency's API key: `Authorization: Bearer dck_…` (see "
            "`dcatalog keys create`). Each operation names the scope it needs.",
        },
        METRICS_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "DCATALOG_METRICS_TOKEN, for /metrics (without it set, /metrics "
            "answers only to this machine).",
        },
    }
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _complete_operation(operation, route)
    return document


def _complete_operation(operation: dict[str, Any], route: RouteContext) -> None:
    needs_key, scopes = _access(route)
    if "security" in operation:
        needs_key = False  # the route describes its own (e.g. /metrics and its token)
    if needs_key:
        operation["security"] = [{API_KEY_SCHEME: []}]
        needs = (
            f"Needs an API key with the scope {' or '.join(f'`{s}`' for s in scopes)}."
            if scopes
            else "Needs an API key."
        )
        operation["description"] = f"{operation.get('description', '')}\n\n{needs}".strip()
    has_body = "requestBody" in operation
    has_inputs = has_body or bool(operation.get("parameters"))
    in_path = any(p.get("in") == "path" for p in operation.get("parameters", []))
    responses = operation.setdefault("responses", {})
    declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    wanted = {400, 405, 429, 500} | declared
    wanted |= {401, 403} if needs_key else set()
    wanted |= {404} if in_path else set()
    wanted |= {413} if has_body else set()
    wanted |= {422} if has_inputs else set()
    for status in sorted(wanted):
        if status >= 500 and str(status) in responses and status != 500:
            continue  # a route's own server answer (readyz's 503) stays as it is
        answer = responses.setdefault(str(status), {})
        base = _ERRORS.get(status, {"description": _title(status)})
        if not answer.get("description") or answer["description"] == "Validation Error":
            answer["description"] = base["description"]
        if "headers" in base:
            answer.setdefault("headers", base["headers"])
        answer["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _access(route: RouteContext) -> tuple[bool, list[str]]:
    """Whether the route needs a key, and which scopes it accepts (none named: any)."""
    for call in _calls(route.dependant):
        if not is_access_rule(call):
            continue
        if call is public.dependency:
            return False, []
        return True, sorted(str(s) for s in getattr(call, "__dcatalog_scopes__", ()))
    return False, []


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _title(status: int) -> str:
    for kind in PROBLEM_TYPES.values():
        if kind.status == status:
            return kind.title
    return "Error"
