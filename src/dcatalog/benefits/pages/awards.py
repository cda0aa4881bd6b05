"""Milestones on the citizen's side (/me/awards: the thanks, being listed at the
ceremony, the signed certificate) and the partner's ceremony lists."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog import tabular
from dcatalog.access import CurrentCitizen, require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.benefits import award_credentials, awards
from dcatalog.calendars.buddhist_era import InvalidDate, parse_be_date
from dcatalog.credentials import service as credentials
from dcatalog.credentials.issuer import issuer_for
from dcatalog.geo.provinces import province_name, province_options
from dcatalog.problems import Conflict, FieldError, NotFound, Problem, ValidationProblem
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep
from dcatalog.web.i18n import N_, current_language, in_thai
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
CEREMONY = require(Scope.BENEFITS_REDEEM)


# --- the citizen -------------------------------------------------------------------


def _my_awards(
    request: Request,
    citizen: Any,
    database: Any,
    *,
    problem: Problem | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with database.session() as session:
        mine = awards.awards_of(session, citizen)
        issuer = issuer_for(request)
        # Each award's certificate with its public address: the PDF's QR code points
        # there, so the page offers sharing right beside the download.
        certificates = {}
        for award in mine:
            credential = (
                credentials.get_credential(session, award.credential_id)
                if award.credential_id
                else None
            )
            if credential is not None:
                url = credentials.short_url(issuer, credential)
                certificates[award.id] = {"credential": credential, "url": url}
        context = {
            "awards": mine,
            "certificates": certificates,
            "problem": problem,
            "done": request.query_params.get("done"),
        }
        return render(request, "benefits/my_awards.html", context, status_code=status_code)


@router.get("/me/awards", response_class=HTMLResponse)
def my_awards(request: Request, citizen: CurrentCitizen, database: DatabaseDep) -> HTMLResponse:
    return _my_awards(request, citizen, database)


@router.post("/me/awards/{award_id}/ceremony")
def ceremony_choice(
    request: Request,
    award_id: uuid.UUID,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    listed: Annotated[bool, Form()] = False,
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        with database.write_session() as session:
            awards.set_ceremony_name(session, citizen, award_id, name if listed else None)
    except ValidationProblem as problem:
        return _my_awards(request, citizen, database, problem=problem, status_code=problem.status)
    done = "listed" if listed else "unlisted"
    return RedirectResponse(f"/me/awards?done={done}#a-{award_id}", status_code=303)


@router.post("/me/awards/{award_id}/public")
def public_choice(
    request: Request,
    award_id: uuid.UUID,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    shown: Annotated[bool, Form()] = False,
    public_name: Annotated[str, Form()] = "",
) -> Response:
    """Show the award on the public thank-you page under a chosen name, or not
    (shown by dcatalog.campaigns.thank_you)."""
    try:
        with database.write_session() as session:
            awards.set_public_name(session, citizen, award_id, public_name if shown else None)
    except (ValidationProblem, Conflict) as problem:
        return _my_awards(request, citizen, database, problem=problem, status_code=problem.status)
    done = "shown" if shown else "hidden"
    return RedirectResponse(f"/me/awards?done={done}#a-{award_id}", status_code=303)


@router.post("/me/awards/{award_id}/credential")
def award_credential(
    request: Request,
    award_id: uuid.UUID,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    share: Annotated[bool, Form()] = False,
) -> Response:
    """Sign the award's certificate; ``share`` opens its public address at once, so
    the QR code on the PDF leads to the check page (never shared unasked)."""
    try:
        with database.write_session() as session:
            award = awards.own_award(session, citizen, award_id)
            issued = award_credentials.issue_award(session, citizen, issuer_for(request), award)
            if share:
                credentials.set_shared(session, citizen, issued.id, True)
            target = f"/me/credentials?done=issued#c-{issued.id}"
    except ValidationProblem as problem:
        return _my_awards(request, citizen, database, problem=problem, status_code=problem.status)
    return RedirectResponse(target, status_code=303)


@router.post("/me/awards/{award_id}/share")
def award_share(
    award_id: uuid.UUID,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    shared: Annotated[bool, Form()] = False,
) -> Response:
    """Open or close the public address of the award's certificate (its QR code)."""
    with database.write_session() as session:
        award = awards.own_award(session, citizen, award_id)
        if award.credential_id is None:
            raise NotFound("You have no such credential.")
        credentials.set_shared(session, citizen, award.credential_id, shared)
    done = "shared" if shared else "withdrawn"
    return RedirectResponse(f"/me/awards?done={done}#a-{award_id}", status_code=303)


