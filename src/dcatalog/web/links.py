"""Addresses a page may send a person to, and this service's own address."""

from __future__ import annotations

from fastapi import Request


def safe_next(target: str) -> str:
    """Only same-site paths: an open redirect would help phishing. Browsers drop
    tabs and line breaks from a URL and read a backslash as a slash, so
    ``/\t/evil.example`` would leave the site: any of them refuses the target."""
    unsafe = any(c < " " or c in "\\\x7f" for c in target)
    if target.startswith("/") and not target.startswith("//") and not unsafe:
        return target
    return "/"


def public_base_url(request: Request) -> str:
    """This service's absolute address, without a trailing slash: the public URL
    setting, or else the request's own (only hosts the operator allows reach us, see
    ``dcatalog.web.security_headers``). Links and QR codes that leave the screen use it."""
    public: str | None = request.app.state.settings.public_url
    return public or str(request.base_url).rstrip("/")
