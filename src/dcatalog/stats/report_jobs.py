"""Making progress reports as jobs, for the dashboard's button.

A report takes seconds (the figures are the dashboard's snapshot; typesetting
the PDF is most of it), too long to hold a request. The page creates a job
(kind ``stats.progress_report``) and polls it; a worker makes the PDF and the
XLSX and keeps them in the database with the job, for a day. Any app process
on any host shows the progress and serves the files. The reports hold
aggregate, suppressed figures only — no citizen's data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dcatalog import jobs
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.db import Database, transaction
from dcatalog.jobs import files
from dcatalog.problems import Forbidden, NotFound
from dcatalog.stats import progress_report

KIND = "stats.progress_report"
FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
STEPS = 3  # figures, pdf, xlsx
UNEXPECTED = "An unexpected error stopped the report. Please try again."


@dataclass(frozen=True)
class JobState:
    """What the page shows of a report job."""

    id: uuid.UUID
    period: str  # the dashboard's key, e.g. q:2570-1
    lang: str
    status: str  # queued | running | done | failed
    step: str  # queued | figures | pdf | xlsx | done
    done: int
    of: int
    failure: str
    file_stem: str

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.of) if self.of else 0

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @classmethod
    def of_job(cls, job: jobs.Job) -> JobState:
        step = "done" if job.status is jobs.JobStatus.DONE else (job.step or "queued")
        return cls(
            id=job.id,
            period=str(job.params["period"]),
            lang=str(job.params["lang"]),
            status=job.status.value,
            step=step,
            done=job.done,
            of=job.total or STEPS,
            failure=job.failure,
            file_stem=str(job.result.get("file_stem", "")),
        )


def _check(actor: Actor) -> None:
    if not actor.can(Scope.AUDIT_READ) or actor.agency_id is not None:
        raise Forbidden("Progress reports are made by the programme office.")


def start(
    database: Database, queue: jobs.Jobs, actor: Actor, period: str, *, lang: str = "th"
) -> JobState:
    """Check the request, create the report's job (audited) and wake a worker."""
    _check(actor)
    key = progress_report.period_key(period)
    params = {"period": key, "lang": lang if lang in ("th", "en") else "th"}
    with database.write_session() as session, transaction(session):
        job = jobs.create(session, KIND, created_by=actor.label, params=params, total=STEPS)
        audit.record(session, actor, "progress_report.start", job, reason=key)
        state = JobState.of_job(job)
    queue.wake(state.id)
    return state


def run(context: jobs.Context) -> dict[str, Any]:
    """The job: build the report, then keep its files with the job."""
    period, lang = str(context.params["period"]), str(context.params["lang"])

    def progress(step: str, done: int, of: int) -> None:
        context.progress(done, of, step)

    with context.database.session() as session:
        report, pdf, xlsx = progress_report.build(session, period, lang, progress)
    with context.database.write_session() as session, transaction(session):
        stored = {
            fmt: str(context.keep_file(session, f"{report.file_stem}.{fmt}", media, data))
            for (fmt, media), data in zip(FORMATS.items(), (pdf, xlsx), strict=True)
        }
    return {"file_stem": report.file_stem, "files": stored}


JOB_KIND = jobs.JobKind(KIND, run, keep=timedelta(days=1), unexpected=UNEXPECTED)


def _job(database: Database, actor: Actor, job_id: uuid.UUID) -> jobs.Job:
    _check(actor)
    with database.session() as session:
        job = jobs.get(session, job_id, KIND)
    if job is None:
        raise NotFound("No such progress report (reports are kept for a day).")
    return job


def view(database: Database, actor: Actor, job_id: uuid.UUID) -> JobState:
    return JobState.of_job(_job(database, actor, job_id))


def result(database: Database, actor: Actor, job_id: uuid.UUID, fmt: str) -> files.Download:
    """A finished report's file, to stream to its reader."""
    job = _job(database, actor, job_id)
    file_id = job.result.get("files", {}).get(fmt) if job.status is jobs.JobStatus.DONE else None
    if fmt not in FORMATS or file_id is None:
        raise NotFound("This report is not ready.")
    return files.download(database, uuid.UUID(file_id))
