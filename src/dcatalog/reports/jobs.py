"""Eligibility reports made in the background, for the staff pages and the API.

The same approach as import jobs (``dcatalog.deeds.jobs``, whose upload helpers
this reuses; both keep their progress, signs of life and dead processes' jobs
with ``dcatalog.jobs``): the upload is saved in a private file, a ``ReportJob``
is created and the answer comes at once; a thread of the same process builds
the report and writes the job's progress in short transactions of its own (at
most about once a second). A job belongs to its agency: others never see it
(404).

Privacy: the upload holds national IDs in clear, so it lives only as long as the
job: it is deleted when the job ends, whatever the end (and at start-up, when a
process died with it). The results hold masked IDs only and are deleted
``RETENTION`` after they were made.

A process that dies leaves its jobs queued or running; they are marked failed
(ask for the report again) when a process of the same machine starts, or when
anyone reads them after ``STALE_AFTER`` without a sign of life.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.calendars.periods import MonthDay
from dcatalog.config import Settings
from dcatalog.db import Database, new_id, transaction, transactional, utcnow
from dcatalog.deeds.jobs import display_name, save_upload
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.jobs.legacy import PROGRESS_EVERY as PROGRESS_EVERY
from dcatalog.jobs.legacy import STALE_AFTER as STALE_AFTER
from dcatalog.jobs.legacy import Background, JobTable, in_thread, this_runner
from dcatalog.jobs.legacy import ProgressWriter as _ProgressWriter
from dcatalog.logs import get_logger
from dcatalog.problems import Forbidden, NotFound, Problem
from dcatalog.reports import service
from dcatalog.reports.models import ReportJob, ReportStatus
from dcatalog.tabular import FileProblem

log = get_logger(__name__)

RETENTION = timedelta(days=30)  # results are deleted this long after they were made
RECENT = 10  # reports listed on the page
SUFFIXES = tabular.SUFFIXES
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ACTIVE = (ReportStatus.QUEUED, ReportStatus.RUNNING)

# Failure messages of our own (the pages translate them); a file's problem is
# stored as the report states it.
INTERRUPTED = "The report was interrupted: the server stopped while it ran. Ask for it again."
UNEXPECTED = "An unexpected error stopped the report. Ask for it again."

REPORTS = JobTable(
    model=ReportJob,
    active=_ACTIVE,
    failed=ReportStatus.FAILED,
    interrupted=INTERRUPTED,
    kind="reports",
)
# Jobs running in this process and the rows they reported last.
_LIVE = REPORTS.live
_LIVE_LOCK = REPORTS.lock


def folder(settings: Settings) -> Path:
    """Where uploads wait (``incoming``) and results are kept (``results``): private
    to the service's user."""
    return settings.instance_dir / "reports"


def _incoming(base: Path) -> Path:
    return base / "incoming"


def _results(base: Path) -> Path:
    return base / "results"


def result_path(base: Path, job_id: uuid.UUID, fmt: str) -> Path:
    return _results(base) / f"{job_id}.{fmt}"


# --- starting ----------------------------------------------------------------------------


def start(
    database: Database,
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
    base: Path,
    background: Background = in_thread,
    limits: tabular.Limits | None = None,
) -> ReportJob:
    """Check the request, save the upload, create its job (audited) and start the
    report in the background. The quick checks of ``tabular.inspect`` come first: a
    file they refuse makes no job."""
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
    limits = limits or tabular.Limits()
    job_id = new_id()
    path = save_upload(upload, _incoming(base), job_id, suffix)
    try:
        total = tabular.inspect(path, limits)
        with database.write_session() as session:
            job = _create(session, actor, spec, job_id=job_id, file_name=name, total=total)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    REPORTS.started(job_id)
    try:
        background(
            lambda: run(
                database, keyer, actor, job_id, path, base, today, academic_start, limits=limits
            )
        )
    except BaseException:
        REPORTS.finish_failed(database, job_id, UNEXPECTED)
        _forget(job_id, path)
        raise
    return job


@transactional
def _create(
    session: Session,
    actor: Actor,
    spec: service.ReportSpec,
    *,
    job_id: uuid.UUID,
    file_name: str,
    total: int | None,
) -> ReportJob:
    now = utcnow()
    job = ReportJob(
        id=job_id,
        agency_id=spec.agency_id,
        benefit_code=spec.benefit_code,
        academic_year=spec.academic_year,
        as_of=spec.as_of,
        purpose=spec.purpose,
        language=spec.language,
        file_name=file_name,
        status=ReportStatus.QUEUED,
        rows_done=0,
        rows_total=total,
        created_by=actor.label,
        created_at=now,
        heartbeat_at=now,
        runner=this_runner(),
    )
    session.add(job)
    audit.record(session, actor, "report_job.start", job, agency_id=spec.agency_id)
    return job


