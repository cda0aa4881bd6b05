"""CSRF protection for every form: the signed double-submit cookie pattern (OWASP).

Each browser gets a random ``dcatalog_csrf`` cookie; a form (or an htmx request,
through the ``X-CSRF-Token`` header) must send back HMAC(secret key, cookie).
Another site can make the browser send the cookie but can neither read it nor
compute the token. The API does not use cookies, so it needs none of this.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dcatalog.problems import Forbidden

CSRF_COOKIE = "dcatalog_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE = {"GET", "HEAD", "OPTIONS"}


class CsrfCookieMiddleware:
    """Gives every page visitor a CSRF cookie before any form is shown."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/api/", "/static/")):
            await self.app(scope, receive, send)
            return
        seed = _cookie(scope)
        fresh = seed is None
        if seed is None:
            seed = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_seed"] = seed

        async def send_with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start":
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                cookie = f"{CSRF_COOKIE}={seed}; Path=/; HttpOnly; SameSite=Lax{secure}"
                headers = [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if CSRF_COOKIE in jar and len(jar[CSRF_COOKIE].value) >= 32:
                return jar[CSRF_COOKIE].value
    return None


def csrf_token(request: Request) -> str:
    seed = getattr(request.state, "csrf_seed", "")
    secret: bytes = request.app.state.secret_key
    return hmac.new(secret, f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


async def csrf_protect(request: Request) -> None:
    """Dependency of every page router: refuses an unsafe request without the token."""
    if request.method in _SAFE:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise Forbidden(
            "This form has expired or was sent from another site. Reload the page and try again."
        )