# --- the partner's ceremony -------------------------------------------------------


def _day(text: str | None, field_name: str) -> date | None:
    if not text:
        return None
    try:
        return parse_be_date(text)  # day/month/year BE as typed; ISO from links and scripts
    except InvalidDate:
        message = N_("Type dates as day/month/year in the Buddhist Era, e.g. 01/06/2569.")
        raise ValidationProblem(
            message,
            errors=[FieldError(message, pointer=f"#/{field_name}", detail_th=in_thai(message))],
        ) from None


def _listing(
    session: Any, actor: Actor, benefit: str, reached_from: str, reached_until: str, province: str
) -> awards.CeremonyList:
    return awards.ceremony_list(
        session,
        actor,
        benefit_code=benefit,
        reached_from=_day(reached_from, "from"),
        reached_until=_day(reached_until, "until"),
        province=province or None,
    )


@router.get("/staff/ceremonies", response_class=HTMLResponse)
def ceremonies(
    request: Request,
    database: DatabaseDep,
    actor: Annotated[Actor, CEREMONY],
    benefit: Annotated[str, Query()] = "",
    reached_from: Annotated[str, Query(alias="from")] = "",
    reached_until: Annotated[str, Query(alias="until")] = "",
    province: Annotated[str, Query()] = "",
) -> HTMLResponse:
    lang = current_language()
    with database.write_session() as session:  # a listing writes the access log
        milestones = awards.own_milestones(session, actor)
        context: dict[str, Any] = {
            "milestones": [(m.code, m.name(lang)) for m in milestones],
            "provinces": [("", _("All provinces")), *province_options(lang)],
            "query": {
                "benefit": benefit,
                "from": reached_from,
                "until": reached_until,
                "province": province,
            },
            "listing": None,
            "problem": None,
            "query_string": request.url.query,
        }
        status = 200
        if benefit:
            try:
                context["listing"] = _listing(
                    session, actor, benefit, reached_from, reached_until, province
                )
            except ValidationProblem as problem:
                session.rollback()
                context["problem"], status = problem, problem.status
        return render(request, "benefits/ceremonies.html", context, status_code=status)


@router.get("/staff/ceremonies.csv")
def ceremonies_csv(
    database: DatabaseDep,
    actor: Annotated[Actor, CEREMONY],
    benefit: Annotated[str, Query()],
    reached_from: Annotated[str, Query(alias="from")] = "",
    reached_until: Annotated[str, Query(alias="until")] = "",
    province: Annotated[str, Query()] = "",
) -> Response:
    with database.write_session() as session:
        listing = _listing(session, actor, benefit, reached_from, reached_until, province)
        out = io.StringIO()
        writer = tabular.CsvWriter(out)  # a citizen's ceremony name is their own text
        writer.writerow(["award", "name", "province", "province_name", "reached_on", "handed_over"])
        for award in listing.awards:
            writer.writerow(
                [
                    str(award.id),
                    award.ceremony_name,
                    award.province,
                    province_name(award.province, "th"),
                    award.reached_on.isoformat(),
                    award.handed_over_at.date().isoformat() if award.handed_over_at else "",
                ]
            )
    filename = f"ceremony-{listing.benefit.code}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/staff/ceremonies/{award_id}/handed-over")
def handed_over(
    award_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, CEREMONY],
    back: Annotated[str, Form()] = "",
) -> Response:
    with database.write_session() as session:
        awards.mark_handed_over(session, actor, award_id)
    # Back to the same listing; only our own query strings are followed.
    query = back if back and "://" not in back and not back.startswith("/") else ""
    return RedirectResponse(f"/staff/ceremonies?{query}#a-{award_id}", status_code=303)
