"""The progress report on the programme office's pages: choose a period, the
report is made in the background (its progress polled), then download the PDF
and the XLSX."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.problems import ValidationProblem
from dcatalog.stats import periods, report_jobs, service
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, JobsDep, SessionDep
from dcatalog.web.downloads import streamed
from dcatalog.web.i18n import current_language
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
READ = require(Scope.AUDIT_READ)  # the programme office and auditors; no agency holds it


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
    queue: JobsDep,
    actor: Annotated[Actor, READ],
    period: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        state = report_jobs.start(database, queue, actor, period, lang=current_language())
    except ValidationProblem as problem:
        with database.session() as session:
            return _form(request, session, problem=problem, chosen=period)
    return RedirectResponse(f"/admin/reports/progress/{state.id}", status_code=303)


@router.get("/admin/reports/progress/{job_id}", response_class=HTMLResponse)
def report_job(
    request: Request, job_id: uuid.UUID, database: DatabaseDep, actor: Annotated[Actor, READ]
) -> HTMLResponse:
    state = report_jobs.view(database, actor, job_id)
    context = {"job": state, "period_label": periods.label(state.period, current_language())}
    name = (
        "admin/_progress_report_job.html"
        if "hx-request" in request.headers
        else "admin/progress_report_job.html"
    )
    return render(request, name, context)


@router.get("/admin/reports/progress/{job_id}/report.{fmt}")
def report_file(
    job_id: uuid.UUID, fmt: str, database: DatabaseDep, actor: Annotated[Actor, READ]
) -> StreamingResponse:
    return streamed(report_jobs.result(database, actor, job_id, fmt))
