"""Bounded, clean input before any route runs: body size, JSON depth, control characters.

A request is judged before it costs memory or reaches authentication:

- **size**: a ``Content-Length`` over the limit is refused at once (413); a body sent
  without one is counted as it arrives and refused when it passes the limit. File
  uploads (routes with a ``File`` parameter, found from the routes themselves) have
  their own, larger limit and are streamed through Starlette's body limiter (the
  multipart parser spools them to disk); every other body is small, so it is read
  here whole and handed on.
- **JSON depth**: nesting past ``max_json_depth`` is refused (422) before any parser
  or walker could recurse on it.
- **control characters**: NUL and the other C0 controls (tab, line feed and carriage
  return excepted) in the path, the query string, a form or a JSON string are refused
  (422, naming where). PostgreSQL cannot store NUL in text and SQLite would store it
  silently; refusing here makes both databases answer the same, clearly.

Refusals are problem documents under /api and readable pages elsewhere, like every
other error (see dcatalog.web.errors).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, params
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dcatalog.problems import FieldError, PayloadTooLarge, Problem, ValidationProblem
from dcatalog.web.errors import problem_response

# C0 controls but tab, LF and CR: as characters, and as their %XX (forms, queries)
# or \u00XX (JSON) escapes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PERCENT_CONTROL = re.compile(rb"%(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])|[\x00-\x08\x0b\x0c\x0e-\x1f]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
CONTROL_MESSAGE = "contains a control character (such as NUL), which text may not hold"
CONTROL_MESSAGE_TH = "มีอักขระควบคุม (เช่น NUL) ซึ่งข้อความมีไม่ได้"


class RequestGuard:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int, max_json_depth: int
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_json_depth = max_json_depth
        self._uploads = RequestBodyLimitMiddleware(app, max_body_size=max_upload_bytes)
        self._upload_routes: list[RouteContext] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            where = _control_in_address(scope)
            if where:
                raise _control_problem(FieldError(CONTROL_MESSAGE, parameter=where))
            upload = self._is_upload(scope)
            limit = self.max_upload_bytes if upload else self.max_body_bytes
            headers = Headers(scope=scope)
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise _too_large(limit)
            if upload:
                await self._uploads(scope, receive, send)
                return
            body = await _read_body(receive, limit)
            self._check_body(headers.get("content-type", ""), body)
        except Problem as problem:
            await _respond(scope, receive, send, problem)
            return
        await self.app(scope, _replay(body, receive), send)

    def _is_upload(self, scope: Scope) -> bool:
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return False
        if self._upload_routes is None:
            self._upload_routes = _upload_routes(scope["app"])
        path = scope["path"]
        return any(
            route.path_regex.match(path) and scope["method"] in (route.methods or ())
            for route in self._upload_routes
        )

    def _check_body(self, content_type: str, body: bytes) -> None:
        if not body:
            return
        content_type = content_type.split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            if _PERCENT_CONTROL.search(body):
                raise _control_problem(FieldError(CONTROL_MESSAGE, pointer="#"))
        elif content_type == "application/json" or content_type.endswith("+json"):
            self._check_json(body)

    def _check_json(self, body: bytes) -> None:
        # Cheap tests first: most bodies have few brackets and no \u00XX escapes.
        if body.count(b"{") + body.count(b"[") > self.max_json_depth:
            depth = json_depth(body)
            if depth > self.max_json_depth:
                raise ValidationProblem(
                    f"The JSON is nested {depth} levels deep; at most "
                    f"{self.max_json_depth} are accepted.",
                    errors=[FieldError("nested too deeply", pointer="#")],
                )
        if b"\\u00" in body:
            try:
                document = json.loads(body)
            except (ValueError, RecursionError):
                return  # the route answers that the body is not JSON
            pointer = control_pointer(document)
            if pointer is not None:
                raise _control_problem(FieldError(CONTROL_MESSAGE, pointer=pointer))


def json_depth(body: bytes) -> int:
    """How deeply the JSON text nests arrays and objects (brackets inside strings
    do not count), without parsing it."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if match.group() in (b"{", b"["):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def control_pointer(document: Any) -> str | None:
    """JSON Pointer of the first string (key or value) holding a control character."""
    for pointer, text in _strings(document, "#"):
        if _CONTROL.search(text):
            return pointer
    return None


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    # Depth is bounded before this runs (json_depth), so the recursion is too.
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            escaped = str(key).replace("~", "~0").replace("/", "~1")
            yield f"{pointer}/{escaped}", str(key)
            yield from _strings(item, f"{pointer}/{escaped}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")


def _control_in_address(scope: Scope) -> str | None:
    if _CONTROL.search(scope["path"]):
        return "path"
    if _PERCENT_CONTROL.search(scope.get("query_string", b"")):
        return "query"
    return None


def _upload_routes(app: FastAPI) -> list[RouteContext]:
    """Routes that take a file: their bodies are uploads, with the larger limit."""
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        and any(
            isinstance(field.field_info, params.File)
            for field in route.original_route.dependant.body_params
        )
    ]


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the client's disconnect

    return replay


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than this service accepts here ({limit:,} bytes).",
        max_bytes=limit,
    )


def _control_problem(error: FieldError) -> ValidationProblem:
    return ValidationProblem(
        f"The request {CONTROL_MESSAGE}; remove it and send again.", errors=[error]
    )


async def _respond(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
    response = problem_response(Request(scope, receive), problem)
    response.headers["connection"] = "close"  # the rest of a refused body is not read
    await response(scope, receive, send)
