"""Claiming on "My good deeds", redeeming at a partner's counter, and a partner's
eligibility checks of one citizen; the catalog page's "what it leads to"."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dcatalog.access import CurrentCitizen, require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.benefits import claims, counter, service
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.catalog.labels import subject_labels
from dcatalog.catalog.models import DeedType, DeedTypeVersion
from dcatalog.identity.deps import KeyerDep
from dcatalog.problems import Problem
from dcatalog.web import throttle
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep, SettingsDep
from dcatalog.web.i18n import current_language
from dcatalog.web.labels import period_label
from dcatalog.web.links import public_base_url
from dcatalog.web.security_headers import COUNTER_PERMISSIONS_POLICY
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def leads_to(session: Session, entry: DeedType, version: DeedTypeVersion) -> dict[str, Any]:
    """What a deed type's public page lists under "what it leads to" (a catalog
    page extra, connected in dcatalog.assembly)."""
    subjects = {f"type:{entry.code}", f"virtue:{version.virtue_code}"}
    return {"leads_to": service.reached_through(session, subjects, today_in_thailand())}


REDEEM = require(Scope.BENEFITS_REDEEM)
CHECK = require(Scope.ELIGIBILITY_READ)


def qr_data_uri(text: str) -> str:
    data_uri: str = segno.make(text, error="m", micro=False).svg_data_uri(scale=8, border=4)
    return data_uri


@router.post("/me/benefits/{code}/claim")
def claim(
    request: Request,
    code: str,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    settings: SettingsDep,
) -> Response:
    with database.write_session() as session:
        found = claims.claim(
            session,
            citizen,
            request.app.state.secret_key,
            code,
            today=today_in_thailand(),
            academic_start=settings.academic_year_start_month_day,
        )
    return RedirectResponse(f"/me/claims/{found.id}", status_code=303)


@router.get("/me/claims/{claim_id}", response_class=HTMLResponse)
def my_claim(
    request: Request, claim_id: uuid.UUID, citizen: CurrentCitizen, session: SessionDep
) -> HTMLResponse:
    found = claims.get_claim(session, citizen, claim_id)
    code = claims.code_for(request.app.state.secret_key, found.id)
    context = {"claim": found, "code": code, "qr": qr_data_uri(code)}
    return render(request, "benefits/claim.html", context)


def _counter_page(request: Request, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """The redeem page, which may use the camera (to read claim QR codes)."""
    page = render(request, "benefits/redeem.html", context, status)
    page.headers["permissions-policy"] = COUNTER_PERMISSIONS_POLICY
    return page


@router.get("/staff/redeem", response_class=HTMLResponse)
def redeem_form(request: Request, actor: Annotated[Actor, REDEEM]) -> HTMLResponse:
    return _counter_page(request, {})


@router.post("/staff/redeem", response_class=HTMLResponse)
def redeem(
    request: Request,
    database: DatabaseDep,
    actor: Annotated[Actor, REDEEM],
    code: Annotated[str, Form()],
) -> HTMLResponse:
    context: dict[str, Any] = {}
    attempts = throttle.claim_code_attempts(request, actor.label)
    with database.write_session() as session:
        try:
            context["result"] = claims.redeem(session, actor, code, attempts)
        except Problem as problem:
            context["problem"] = problem
            page = _counter_page(request, context, problem.status)
            page.headers.update(problem.headers)  # Retry-After of a 429
            return page
        return _counter_page(request, context)


# --- a partner's eligibility check (the page beside POST /api/v1/eligibility) ------


def _check_context(
    session: Any, actor: Actor, form: dict[str, str], **extra: Any
) -> dict[str, Any]:
    lang = current_language()
    # The counter's own agency's benefits first (what it checks nearly always), each
    # part in the one order of benefits.
    offered = sorted(
        service.offered(session, today_in_thailand()), key=lambda b: b.agency_id != actor.agency_id
    )
    return {
        "benefits": [(b.code, f"{b.name(lang)} · {b.agency.name(lang)}") for b in offered],
        "form": form,
        "labels": subject_labels(session, lang),
        "period_label": period_label,
        **extra,
    }


@router.get("/staff/eligibility", response_class=HTMLResponse)
def eligibility_form(
    request: Request, session: SessionDep, actor: Annotated[Actor, CHECK]
) -> HTMLResponse:
    return render(request, "benefits/eligibility.html", _check_context(session, actor, {}))


@router.post("/staff/eligibility", response_class=HTMLResponse)
def eligibility_check(
    request: Request,
    keyer: KeyerDep,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, CHECK],
    national_id: Annotated[str, Form()],
    benefit: Annotated[str, Form()],
    purpose: Annotated[str, Form()] = "",
) -> HTMLResponse:
    form = {"benefit": benefit, "purpose": purpose}  # the ID is never echoed back
    with database.write_session() as session:
        try:
            found = service.check_eligibility(
                session,
                actor,
                keyer,
                national_id=national_id,
                benefit_code=benefit,
                purpose=purpose,
                today=today_in_thailand(),
                academic_start=settings.academic_year_start_month_day,
            )
        except Problem as problem:
            session.rollback()
            context = _check_context(session, actor, form, problem=problem)
            return render(request, "benefits/eligibility.html", context, problem.status)
        return _answer(request, session, actor, found, form)


@router.post("/staff/eligibility/again", response_class=HTMLResponse)
def eligibility_again(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, CHECK],
    sealed: Annotated[str, Form()],
) -> HTMLResponse:
    """The same check once more, after the citizen answered the consent request on
    their phone (the ID is not typed again: the page holds it sealed)."""
    with database.write_session() as session:
        try:
            again = counter.open_sealed(request.app.state.secret_key, sealed, actor.agency_id)
            form = {"benefit": again.benefit, "purpose": again.purpose}
            found = service.check_eligibility_of(
                session,
                actor,
                again.citizen_key,
                benefit_code=again.benefit,
                purpose=again.purpose,
                today=today_in_thailand(),
                academic_start=settings.academic_year_start_month_day,
            )
        except Problem as problem:
            session.rollback()
            context = _check_context(session, actor, {}, problem=problem)
            return render(request, "benefits/eligibility.html", context, problem.status)
        return _answer(request, session, actor, found, form)


def _answer(
    request: Request, session: Any, actor: Actor, found: service.Check, form: dict[str, str]
) -> HTMLResponse:
    """The answer; without consent, the consent request the citizen scans."""
    benefit = service.get(session, form["benefit"])
    extra: dict[str, Any] = {"check": found, "benefit": benefit}
    if found.verdict is None and found.reason == service.NO_CONSENT:
        url = counter.consent_request_url(public_base_url(request), benefit.code)
        assert actor.agency_id is not None  # a check is made for an agency, or refused
        recheck = counter.Recheck(actor.agency_id, found.citizen_key, benefit.code, form["purpose"])
        extra["consent_request"] = {
            "url": url,
            "qr": qr_data_uri(url),
            "sealed": counter.seal(request.app.state.secret_key, recheck),
        }
    return render(
        request, "benefits/eligibility.html", _check_context(session, actor, form, **extra)
    )