# --- running -----------------------------------------------------------------------------


class ProgressWriter(_ProgressWriter):
    """The report's ``progress`` callback: remembers the rows done in this process and
    writes them (with a sign of life) in a short transaction of its own, at most once
    every ``every`` seconds. The report calls it between its chunks' transactions, so
    on SQLite it never waits for the report's own write lock."""

    table = REPORTS


def run(
    database: Database,
    keyer: CitizenKeyer,
    actor: Actor,
    job_id: uuid.UUID,
    upload: Path,
    base: Path,
    today: date,
    academic_start: MonthDay,
    *,
    clock: Callable[[], float] = time.monotonic,
    limits: tabular.Limits | None = None,
) -> None:
    """Build the job's report (in the background): whatever happens ends in the job,
    and the upload is removed."""
    file_name = upload.name
    partials = [result_path(base, job_id, fmt).with_suffix(f".{fmt}.part") for fmt in FORMATS]
    try:
        with database.write_session() as session, transaction(session):
            job = session.get_one(ReportJob, job_id)
            job.status, job.heartbeat_at = ReportStatus.RUNNING, utcnow()
            file_name = job.file_name
            request = (job.benefit_code, job.academic_year, job.purpose, job.language)
        with database.session() as session:
            code, year, purpose, language = request
            spec = service.prepare(
                session,
                actor,
                benefit_code=code,
                academic_year_be=year,
                purpose=purpose,
                language=language,
                today=today,
                academic_start=academic_start,
            )
        _results(base).mkdir(mode=0o700, parents=True, exist_ok=True)
        for part in partials:
            _private_file(part)
        csv_part, xlsx_part = partials
        sinks: list[service.Sink] = [service.CsvSink.to_path(csv_part), service.XlsxSink(xlsx_part)]
        try:
            with database.write_session() as session:
                summary = service.build(
                    session,
                    actor,
                    keyer,
                    spec,
                    upload,
                    sinks,
                    today=today,
                    academic_start=academic_start,
                    progress=ProgressWriter(database, job_id, clock=clock),
                    limits=limits,
                )
        finally:
            for sink in sinks:
                sink.close()
        for part in partials:
            part.rename(part.with_suffix(""))  # whole files only, never a half-written one
        _finish_done(database, job_id, summary, _download_name(spec))
    except FileProblem as problem:
        REPORTS.finish_failed(database, job_id, str(problem).replace(upload.name, file_name))
    except Problem as problem:  # e.g. the benefit was retired since the job started
        REPORTS.finish_failed(database, job_id, problem.detail)
    except Exception:
        log.exception("report failed", job_id=str(job_id))
        REPORTS.finish_failed(database, job_id, UNEXPECTED)
    finally:
        for part in partials:
            part.unlink(missing_ok=True)
        _forget(job_id, upload)


def _private_file(path: Path) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(descriptor)


def _download_name(spec: service.ReportSpec) -> str:
    return f"eligibility-{spec.benefit_code}-{spec.academic_year}"


def _forget(job_id: uuid.UUID, upload: Path) -> None:
    upload.unlink(missing_ok=True)  # the national IDs in clear go with the job
    REPORTS.ended(job_id)


