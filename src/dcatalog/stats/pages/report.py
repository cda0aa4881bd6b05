"""The progress report on the programme office's pages: choose a period, the
report is made in the background (its progress polled), then download the PDF
and the XLSX."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.problems import ValidationProblem
from dcatalog.stats import periods, report_jobs, service
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep, SettingsDep
from dcatalog.web.i18n import current_language
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
READ = require(Scope.AUDIT_READ)  # the programme office and auditors; no agency holds it
MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _choices(session: Any, lang: str) -> list[tuple[str, str]]:
    """Every fiscal year with figures, its quarters and months, as the CLI names them."""
    found = []
    for year in service.fiscal_years(session) or [int(service.default_period(session)[3:])]:
        found.append((f"{year}", periods.label(f"fy:{year}", lang)))
        found += [(f"{year}-Q{q}", periods.label(f"q:{year}-{q}", lang)) for q in range(1, 5)]
        for key in periods.inside(periods.fiscal_year_period(year)):
            month = periods.parse(key)
            assert month is not None
            found.append(
                (f"{month.start.year + 543}-{month.start.month:02d}", periods.label(key, lang))
            )
    return found


def _form(
    request: Request, session: Any, *, problem: ValidationProblem | None = None, chosen: str = ""
) -> HTMLResponse:
    context = {
        "choices": _choices(session, current_language()),
        "problem": problem,
        "chosen": chosen,
    }
    return render(
        request,
        "admin/progress_report.html",
        context,
        status_code=problem.status if problem else 200,
    )


@router.get("/admin/reports/progress", response_class=HTMLResponse)
def report_form(
    request: Request, session: SessionDep, actor: Annotated[Actor, READ]
) -> HTMLResponse:
    return _form(request, session)


@router.post("/admin/reports/progress")
def start_report(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, READ],
    period: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        state = report_jobs.start(
            database,
            settings,
            actor,
            period,
            lang=current_language(),
            background=request.app.state.background,
        )
    except ValidationProblem as problem:
        with database.session() as session:
            return _form(request, session, problem=problem, chosen=period)
    return RedirectResponse(f"/admin/reports/progress/{state.id}", status_code=303)


@router.get("/admin/reports/progress/{job_id}", response_class=HTMLResponse)
def report_job(
    request: Request, job_id: uuid.UUID, settings: SettingsDep, actor: Annotated[Actor, READ]
) -> HTMLResponse:
    state = report_jobs.view(settings, actor, job_id)
    context = {"job": state, "period_label": periods.label(state.period, current_language())}
    name = (
        "admin/_progress_report_job.html"
        if "hx-request" in request.headers
        else "admin/progress_report_job.html"
    )
    return render(request, name, context)


@router.get("/admin/reports/progress/{job_id}/report.{fmt}")
def report_file(
    job_id: uuid.UUID, fmt: str, settings: SettingsDep, actor: Annotated[Actor, READ]
) -> FileResponse:
    path, name = report_jobs.result(settings, actor, job_id, fmt)
    return FileResponse(path, media_type=MEDIA[fmt], filename=name)
