"""Security headers on every answer, and only trusted names in the ``Host`` header.

``SecurityHeaders`` wraps the whole application, outside Starlette's own error
middleware, so pages, API answers, static files and even a crash's 500 carry
the same headers. A route that sets one of them itself keeps its own value.

``TrustedHosts`` refuses a request whose ``Host`` names a host this service
does not answer to (``DCATALOG_ALLOWED_HOSTS``): absolute addresses built from
the request (``request.base_url``, the credentials' ``did:web`` issuer when no
public URL is set) can then only name a host the operator chose.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dcatalog.problems import BAD_REQUEST, PROBLEM_JSON, Problem

# Everything from this service only: no inline script or style (a script injected
# into a page cannot run), no plugin, no <base> rewriting where relative links go.
# img-src allows data: because Swagger UI draws its icons as data: SVG images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# No page uses these, but for the counter's camera (COUNTER_PERMISSIONS_POLICY); a
# phone's own camera app reads the other QR codes and opens their links.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# /staff/redeem reads claim QR codes with the camera of this page only (its own route
# sets it: a route's own header wins, see SecurityHeaders).
COUNTER_PERMISSIONS_POLICY = PERMISSIONS_POLICY.replace("camera=()", "camera=(self)")
HEADERS: tuple[tuple[bytes, bytes], ...] = tuple(
    (name.encode("latin-1"), value.encode("latin-1"))
    for name, value in (
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        # frame-ancestors for browsers too old for it: the consent, API-key and
        # redeem pages must never be framed (clickjacking).
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        # Share links (/c/<code>), claim codes and sign-in callbacks carry secrets in
        # their addresses: another site never learns even which page linked to it.
        ("referrer-policy", "same-origin"),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("cross-origin-opener-policy", "same-origin"),
    )
)
# Only over https (a browser ignores it over http, and an http-only demo must stay
# reachable). No includeSubDomains: the parent domain's other sites are not ours.
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Behind a proxy, uvicorn's --proxy-headers (forwarded_allow_ips) sets the
        # scheme from X-Forwarded-Proto.
        wanted = (*HEADERS, HSTS) if scope.get("scheme") == "https" else HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in wanted if header[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Probes and scrapers name the machine's address, and these answers hold no link.
UNCHECKED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_PASSED = "dcatalog.trusted_host"


class TrustedHosts:
    """Starlette's TrustedHostMiddleware, answering a refused host with a problem
    document (never Starlette's plain text, never the refused name)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.check = TrustedHostMiddleware(self._passed, allowed_hosts, www_redirect=False)

    async def _passed(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_PASSED] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNCHECKED_PATHS:
            await self.app(scope, receive, send)
            return

        async def send_or_refuse(message: Message) -> None:
            if scope.get(_PASSED):
                await send(message)
            elif message["type"] == "http.response.start":
                await _refuse(scope, receive, send)
            # else: the rest of Starlette's own refusal, already replaced

        await self.check(scope, receive, send_or_refuse)


class UntrustedHost(Problem):
    kind = BAD_REQUEST


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    problem = UntrustedHost(
        "This service does not answer to the host name in the Host header; use its public address."
    )
    document = problem.document(instance=scope["path"])
    await JSONResponse(document, status_code=400, media_type=PROBLEM_JSON)(scope, receive, send)
