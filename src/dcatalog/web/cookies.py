"""The sign-in cookies (staff and citizens): one set of flags for both."""

from __future__ import annotations

from fastapi import Request, Response


def set_sign_in_cookie(
    response: Response, request: Request, name: str, token: str, hours: int
) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site form posts carry
    it), Secure whenever the site is served over https."""
    response.set_cookie(
        name,
        token,
        max_age=hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