def _finish_done(
    database: Database, job_id: uuid.UUID, summary: service.Summary, result_name: str
) -> None:
    with database.write_session() as session, transaction(session):
        job = session.get_one(ReportJob, job_id)
        job.status = ReportStatus.DONE
        job.finished_at = job.heartbeat_at = utcnow()
        job.rows_done = job.rows_total = summary.rows
        job.met, job.not_met = summary.met, summary.not_met
        job.refused, job.invalid = summary.refused, summary.invalid
        job.result_name = result_name
        job.failure = ""


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    """What the pages and the API show of a job, with the progress this process knows."""

    id: uuid.UUID
    benefit_code: str
    academic_year: int
    as_of: date
    file_name: str
    created_by: str
    status: ReportStatus
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

    @property
    def active(self) -> bool:
        return self.status in _ACTIVE

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.status is ReportStatus.DONE else None
        return min(100, self.rows_done * 100 // self.rows_total)

    @classmethod
    def of(cls, job: ReportJob, base: Path) -> JobView:
        rows = REPORTS.rows_done(job)
        done = job.status is ReportStatus.DONE
        return cls(
            id=job.id,
            benefit_code=job.benefit_code,
            academic_year=job.academic_year,
            as_of=job.as_of,
            file_name=job.file_name,
            created_by=job.created_by.split(":", 1)[-1],
            status=job.status,
            rows_done=rows,
            rows_total=max(job.rows_total, rows) if job.rows_total is not None else None,
            created_at=job.created_at,
            finished_at=job.finished_at,
            met=job.met,
            not_met=job.not_met,
            refused=job.refused,
            invalid=job.invalid,
            failure=job.failure,
            has_result=done and all(result_path(base, job.id, f).exists() for f in FORMATS),
        )


def _check(actor: Actor) -> None:
    if not actor.can(Scope.ELIGIBILITY_READ) or actor.agency_id is None:
        raise Forbidden("Eligibility reports need the permission eligibility:read of an agency.")


def _own(session: Session, actor: Actor, job_id: uuid.UUID) -> ReportJob:
    _check(actor)
    job = session.get(ReportJob, job_id)
    if job is None or not actor.acts_for(job.agency_id):
        raise NotFound("Your agency has no such report.")
    return job


def view(database: Database, actor: Actor, job_id: uuid.UUID, base: Path) -> JobView:
    """One of the agency's reports, with its progress or result (404 for others)."""
    with database.session() as session:
        job = _own(session, actor, job_id)
    if REPORTS.expire_stale(database, [job]):
        with database.session() as session:
            job = _own(session, actor, job_id)
    return JobView.of(job, base)


def recent(database: Database, actor: Actor, base: Path, limit: int = RECENT) -> list[JobView]:
    """The agency's latest reports, newest first."""
    _check(actor)
    query = (
        select(ReportJob)
        .where(ReportJob.agency_id == actor.agency_id)
        .order_by(ReportJob.id.desc())
        .limit(limit)
    )
    with database.session() as session:
        jobs = list(session.scalars(query))
    if REPORTS.expire_stale(database, jobs):
        with database.session() as session:
            jobs = list(session.scalars(query))
    remove_expired(base)
    return [JobView.of(job, base) for job in jobs]


def result(
    database: Database, actor: Actor, job_id: uuid.UUID, fmt: str, base: Path
) -> tuple[Path, str]:
    """The file of one of the agency's finished reports and the name to download it as."""
    if fmt not in FORMATS:
        raise NotFound(f"Reports come as {' or '.join(FORMATS)}.")
    with database.session() as session:
        job = _own(session, actor, job_id)
    path = result_path(base, job.id, fmt)
    if job.status is not ReportStatus.DONE or not path.exists():
        raise NotFound(
            "This report has no result (not finished, failed, or deleted after 30 days)."
        )
    return path, f"{job.result_name}.{fmt}"


# --- start-up and retention -------------------------------------------------------------


def recover(database: Database, base: Path) -> int:
    """At start-up: mark failed the jobs that a process of this machine left queued or
    running when it died, delete the uploads no report will read (they hold national
    IDs in clear) and the results past ``RETENTION``. Returns the number of jobs
    marked failed."""
    keep, dead = REPORTS.recover(database)
    _remove_uploads(_incoming(base), keep, dead)
    remove_expired(base)
    return len(dead)


def _remove_uploads(incoming: Path, keep: set[uuid.UUID], dead: set[uuid.UUID]) -> None:
    if not incoming.is_dir():
        return
    # An upload whose job is not written yet (another process is at it) is young:
    # anything older than an hour without a live job is left over.
    orphan_before = time.time() - 3600
    for path in incoming.iterdir():
        try:
            job_id = uuid.UUID(path.stem)
        except ValueError:
            continue
        if job_id in keep or REPORTS.runs_here(job_id):
            continue
        if job_id in dead or path.stat().st_mtime < orphan_before:
            path.unlink(missing_ok=True)


def remove_expired(base: Path) -> int:
    """Delete result files older than ``RETENTION``; returns how many."""
    results = _results(base)
    if not results.is_dir():
        return 0
    before = time.time() - RETENTION.total_seconds()
    removed = 0
    for path in results.iterdir():
        if path.stat().st_mtime < before:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
