"""Programme-office pages to onboard and manage partner agencies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies import service
from dcatalog.agencies.models import AgencyKind, AgencyStatus
from dcatalog.problems import Problem
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
MANAGE = require(Scope.AGENCIES_MANAGE)


def kind_options() -> list[tuple[str, str]]:
    return [
        (AgencyKind.GOVERNMENT.value, _("Government")),
        (AgencyKind.SCHOOL.value, _("School or university")),
        (AgencyKind.NGO.value, _("Non-profit organisation")),
        (AgencyKind.BUSINESS.value, _("Business")),
    ]


def status_options() -> list[tuple[str, str]]:
    return [
        (AgencyStatus.ACTIVE.value, _("Active")),
        (AgencyStatus.SUSPENDED.value, _("Suspended")),
    ]


def _context(session: Any, **extra: Any) -> dict[str, Any]:
    return {
        "agencies": service.list_agencies(session),
        "kind_options": kind_options(),
        "kind_labels": dict(kind_options()),
        "status_options": status_options(),
        "form": {},
        **extra,
    }


@router.get("/admin/agencies", response_class=HTMLResponse)
def agencies_page(
    request: Request, session: SessionDep, _actor: Annotated[Actor, MANAGE]
) -> HTMLResponse:
    return render(request, "admin/agencies.html", _context(session))


@router.post("/admin/agencies", response_class=HTMLResponse)
def create_agency(
    request: Request,
    database: DatabaseDep,
    actor: Annotated[Actor, MANAGE],
    code: Annotated[str, Form()],
    name_th: Annotated[str, Form()],
    name_en: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    website: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
) -> Response:
    fields = {
        "name_th": name_th,
        "name_en": name_en,
        "kind": kind,
        "website": website,
        "contact": contact,
    }
    with database.write_session() as session:
        try:
            agency = service.create_agency(session, actor, code=code, **fields)
        except Problem as problem:
            context = _context(session, form={"code": code, **fields}, problem=problem)
            return render(request, "admin/agencies.html", context, status_code=problem.status)
    return RedirectResponse(f"/admin/agencies/{agency.code}?created=1", status_code=303)


@router.get("/admin/agencies/{code}", response_class=HTMLResponse)
def agency_page(
    request: Request, code: str, session: SessionDep, _actor: Annotated[Actor, MANAGE]
) -> HTMLResponse:
    agency = service.get_agency(session, code)
    context = _context(session, agency=agency, saved=request.query_params.get("created"))
    return render(request, "admin/agency.html", context)


@router.post("/admin/agencies/{code}", response_class=HTMLResponse)
def update_agency(
    request: Request,
    code: str,
    database: DatabaseDep,
    actor: Annotated[Actor, MANAGE],
    name_th: Annotated[str, Form()],
    name_en: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    status: Annotated[str, Form()],
    website: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    fields = {"name_th": name_th, "name_en": name_en, "kind": kind, "status": status}
    with database.write_session() as session:
        agency = service.get_agency(session, code)
        try:
            service.update_agency(
                session, actor, agency, reason=reason, website=website, contact=contact, **fields
            )
        except Problem as problem:
            session.rollback()
            context = _context(session, agency=agency, problem=problem)
            return render(request, "admin/agency.html", context, status_code=problem.status)
    return RedirectResponse(f"/admin/agencies/{code}?created=1", status_code=303)
