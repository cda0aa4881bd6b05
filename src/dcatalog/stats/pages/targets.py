"""The programme office's yearly targets (/admin/targets): one number per headline
figure, which the progress report measures the fiscal year against. Auditors
read them; only the programme office sets them. Thin: ``dcatalog.stats.targets``
owns the rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import fiscal_year
from dcatalog.problems import ValidationProblem
from dcatalog.stats import periods, targets
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep
from dcatalog.web.i18n import current_language
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
READ = require(Scope.AUDIT_READ)  # the programme office and auditors
SET = require(Scope.TARGETS_SET)  # the programme office only


def _page(
    request: Request,
    session: SessionDep,
    year: int,
    *,
    typed: dict[str, str] | None = None,
    problem: ValidationProblem | None = None,
    saved: bool = False,
) -> HTMLResponse:
    current = targets.targets_for(session, year)
    values = typed or {k: f"{v.normalize():f}" for k, v in current.items()}
    errors = {
        e.pointer.removeprefix("#/"): e for e in (problem.errors if problem else []) if e.pointer
    }
    this_year = fiscal_year(today_in_thailand())
    context = {
        "year": year,
        "year_label": periods.label(f"fy:{year}", current_language()),
        "years": [
            (y, periods.label(f"fy:{y}", current_language()))
            for y in range(this_year - 1, this_year + 3)
        ],
        "indicators": targets.indicators(),
        "fields": targets.FIELDS,
        "values": values,
        "errors": errors,
        "problem": problem,
        "saved": saved,
    }
    return render(
        request, "admin/targets.html", context, status_code=problem.status if problem else 200
    )


@router.get("/admin/targets", response_class=HTMLResponse)
def targets_page(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, READ],
    year: Annotated[int | None, Query(ge=2500, le=2800)] = None,
    saved: bool = False,
) -> HTMLResponse:
    return _page(request, session, year or fiscal_year(today_in_thailand()), saved=saved)


@router.post("/admin/targets", response_model=None)
def set_targets(
    request: Request,
    session: SessionDep,
    database: DatabaseDep,
    actor: Annotated[Actor, SET],
    year: Annotated[str, Form(max_length=8)] = "",
    deeds: Annotated[str, Form(max_length=24)] = "",
    hours: Annotated[str, Form(max_length=24)] = "",
    donations: Annotated[str, Form(max_length=24)] = "",
    citizens: Annotated[str, Form(max_length=24)] = "",
    credits: Annotated[str, Form(max_length=24)] = "",
    claims: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    fields = {
        "deeds": deeds,
        "hours": hours,
        "donations": donations,
        "citizens": citizens,
        "credits": credits,
        "claims": claims,
    }
    typed = {indicator: fields[name] for indicator, name in targets.FIELDS.items()}
    chosen = int(year) if year.isdigit() else 0
    try:
        values = targets.parse(typed)
        with database.write_session() as writing:
            targets.set_targets(writing, actor, chosen, values)
            writing.commit()
    except ValidationProblem as problem:
        shown = chosen if chosen in targets.YEARS else fiscal_year(today_in_thailand())
        return _page(request, session, shown, typed=typed, problem=problem)
    return RedirectResponse(f"/admin/targets?year={chosen}&saved=true", status_code=303)
