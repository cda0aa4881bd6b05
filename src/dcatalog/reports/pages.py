"""Staff pages for eligibility reports: upload a list, pick a benefit and an
academic year, watch the job, download the result as CSV or XLSX."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog import tabular
from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import academic_year
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.identity.deps import KeyerDep
from dcatalog.problems import ValidationProblem
from dcatalog.reports import jobs, service
from dcatalog.tabular import FileProblem
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, JobsDep, SettingsDep
from dcatalog.web.downloads import streamed
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
READ = require(Scope.ELIGIBILITY_READ)

# An htmx event: the page then reloads its list of recent reports.
REPORTS_CHANGED = "reports-changed"


def report_status_labels() -> dict[str, str]:
    return {
        "queued": _("waiting to start"),
        "running": _("in progress"),
        "done": _("done"),
        "failed": _("failed"),
    }


def report_failure(message: str) -> str:
    """A failed report's message in the page's language."""
    known = {
        jobs.INTERRUPTED: _(
            "The report was interrupted: the server stopped while it ran. Ask for it again."
        ),
        jobs.UNEXPECTED: _("An unexpected error stopped the report. Ask for it again."),
    }
    return known.get(message) or _("The report could not be made: %(reason)s") % {"reason": message}


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "report_status_labels": report_status_labels(),
        "report_failure": report_failure,
        **extra,
    }


def _form_context(
    database: Database, settings: Settings, actor: Actor, **extra: Any
) -> dict[str, Any]:
    lang = current_language()
    with database.session() as session:
        benefits = [
            (b.code, f"{b.name(lang)} ({b.code})") for b in service.reportable(session, actor)
        ]
    current = academic_year(today_in_thailand(), settings.academic_year_start_month_day)
    return _context(
        benefit_options=benefits,
        year_options=list(range(current, current - 6, -1)),
        # The Fund's renewal asks about the year that ended: the default.
        form={"academic_year": current - 1},
        reports=jobs.recent(database, actor),
        **extra,
    )


@router.get("/staff/reports", response_class=HTMLResponse)
def reports_page(
    request: Request, database: DatabaseDep, settings: SettingsDep, actor: Annotated[Actor, READ]
) -> HTMLResponse:
    return render(request, "staff/reports.html", _form_context(database, settings, actor))


@router.post("/staff/reports", response_class=HTMLResponse)
def start_report(
    request: Request,
    keyer: KeyerDep,
    database: DatabaseDep,
    queue: JobsDep,
    settings: SettingsDep,
    actor: Annotated[Actor, READ],
    file: Annotated[UploadFile, File()],
    benefit: Annotated[str, Form()],
    academic_year: Annotated[int, Form()],
    purpose: Annotated[str, Form()] = "",
) -> Response:
    try:
        job = jobs.start(
            database,
            queue,
            keyer,
            actor,
            file.file,
            file.filename or "",
            benefit_code=benefit,
            academic_year=academic_year,
            purpose=purpose,
            language=current_language(),
            today=today_in_thailand(),
            academic_start=settings.academic_year_start_month_day,
            limits=tabular.Limits.of(settings),
        )
    except FileProblem as problem:
        if problem.thai and current_language() == "th":
            reason = _("The report could not be made: %(reason)s") % {"reason": problem.thai}
        else:
            reason = report_failure(str(problem))
        failed = _context(problem=ValidationProblem(reason, status=problem.status))
        return render(request, "staff/_report_result.html", failed, status_code=problem.status)
    except ValidationProblem as problem:
        refused = ValidationProblem(_("The report cannot be made."), errors=problem.errors)
        failed = _context(problem=refused)
        return render(request, "staff/_report_result.html", failed, status_code=422)
    if "hx-request" not in request.headers:  # a browser without scripts: the job's page
        return RedirectResponse(f"/staff/reports/{job.id}", status_code=303)
    view = jobs.view(database, actor, job.id)
    context = _context(job=view)
    response = render(request, "staff/_report_result.html", context, status_code=202)
    response.headers["HX-Trigger"] = REPORTS_CHANGED
    return response


@router.get("/staff/reports/{report_id}", response_class=HTMLResponse)
def report_job(
    request: Request,
    report_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, READ],
) -> HTMLResponse:
    view = jobs.view(database, actor, report_id)
    context = _context(job=view)
    if "hx-request" not in request.headers:
        return render(request, "staff/report_job.html", context)
    response = render(request, "staff/_report_result.html", context)  # the page polling
    if not view.active:
        response.headers["HX-Trigger"] = REPORTS_CHANGED
    return response


@router.get("/staff/reports/{report_id}/download")
def download(
    report_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, READ],
    format: str = "xlsx",
) -> Response:
    return streamed(jobs.result(database, actor, report_id, format))
