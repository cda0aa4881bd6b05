"""Sign-in and the staff pages for accounts and API keys (thin: the service decides)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog.access import SESSION_COOKIE, CurrentActor, public, require, signed_in
from dcatalog.accounts import service
from dcatalog.accounts.permissions import AGENCY_ROLES, API_KEY_SCOPES, Role, Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import agency_of, get_agency, list_active_agencies
from dcatalog.problems import Problem, TooManyAttempts
from dcatalog.web import throttle
from dcatalog.web.cookies import set_sign_in_cookie
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep, SettingsDep
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.links import safe_next
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
MANAGE_STAFF = require(Scope.STAFF_MANAGE)


def role_labels() -> dict[Role, str]:
    return {
        Role.PROGRAM_ADMIN: _("Programme office administrator"),
        Role.AUDITOR: _("Auditor"),
        Role.AGENCY_ADMIN: _("Agency administrator"),
        Role.RECORDER: _("Recorder"),
        Role.VERIFIER: _("Verifier"),
    }


def scope_labels() -> dict[Scope, str]:
    return {
        Scope.DEEDS_WRITE: _("record deeds"),
        Scope.DEEDS_VERIFY: _("verify deeds"),
        Scope.ELIGIBILITY_READ: _("check eligibility, with the citizen's consent"),
        Scope.CATALOG_WRITE: _("draft and submit deed types"),
        Scope.CITIZENS_READ: _("read a citizen's record, as far as their consent allows"),
        Scope.BENEFITS_REDEEM: _("redeem citizens' claim codes"),
    }


@router.get("/login", response_class=HTMLResponse, dependencies=[public])
def login_form(request: Request, next_url: str = "/staff") -> HTMLResponse:
    return render(request, "login.html", {"next_url": safe_next(next_url), "email": ""})


@router.post("/login", dependencies=[public])
def login(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next_url: Annotated[str, Form(alias="next")] = "/staff",
) -> Response:
    with database.write_session() as session:
        try:
            attempts = throttle.sign_in_attempts(request, email)
            account = service.authenticate(session, email, password, attempts)
        except (service.SignInRefused, TooManyAttempts) as refused:
            # The same page for an unknown e-mail and a known one, at every attempt.
            status, headers = 400, {}
            message = _("The email or the password is not right.")
            if isinstance(refused, TooManyAttempts):
                status, headers, message = refused.status, refused.headers, refused.detail
            context = {"message": message, "email": email, "next_url": safe_next(next_url)}
            page = render(request, "login.html", context, status_code=status)
            page.headers.update(headers)  # Retry-After and RateLimit of a 429
            return page
        token = service.start_session(session, account, settings.session_hours)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_sign_in_cookie(response, request, SESSION_COOKIE, token, settings.session_hours)
    return response


@router.post("/logout", dependencies=[signed_in])
def logout(request: Request, database: DatabaseDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with database.write_session() as session:
            service.end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/staff", response_class=HTMLResponse)
def staff_home(request: Request, actor: CurrentActor, session: SessionDep) -> HTMLResponse:
    agency = agency_of(session, actor) if actor.agency_id else None
    role = role_labels().get(actor.role, _("API key")) if actor.role else _("API key")
    return render(request, "staff/home.html", {"agency": agency, "role_label": role})


def _account_form_options(session: Any, actor: Actor) -> dict[str, Any]:
    labels = role_labels()
    roles = list(Role) if actor.is_program_office else sorted(AGENCY_ROLES)
    options: dict[str, Any] = {
        "role_options": [(role.value, labels[role]) for role in roles],
        "role_labels": labels,
        "agency_options": None,
    }
    if actor.is_program_office:
        agencies = list_active_agencies(session)
        options["agency_options"] = [("", _("(none: programme office)"))] + [
            (a.code, a.name(current_language())) for a in agencies
        ]
    return options


@router.get("/staff/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request, session: SessionDep, actor: Annotated[Actor, MANAGE_STAFF]
) -> HTMLResponse:
    context = {
        "accounts": service.list_accounts(session, actor),
        "form": {},
        "created": request.query_params.get("created"),
        **_account_form_options(session, actor),
    }
    return render(request, "staff/accounts.html", context)


@router.post("/staff/accounts", response_class=HTMLResponse)
def create_account(
    request: Request,
    database: DatabaseDep,
    actor: Annotated[Actor, MANAGE_STAFF],
    email: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    role: Annotated[Role, Form()],
    password: Annotated[str, Form()],
    agency: Annotated[str, Form()] = "",
) -> Response:
    with database.write_session() as session:
        try:
            target = None
            if actor.is_program_office:
                target = get_agency(session, agency) if agency else None
            elif role in AGENCY_ROLES:
                target = agency_of(session, actor)
            account = service.create_account(
                session,
                actor,
                email=email,
                display_name=display_name,
                role=role,
                password=password,
                agency=target,
            )
        except Problem as problem:
            form = {"email": email, "display_name": display_name, "role": role, "agency": agency}
            context = {
                "accounts": service.list_accounts(session, actor),
                "form": form,
                "problem": problem,
                **_account_form_options(session, actor),
            }
            return render(request, "staff/accounts.html", context, status_code=problem.status)
    return RedirectResponse(f"/staff/accounts?created={account.email}", status_code=303)


def _keys_context(session: Any, actor: Actor) -> dict[str, Any]:
    labels = scope_labels()
    context: dict[str, Any] = {
        "keys": service.list_api_keys(session, actor),
        "scope_options": [(scope.value, labels[scope]) for scope in sorted(API_KEY_SCOPES)],
        "agency_options": None,
    }
    if actor.is_program_office:
        context["agency_options"] = [
            (a.code, a.name(current_language())) for a in list_active_agencies(session)
        ]
    return context


@router.get("/staff/keys", response_class=HTMLResponse)
def keys_page(
    request: Request, session: SessionDep, actor: Annotated[Actor, MANAGE_STAFF]
) -> HTMLResponse:
    return render(request, "staff/keys.html", _keys_context(session, actor))


@router.post("/staff/keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    database: DatabaseDep,
    actor: Annotated[Actor, MANAGE_STAFF],
    name: Annotated[str, Form()],
    scopes: Annotated[list[str] | None, Form()] = None,
    agency: Annotated[str, Form()] = "",
) -> HTMLResponse:
    with database.write_session() as session:
        context: dict[str, Any] = {}
        status = 201
        try:
            target = (
                get_agency(session, agency)
                if actor.is_program_office
                else agency_of(session, actor)
            )
            _key, plain = service.create_api_key(session, actor, target, name, scopes or [])
            context["new_key"] = plain
        except Problem as problem:
            context["problem"] = problem
            status = problem.status
        context.update(_keys_context(session, actor))
    response = render(request, "staff/keys.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # the page shows a secret once
    return response


@router.post("/staff/keys/{prefix}/revoke")
def revoke_key(
    prefix: str, database: DatabaseDep, actor: Annotated[Actor, MANAGE_STAFF]
) -> Response:
    with database.write_session() as session:
        service.revoke_api_key(session, actor, prefix, reason="revoked on the staff page")
    return RedirectResponse("/staff/keys", status_code=303)
