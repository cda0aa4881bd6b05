"""Staff pages around citizens: an agency checks a citizen's record (with their
consent) and answers disputes; the programme office records guardians' consent
and carries out erasure requests."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import list_agencies
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.catalog.labels import subject_labels
from dcatalog.catalog.service import deed_type_names
from dcatalog.citizens import consent as consents
from dcatalog.citizens import rights
from dcatalog.citizens.disclosure import read_record
from dcatalog.citizens.service import held_pairs_for_review
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import Deed
from dcatalog.deeds.service import Rules
from dcatalog.identity.deps import KeyerDep
from dcatalog.problems import Problem
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep, SettingsDep
from dcatalog.web.i18n import current_language
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
READ = require(Scope.CITIZENS_READ)
VERIFY = require(Scope.DEEDS_VERIFY)
MANAGE = require(Scope.CITIZENS_MANAGE)


@router.get("/staff/citizens/check", response_class=HTMLResponse)
def check_form(request: Request, actor: Annotated[Actor, READ]) -> HTMLResponse:
    return render(request, "staff/citizen_check.html", {"form": {}})


@router.post("/staff/citizens/check", response_class=HTMLResponse)
def check(
    request: Request,
    keyer: KeyerDep,
    database: DatabaseDep,
    actor: Annotated[Actor, READ],
    national_id: Annotated[str, Form()],
    purpose: Annotated[str, Form()],
) -> HTMLResponse:
    context: dict[str, Any] = {"form": {"purpose": purpose}}  # the ID is never echoed back
    with database.write_session() as session:
        try:
            context["result"] = read_record(
                session,
                actor,
                keyer,
                national_id=national_id,
                purpose=purpose,
                today=today_in_thailand(),
            )
        except Problem as problem:
            context["problem"] = problem
            return render(request, "staff/citizen_check.html", context, problem.status)
        context["labels"] = subject_labels(session, current_language())
        return render(request, "staff/citizen_check.html", context)


@router.get("/staff/disputes", response_class=HTMLResponse)
def disputes(
    request: Request, session: SessionDep, actor: Annotated[Actor, VERIFY]
) -> HTMLResponse:
    context = {
        "items": rights.open_disputes(session, actor),
        "answered": request.query_params.get("answered"),
    }
    return render(request, "staff/disputes.html", context)


@router.post("/staff/disputes/{dispute_id}/answer")
def answer_dispute(
    dispute_id: uuid.UUID,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, VERIFY],
    outcome: Annotated[str, Form()],
    reason: Annotated[str, Form()],
) -> Response:
    with database.write_session() as session:
        rights.answer(
            session,
            actor,
            Rules.from_settings(settings),
            dispute_id,
            upheld=outcome == "upheld",
            reason=reason,
        )
    return RedirectResponse("/staff/disputes?answered=1", status_code=303)


@router.get("/admin/guardians", response_class=HTMLResponse)
def guardians_form(request: Request, actor: Annotated[Actor, MANAGE]) -> HTMLResponse:
    return render(request, "admin/guardians.html", {"done": request.query_params.get("done")})


@router.post("/admin/guardians", response_class=HTMLResponse)
def record_guardian(
    request: Request,
    keyer: KeyerDep,
    database: DatabaseDep,
    actor: Annotated[Actor, MANAGE],
    minor_national_id: Annotated[str, Form()],
    guardian_national_id: Annotated[str, Form()],
    relation: Annotated[str, Form()] = "",
) -> Response:
    with database.write_session() as session:
        try:
            consents.record_guardian_consent(
                session,
                actor,
                keyer,
                minor_national_id=minor_national_id,
                guardian_national_id=guardian_national_id,
                relation=relation,
                today=today_in_thailand(),
            )
        except Problem as problem:
            context = {"problem": problem, "relation": relation}
            return render(request, "admin/guardians.html", context, problem.status)
    return RedirectResponse("/admin/guardians?done=1", status_code=303)


@router.get("/admin/erasures", response_class=HTMLResponse)
def erasures(
    request: Request, session: SessionDep, actor: Annotated[Actor, MANAGE]
) -> HTMLResponse:
    return render(
        request, "admin/erasures.html", {"items": rights.erasure_requests(session, actor)}
    )


@router.post("/admin/erasures/{request_id}/erase")
def erase(
    request_id: uuid.UUID, database: DatabaseDep, actor: Annotated[Actor, MANAGE]
) -> Response:
    with database.write_session() as session:
        rights.erase(session, actor, request_id)
    return RedirectResponse("/admin/erasures", status_code=303)


@router.get("/admin/duplicates", response_class=HTMLResponse)
def duplicates(
    request: Request, database: DatabaseDep, actor: Annotated[Actor, MANAGE]
) -> HTMLResponse:
    with database.write_session() as session:  # the look is logged for each person
        pairs = held_pairs_for_review(session, actor)
        lang = current_language()
        names = {agency.id: agency.name(lang) for agency in list_agencies(session)}
        deed_types = deed_type_names(session, lang)
        decided = request.query_params.get("decided", "")
        context = {
            "pairs": pairs,
            "agencies": names,
            "deed_types": deed_types,
            "decided": decided,
            "decided_name": deed_types.get(decided, ""),
            "decision": request.query_params.get("decision", ""),
        }
        return render(request, "admin/duplicates.html", context)


def _code_of(database: Any, deed_id: uuid.UUID) -> str:
    """The deed type of a held deed, to name it in the confirmation."""
    with database.session() as session:
        found = session.get(Deed, deed_id)
        return found.deed_type_code if found is not None else ""


@router.post("/admin/duplicates/{deed_id}/count")
def count_held(
    deed_id: uuid.UUID,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, MANAGE],
) -> Response:
    code = _code_of(database, deed_id)
    with database.write_session() as session:
        deeds.verify(session, actor, Rules.from_settings(settings), [deed_id])
    return RedirectResponse(f"/admin/duplicates?decided={code}&decision=count", status_code=303)


@router.post("/admin/duplicates/{deed_id}/reject")
def reject_held(
    deed_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, MANAGE],
    reason: Annotated[str, Form()],
) -> Response:
    code = _code_of(database, deed_id)
    with database.write_session() as session:
        deeds.reject(session, actor, deed_id, reason)
    return RedirectResponse(f"/admin/duplicates?decided={code}&decision=reject", status_code=303)
