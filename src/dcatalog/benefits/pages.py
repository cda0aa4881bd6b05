"""Claiming on "My good deeds" and redeeming at a partner's counter."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog.access import CurrentCitizen, require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.benefits import claims, service
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.citizens.pages import period_label, subject_labels
from dcatalog.problems import Problem
from dcatalog.web import throttle
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep, SettingsDep
from dcatalog.web.i18n import current_language
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
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


@router.get("/staff/redeem", response_class=HTMLResponse)
def counter(request: Request, actor: Annotated[Actor, REDEEM]) -> HTMLResponse:
    return render(request, "benefits/redeem.html", {})


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
            page = render(request, "benefits/redeem.html", context, problem.status)
            page.headers.update(problem.headers)  # Retry-After of a 429
            return page
        return render(request, "benefits/redeem.html", context)


# --- a partner's eligibility check (the page beside POST /api/v1/eligibility) ------


def _check_context(session: Any, form: dict[str, str], **extra: Any) -> dict[str, Any]:
    lang = current_language()
    offered = service.offered(session, today_in_thailand())
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
    return render(request, "benefits/eligibility.html", _check_context(session, {}))


@router.post("/staff/eligibility", response_class=HTMLResponse)
def eligibility_check(
    request: Request,
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
                request.app.state.keyer,
                national_id=national_id,
                benefit_code=benefit,
                purpose=purpose,
                today=today_in_thailand(),
                academic_start=settings.academic_year_start_month_day,
            )
        except Problem as problem:
            session.rollback()
            context = _check_context(session, form, problem=problem)
            return render(request, "benefits/eligibility.html", context, problem.status)
        context = _check_context(session, form, check=found, benefit=service.get(session, benefit))
        return render(request, "benefits/eligibility.html", context)
