"""Proposal pages: public reading; proposing, supporting and commenting when
signed in; the programme office decides."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dcatalog.access import StaffOrCitizen, current_actor, current_citizen, public, require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import get_agency, list_active_agencies
from dcatalog.catalog.labels import policy_labels, unit_label, virtue_options
from dcatalog.catalog.models import VerificationPolicy
from dcatalog.catalog.schemas import UNITS, NewDeedType
from dcatalog.problems import Problem
from dcatalog.proposals import service
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep
from dcatalog.web.errors import validate_form
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
DECIDE = require(Scope.CATALOG_APPROVE)


def _taking_part(request: Request) -> bool:
    """Staff and signed-in citizens alike propose, support and comment."""
    return current_actor(request) is not None or current_citizen(request) is not None


def _detail(
    request: Request, session: Session, proposal_id: uuid.UUID, problem: Problem | None = None
) -> HTMLResponse:
    proposal = service.get_proposal(session, proposal_id)
    lang = current_language()
    staff = service.staff_agencies(session, proposal)

    def named(ref: str, stored: str) -> str:
        """Who took part, as the page names them ("" for a citizen: "a citizen")."""
        if ref in staff:
            agency = staff[ref]
            return agency.name(lang) if agency else _("the programme office")
        return stored

    context = {
        "proposal": proposal,
        "named": named,
        "agencies": [(a.code, a.name(lang)) for a in list_active_agencies(session)],
        "units": [(code, unit_label(code)) for code in UNITS],
        "policies": list(policy_labels().items()),
        "virtue_options": virtue_options(session),
        "problem": problem,
        "taking_part": _taking_part(request),
    }
    status = problem.status if problem else 200
    return render(request, "proposals/detail.html", context, status_code=status)


def _index(
    request: Request,
    session: Session,
    form: dict[str, str] | None = None,
    problem: Problem | None = None,
) -> HTMLResponse:
    context = {
        "proposals": service.list_proposals(session),
        "virtue_options": [("", "—"), *virtue_options(session)],
        "form": form or {},
        "problem": problem,
        "taking_part": _taking_part(request),
    }
    return render(request, "proposals/index.html", context, problem.status if problem else 200)


@router.get("/proposals", response_class=HTMLResponse, dependencies=[public])
def proposals(request: Request, session: SessionDep, title: str = "") -> HTMLResponse:
    """``title``: words someone searched the catalog for in vain, to start from
    (cut to the title's length rather than refused: it only fills the form)."""
    title = " ".join(title.split())[: service.TITLE_MAX]
    return _index(request, session, {"title": title} if title else None)


@router.post("/proposals", response_class=HTMLResponse)
def propose(
    request: Request,
    database: DatabaseDep,
    actor: StaffOrCitizen,
    title: Annotated[str, Form()],
    description: Annotated[str, Form()],
    virtue: Annotated[str, Form()] = "",
) -> Response:
    with database.write_session() as session:
        try:
            proposal = service.propose(
                session, actor, title=title, description=description, virtue=virtue or None
            )
        except Problem as problem:
            form = {"title": title, "description": description, "virtue": virtue}
            return _index(request, session, form, problem)
    return RedirectResponse(f"/proposals/{proposal.id}", status_code=303)


@router.get("/proposals/{proposal_id}", response_class=HTMLResponse, dependencies=[public])
def proposal(request: Request, proposal_id: uuid.UUID, session: SessionDep) -> HTMLResponse:
    return _detail(request, session, proposal_id)


@router.post("/proposals/{proposal_id}/support")
def support(proposal_id: uuid.UUID, database: DatabaseDep, actor: StaffOrCitizen) -> Response:
    with database.write_session() as session:
        service.support(session, actor, service.get_proposal(session, proposal_id))
    return RedirectResponse(f"/proposals/{proposal_id}", status_code=303)


@router.post("/proposals/{proposal_id}/comments", response_class=HTMLResponse)
def comment(
    request: Request,
    proposal_id: uuid.UUID,
    database: DatabaseDep,
    actor: StaffOrCitizen,
    text: Annotated[str, Form()],
) -> Response:
    with database.write_session() as session:
        try:
            service.comment(session, actor, service.get_proposal(session, proposal_id), text)
        except Problem as problem:
            return _detail(request, session, proposal_id, problem=problem)
    return RedirectResponse(f"/proposals/{proposal_id}#comments", status_code=303)


@router.post("/proposals/{proposal_id}/accept", response_class=HTMLResponse)
def accept(
    request: Request,
    proposal_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, DECIDE],
    agency: Annotated[str, Form()],
    name: Annotated[str, Form()],
    name_en: Annotated[str, Form()],
    virtue: Annotated[str, Form()],
    unit: Annotated[str, Form()],
    credits_per_unit: Annotated[str, Form()],
    verification_policy: Annotated[str, Form()] = VerificationPolicy.VERIFIER.value,
) -> Response:
    with database.write_session() as session:
        proposal = service.get_proposal(session, proposal_id)
        try:
            draft = validate_form(
                NewDeedType,
                {
                    "name": name,
                    "name_th": proposal.title,
                    "name_en": name_en,
                    "description_th": proposal.description,
                    "virtue": virtue,
                    "unit": unit,
                    "credits_per_unit": credits_per_unit,
                    "verification_policy": verification_policy,
                },
            )
            deed_type = service.accept(session, actor, proposal, get_agency(session, agency), draft)
        except Problem as problem:
            return _detail(request, session, proposal_id, problem=problem)
    return RedirectResponse(f"/proposals/{proposal_id}?accepted={deed_type.code}", status_code=303)


@router.post("/proposals/{proposal_id}/decline", response_class=HTMLResponse)
def decline(
    request: Request,
    proposal_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, DECIDE],
    reason: Annotated[str, Form()],
) -> Response:
    with database.write_session() as session:
        try:
            service.decline(session, actor, service.get_proposal(session, proposal_id), reason)
        except Problem as problem:
            return _detail(request, session, proposal_id, problem=problem)
    return RedirectResponse(f"/proposals/{proposal_id}", status_code=303)
