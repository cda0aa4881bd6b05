"""Eligibility reports as jobs (kind ``reports.eligibility``), for the staff
pages and the API.

The request is checked and the file's quick checks (``tabular.inspect``) run
while the request waits: a refused file makes no job. Then one transaction
creates the job (audited) and stores the upload with it in the database, and a
worker is woken; the answer comes at once. The worker builds the CSV and the
XLSX, writes the progress as it goes, and keeps both files with the job. Any
app process on any host shows the job and serves its files. A job belongs to
its agency: others never see it (404).

Privacy: the upload holds national IDs in clear, so it is stored sealed (a key
derived from the pepper, bound to the file) and as the job's *input*: it is
deleted when the job ends, whatever the end. The results hold masked IDs only
and are deleted with the job, ``DCATALOG_JOB_RESULTS_KEEP_DAYS`` (30) after it
ended.

A worker that dies leaves its job running; the queue's recovery runs it again
from the start (its results are written whole at the end; the access log may
then show a look-up twice, as it was made twice).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from dcatalog import jobs, tabular
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.calendars.periods import MonthDay
from dcatalog.db import Database, transaction
from dcatalog.deeds.jobs import display_name
from dcatalog.identity.citizen_key import CitizenKeyer, load_pepper
from dcatalog.jobs import JobStatus, files
from dcatalog.problems import Forbidden, NotFound, Problem
from dcatalog.reports import service
from dcatalog.tabular import FileProblem

KIND = "reports.eligibility"
RECENT = 10  # reports listed on the page
SUFFIXES = tabular.SUFFIXES
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
UPLOAD_SEAL = b"eligibility report upload v1"  # the key that seals uploads

# Failure messages of our own (the pages translate them); a file's problem is
# stored as the report states it.
INTERRUPTED = "The report was interrupted: the server stopped while it ran. Ask for it again."
UNEXPECTED = "An unexpected error stopped the report. Ask for it again."


# --- starting ----------------------------------------------------------------------------


def start(
    database: Database,
    queue: jobs.Jobs,
    keyer: CitizenKeyer,
    actor: Actor,
    upload: IO[bytes],
    file_name: str,
    *,
    benefit_code: str,
    academic_year: int,
    purpose: str = "",
    language: str = "th",
    today: date,
    academic_start: MonthDay,
    limits: tabular.Limits | None = None,
) -> JobView:
    """Check the request and the file, create the report's job with its upload
    (audited) and wake a worker."""
    with database.session() as session:
        spec = service.prepare(
            session,
            actor,
            benefit_code=benefit_code,
            academic_year_be=academic_year,
            purpose=purpose,
            language=language,
            today=today,
            academic_start=academic_start,
        )
    name = display_name(file_name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise tabular.WRONG_KIND
    with tempfile.NamedTemporaryFile(suffix=suffix) as spool:
        shutil.copyfileobj(upload, spool)
        spool.flush()
        total = tabular.inspect(Path(spool.name), limits or tabular.Limits())
        spool.seek(0)
        params = {
            "actor": actor.as_params(),
            "benefit_code": spec.benefit_code,
            "academic_year": spec.academic_year,
            "as_of": spec.as_of.isoformat(),
            "purpose": spec.purpose,
            "language": spec.language,
            "file_name": name,
            "today": today.isoformat(),
            "academic_start": list(academic_start),
        }
        with database.write_session() as session, transaction(session):
            job = jobs.create(
                session,
                KIND,
                created_by=actor.label,
                agency_id=spec.agency_id,
                params=params,
                total=total,
            )
            files.store(
                session,
                name,
                "application/octet-stream",
                spool,
                job_id=job.id,
                secret=keyer.derived_key(UPLOAD_SEAL),
                is_input=True,
            )
            audit.record(session, actor, "report_job.start", job, agency_id=spec.agency_id)
            view = JobView.of(job)
    queue.wake(view.id)
    return view


# --- running -----------------------------------------------------------------------------


def run(context: jobs.Context) -> dict[str, Any]:
    """The job: build the report from the stored upload, keep both files with the job."""
    params = context.params
    actor = Actor.from_params(params["actor"])
    keyer = CitizenKeyer(load_pepper(context.settings))
    today = date.fromisoformat(params["today"])
    month, day = params["academic_start"]
    academic_start: MonthDay = (int(month), int(day))
    try:
        with context.database.session() as session:
            spec = service.prepare(
                session,
                actor,
                benefit_code=params["benefit_code"],
                academic_year_be=int(params["academic_year"]),
                purpose=params["purpose"],
                language=params["language"],
                today=today,
                academic_start=academic_start,
            )
            upload = session.scalar(
                select(jobs.StoredFile.id).where(
                    jobs.StoredFile.job_id == context.job_id, jobs.StoredFile.is_input
                )
            )
        if upload is None:
            raise jobs.JobFailed(UNEXPECTED)
        suffix = Path(params["file_name"]).suffix
        secret = keyer.derived_key(UPLOAD_SEAL)
        with (
            files.to_temporary(context.database, upload, suffix, secret) as source,
            tempfile.TemporaryDirectory() as folder,
        ):
            paths = {fmt: Path(folder) / f"report.{fmt}" for fmt in FORMATS}
            sinks: list[service.Sink] = [
                service.CsvSink.to_path(paths["csv"]),
                service.XlsxSink(paths["xlsx"]),
            ]
            try:
                with context.database.write_session() as session:
                    summary = service.build(
                        session,
                        actor,
                        keyer,
                        spec,
                        Path(source.name),
                        sinks,
                        today=today,
                        academic_start=academic_start,
                        progress=context.progress,
                        limits=tabular.Limits.of(context.settings),
                    )
            finally:
                for sink in sinks:
                    sink.close()
            stem = f"eligibility-{spec.benefit_code}-{spec.academic_year}"
            with context.database.write_session() as session, transaction(session):
                kept = {}
                for fmt, media in FORMATS.items():
                    with paths[fmt].open("rb") as handle:
                        kept[fmt] = str(context.keep_file(session, f"{stem}.{fmt}", media, handle))
                counts = {
                    "met": summary.met,
                    "not_met": summary.not_met,
                    "refused": summary.refused,
                    "invalid": summary.invalid,
                }
                context.save(session, counts=counts, done=summary.rows, total=summary.rows)
    except FileProblem as problem:
        raise jobs.JobFailed(str(problem)) from problem
    except Problem as problem:  # e.g. the benefit was retired since the job started
        raise jobs.JobFailed(problem.detail) from problem
    return {"files": kept}


JOB_KIND = jobs.JobKind(
    KIND,
    run,
    keep=jobs.agency_results,
    interrupted=INTERRUPTED,
    unexpected=UNEXPECTED,
)


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobView(jobs.ShownProgress):
    """What the pages and the API show of a report job."""

    id: uuid.UUID
    benefit_code: str
    academic_year: int
    as_of: date
    file_name: str
    created_by: str
    status: JobStatus
    rows_done: int
    rows_total: int | None
    created_at: datetime
    finished_at: datetime | None
    met: int
    not_met: int
    refused: int
    invalid: int
    failure: str
    has_result: bool
    kept_days: int  # how long it is kept after it ended

    @classmethod
    def of(cls, job: jobs.Job) -> JobView:
        params, counts = job.params, job.counts
        return cls(
            id=job.id,
            benefit_code=params["benefit_code"],
            academic_year=int(params["academic_year"]),
            as_of=date.fromisoformat(params["as_of"]),
            file_name=params["file_name"],
            created_by=job.created_by.split(":", 1)[-1],
            status=job.status,
            rows_done=job.done,
            rows_total=max(job.total, job.done) if job.total is not None else None,
            created_at=job.created_at,
            finished_at=job.finished_at,
            met=int(counts.get("met", 0)),
            not_met=int(counts.get("not_met", 0)),
            refused=int(counts.get("refused", 0)),
            invalid=int(counts.get("invalid", 0)),
            failure=job.failure,
            has_result=job.status is JobStatus.DONE and bool(job.result.get("files")),
            kept_days=(job.expires_at - job.finished_at).days
            if job.expires_at and job.finished_at
            else 0,
        )


def _check(actor: Actor) -> None:
    if not actor.can(Scope.ELIGIBILITY_READ) or actor.agency_id is None:
        raise Forbidden("Eligibility reports need the permission eligibility:read of an agency.")


def _own(database: Database, actor: Actor, job_id: uuid.UUID) -> jobs.Job:
    _check(actor)
    job = jobs.views.find(database, job_id, KIND, actor.acts_for)
    if job is None:
        raise NotFound("Your agency has no such report.")
    return job


def view(database: Database, actor: Actor, job_id: uuid.UUID) -> JobView:
    """One of the agency's reports, with its progress or result (404 for others)."""
    return JobView.of(_own(database, actor, job_id))


def recent(database: Database, actor: Actor, limit: int = RECENT) -> list[JobView]:
    """The agency's latest reports, newest first."""
    _check(actor)
    return [JobView.of(job) for job in jobs.views.latest(database, KIND, actor.agency_id, limit)]


def result(database: Database, actor: Actor, job_id: uuid.UUID, fmt: str) -> files.Download:
    """A file of one of the agency's finished reports, to stream to its reader."""
    if fmt not in FORMATS:
        raise NotFound(f"Reports come as {' or '.join(FORMATS)}.")
    job = _own(database, actor, job_id)
    file_id = job.result.get("files", {}).get(fmt) if job.status is JobStatus.DONE else None
    if file_id is None:
        raise NotFound("This report has no result (not finished, failed, or deleted since).")
    return files.download(database, uuid.UUID(file_id))
