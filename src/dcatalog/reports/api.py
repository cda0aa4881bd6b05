"""Eligibility reports over the API: send a list, poll the job, fetch the result."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from dcatalog import tabular
from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.identity.deps import KeyerDep
from dcatalog.problems import FieldError
from dcatalog.reports import jobs
from dcatalog.tabular import FileProblem
from dcatalog.web.deps import DatabaseDep, JobsDep, SettingsDep
from dcatalog.web.downloads import streamed

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
READ = require(Scope.ELIGIBILITY_READ)


class ReportOut(BaseModel):
    id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"]
    benefit: str
    academic_year: int = Field(description="Buddhist Era: the year whose deeds count")
    as_of: date = Field(description="The day the rule was evaluated on (see docs/reports.md)")
    rows_done: int
    rows_total: int | None
    met: int
    not_met: int
    refused: int = Field(description="Rows without consent (or a minor's, without a guardian's)")
    invalid: int = Field(description="Rows whose ID is not a national ID")
    failure: str
    created_at: datetime
    finished_at: datetime | None
    result_csv: str | None = Field(description="Where to fetch the result, once done")
    result_xlsx: str | None


def _out(view: jobs.JobView) -> ReportOut:
    base = f"/api/v1/reports/{view.id}/result"
    return ReportOut(
        id=view.id,
        status=view.status.value,
        benefit=view.benefit_code,
        academic_year=view.academic_year,
        as_of=view.as_of,
        rows_done=view.rows_done,
        rows_total=view.rows_total,
        met=view.met,
        not_met=view.not_met,
        refused=view.refused,
        invalid=view.invalid,
        failure=view.failure,
        created_at=view.created_at,
        finished_at=view.finished_at,
        result_csv=f"{base}?format=csv" if view.has_result else None,
        result_xlsx=f"{base}?format=xlsx" if view.has_result else None,
    )


@router.post(
    "/eligibility",
    status_code=202,
    summary="Ask for an eligibility report of a list of national IDs (a background job)",
    responses={404: {"description": "Your agency offers no such benefit."}},
    response_model=ReportOut,
)
def start(
    keyer: KeyerDep,
    database: DatabaseDep,
    queue: JobsDep,
    settings: SettingsDep,
    actor: Annotated[Actor, READ],
    file: Annotated[
        UploadFile, File(description="CSV (UTF-8) or XLSX: national_id and optional reference")
    ],
    benefit: Annotated[str, Form(description="Your agency's benefit, e.g. kys.loan_renewal")],
    academic_year: Annotated[int, Form(description="Buddhist Era, e.g. 2568")],
    purpose: Annotated[str, Form(max_length=200, description="Shown to the citizens")] = "",
    language: Annotated[Literal["th", "en"], Form(description="Of the result's words")] = "th",
) -> JSONResponse:
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
            language=language,
            today=today_in_thailand(),
            academic_start=settings.academic_year_start_month_day,
            limits=tabular.Limits.of(settings),
        )
    except FileProblem as problem:
        refused = problem.problem("The file cannot be read")
        refused.errors = [
            FieldError(str(problem), pointer="#/file", detail_th=problem.thai or None)
        ]
        raise refused from problem
    body = _out(jobs.view(database, actor, job.id))
    location = f"/api/v1/reports/{job.id}"
    return JSONResponse(
        body.model_dump(mode="json"), status_code=202, headers={"Location": location}
    )


@router.get("/{report_id}", summary="A report's progress and counts")
def status(
    report_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, READ],
) -> ReportOut:
    return _out(jobs.view(database, actor, report_id))


@router.get(
    "/{report_id}/result",
    summary="A finished report as CSV (UTF-8 with BOM) or XLSX",
    response_class=StreamingResponse,
)
def result(
    report_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, READ],
    format: Literal["csv", "xlsx"] = "csv",
) -> StreamingResponse:
    return streamed(jobs.result(database, actor, report_id, format))
