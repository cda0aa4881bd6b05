"""Citizen sign-in pages: OpenID Connect (ThaiD or another provider), the demo
sign-in, and sign-out. Thin: the flow is in ``dcatalog.citizens.oidc``, the
session in ``dcatalog.identity.sessions``.

Every way in ends the same: the national ID is keyed into the citizen key by
``start_session`` at once, and the browser gets the citizen cookie. No page and no
log line ever shows the ID.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog.access import current_citizen, public
from dcatalog.calendars.buddhist_era import InvalidDate, parse_be_date, today_in_thailand
from dcatalog.citizens.oidc import (
    FLOW_COOKIE,
    FLOW_COOKIE_PATH,
    FLOW_SECONDS,
    OidcClient,
    Reason,
    SignInFailed,
    open_flow,
    seal_flow,
)
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.identity import sessions
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.deps import KeyerDep
from dcatalog.identity.national_id import InvalidNationalId
from dcatalog.identity.sessions import CITIZEN_COOKIE
from dcatalog.logs import get_logger
from dcatalog.problems import NotFound
from dcatalog.web import throttle
from dcatalog.web.cookies import set_sign_in_cookie
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SettingsDep
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.links import safe_next
from dcatalog.web.templating import render

log = get_logger(__name__)
router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect), public])

DEFAULT_NEXT = "/me"
CITIZEN_SIGN_IN = throttle.per_client("citizen_sign_in")
_client_lock = threading.Lock()

# HTTP status of each way sign-in can fail: the person's side (4xx) or the
# provider's (5xx, so monitoring sees a provider in trouble).
_STATUS: dict[Reason, int] = {
    "not_configured": 404,
    "unreachable": 503,
    "misconfigured": 503,
    "denied": 400,
    "provider_error": 502,
    "expired": 400,
    "bad_state": 400,
    "invalid_token": 502,
    "no_id": 502,
    "invalid_id": 502,
}


def _failure_message(reason: Reason, provider: str) -> str:
    messages: dict[Reason, str] = {
        "not_configured": _("Sign-in for citizens is not set up on this server yet."),
        "unreachable": _("%(provider)s did not answer. Please try again in a few minutes."),
        "misconfigured": _(
            "Sign-in with %(provider)s is not set up correctly on this server. "
            "Please tell the office that runs it."
        ),
        "denied": _("You cancelled signing in with %(provider)s. Nothing was shared."),
        "provider_error": _("%(provider)s could not complete the sign-in. Please try again."),
        "expired": _(
            "The sign-in took too long, or was started in another browser. Please start again."
        ),
        "bad_state": _(
            "This answer does not belong to the sign-in started in this browser, so it was "
            "refused. Please start again."
        ),
        "invalid_token": _(
            "The answer from %(provider)s could not be verified, so it was refused. "
            "Please try again."
        ),
        "no_id": _(
            "%(provider)s did not share your national ID number, which is needed to find "
            "your good deeds. Please sign in again and allow it."
        ),
        "invalid_id": _(
            "%(provider)s sent a national ID number that is not valid, so you were not signed in."
        ),
    }
    return messages[reason] % {"provider": provider}


def _oidc(request: Request) -> OidcClient:
    """One client per application (it keeps the provider's discovery and keys)."""
    state = request.app.state
    with _client_lock:
        client: OidcClient | None = getattr(state, "oidc_client", None)
        if client is None:
            client = OidcClient(state.settings)
            state.oidc_client = client
    return client


def _redirect_uri(request: Request, settings: Settings) -> str:
    return settings.oidc_redirect_uri or str(request.url_for("citizen_sign_in_callback"))


def _page(
    request: Request,
    settings: Settings,
    next_url: str,
    *,
    message: str | None = None,
    status_code: int = 200,
    born_on: str = "",
    invalid: str = "",
) -> HTMLResponse:
    context: dict[str, Any] = {
        "born_on": born_on,  # as typed, so a mistake is corrected, not retyped
        "invalid": invalid,  # the field the message is about
        "next_url": safe_next(next_url),
        "provider": settings.oidc_name,
        "configured": _oidc(request).configured,
        "citizen": current_citizen(request),
        "message": message,
    }
    response = render(request, "citizens/sign_in.html", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(
    request: Request, settings: Settings, failure: SignInFailed, next_url: str = DEFAULT_NEXT
) -> HTMLResponse:
    log.warning("citizen sign-in refused", reason=failure.reason, detail=failure.detail)
    message = _failure_message(failure.reason, settings.oidc_name)
    response = _page(
        request, settings, next_url, message=message, status_code=_STATUS[failure.reason]
    )
    response.delete_cookie(FLOW_COOKIE, path=FLOW_COOKIE_PATH)
    return response


def _start_session(
    request: Request,
    keyer: CitizenKeyer,
    database: Database,
    settings: Settings,
    national_id: str,
    born_on: date | None,
    method: str,
) -> str:
    """A new session (a new token: nothing from before sign-in carries over); a
    session this browser still had ends."""
    with database.write_session() as session:
        previous = request.cookies.get(CITIZEN_COOKIE)
        if previous:
            sessions.end_session(session, previous)
        return sessions.start_session(
            session,
            keyer,
            national_id=national_id,
            born_on=born_on,
            method=method,
            hours=settings.citizen_session_hours,
        )


def _signed_in(request: Request, settings: Settings, token: str, next_url: str) -> Response:
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_sign_in_cookie(response, request, CITIZEN_COOKIE, token, settings.citizen_session_hours)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_COOKIE_PATH)
    return response


@router.get("/me/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request,
    settings: SettingsDep,
    next_url: Annotated[str, Query(alias="next")] = DEFAULT_NEXT,
) -> HTMLResponse:
    return _page(request, settings, next_url)


@router.get("/me/sign-in/oidc", dependencies=[CITIZEN_SIGN_IN])
def sign_in_with_provider(
    request: Request,
    settings: SettingsDep,
    next_url: Annotated[str, Query(alias="next")] = DEFAULT_NEXT,
) -> Response:
    secret: bytes = request.app.state.secret_key
    try:
        url, flow = _oidc(request).begin(
            _redirect_uri(request, settings), safe_next(next_url), language=current_language()
        )
    except SignInFailed as failure:
        return _refused(request, settings, failure, next_url)
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        FLOW_COOKIE,
        seal_flow(flow, secret),
        max_age=FLOW_SECONDS,
        path=FLOW_COOKIE_PATH,
        httponly=True,
        # Lax: the browser sends it when the provider sends the person back (a
        # top-level GET), and never with a request another site makes in the background.
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/me/sign-in/callback", name="citizen_sign_in_callback")
def sign_in_callback(
    request: Request, settings: SettingsDep, database: DatabaseDep, keyer: KeyerDep
) -> Response:
    client = _oidc(request)
    secret: bytes = request.app.state.secret_key
    try:
        if not client.configured:
            raise SignInFailed("not_configured")
        flow = open_flow(request.cookies.get(FLOW_COOKIE), secret)
        identity = client.finish(flow, dict(request.query_params), _redirect_uri(request, settings))
        token = _start_session(
            request,
            keyer,
            database,
            settings,
            identity.national_id,
            identity.born_on,
            client.method,
        )
    except SignInFailed as failure:
        return _refused(request, settings, failure)
    except InvalidNationalId as exc:  # start_session checks the ID once more
        return _refused(request, settings, SignInFailed("invalid_id", exc.problem))
    log.info("citizen signed in", method=client.method)
    return _signed_in(request, settings, token, flow.next_url)


@router.post("/me/sign-in/demo", response_class=HTMLResponse, dependencies=[CITIZEN_SIGN_IN])
def demo_sign_in(
    request: Request,
    settings: SettingsDep,
    database: DatabaseDep,
    keyer: KeyerDep,
    national_id: Annotated[str, Form()] = "",
    born_on: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = DEFAULT_NEXT,
) -> Response:
    """For demonstrations and tests only: anyone may claim any ID here."""
    if not settings.demo:
        raise NotFound("The demo sign-in exists only on demonstration systems.")
    try:
        born = parse_be_date(born_on)
    except InvalidDate as invalid:
        return _page(
            request,
            settings,
            next_url,
            message=_date_message(invalid),
            status_code=400,
            born_on=born_on,
            invalid="born_on",
        )
    if born > today_in_thailand() or born.year < 1900:
        message = _("Enter a birth date in the past.")
        return _page(
            request, settings, next_url, message=message, status_code=400, born_on=born_on,
            invalid="born_on",
        )  # fmt: skip
    try:
        token = _start_session(request, keyer, database, settings, national_id, born, "demo")
    except InvalidNationalId as exc:
        message = exc.message_th if current_language() == "th" else exc.message_en
        return _page(request, settings, next_url, message=message, status_code=400, born_on=born_on)
    log.info("citizen signed in", method="demo")
    return _signed_in(request, settings, token, next_url)


def _date_message(invalid: InvalidDate) -> str:
    if invalid.reason == "christian_era":
        return _("Type the year in the Buddhist Era (B.E.), e.g. 2548 rather than 2005.")
    if invalid.reason == "no_such_day":
        return _("There is no such day: check the day and the month.")
    return _("Type the birth date as day/month/year in the Buddhist Era, e.g. 01/06/2548.")


@router.post("/me/sign-out")
def sign_out(request: Request, database: DatabaseDep) -> Response:
    token = request.cookies.get(CITIZEN_COOKIE)
    if token:
        with database.write_session() as session:
            sessions.end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(CITIZEN_COOKIE)
    return response
