"""Importing a file of deeds in the background, for the upload page.

The page saves the upload in a private file, creates an ``ImportJob`` and
answers at once; a thread of the same process runs ``importing.import_file``
and writes the job's progress in its own short transactions (at most about
once a second), then the counts and the error report. The clerk's page polls
the job, and the agency's recent imports stay listed on the upload page. A job
belongs to its agency: other agencies' staff never see it (404).

A process that dies leaves its jobs queued or running. They are marked failed,
with a message that says to import the same file again:

- when a process of the service starts on the same machine and the process
  that ran the job is gone, and
- when anyone reads them after ``STALE_AFTER`` without a sign of life (the
  progress writes are the sign of life), which covers another machine.

The progress, the signs of life and the jobs of a dead process are the same for
every background job: see ``dcatalog.jobs``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog import sealing, tabular
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.config import Settings
from dcatalog.db import Database, new_id, transaction, transactional, utcnow
from dcatalog.deeds import importing, service
from dcatalog.deeds.importing import FileProblem, ImportSummary, RowError
from dcatalog.deeds.models import ImportJob, ImportStatus
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.jobs.legacy import PROGRESS_EVERY as PROGRESS_EVERY
from dcatalog.jobs.legacy import STALE_AFTER as STALE_AFTER
from dcatalog.jobs.legacy import Background, JobTable, in_thread, this_runner
from dcatalog.jobs.legacy import ProgressWriter as _ProgressWriter
from dcatalog.logs import get_logger, redact
from dcatalog.problems import Forbidden, NotFound

log = get_logger(__name__)

RECENT = 10  # imports listed on the upload page
SHOWN_ERRORS = 200  # refused rows' errors shown on the page; the download has more
REPORTED = Settings.model_fields["import_errors_reported"].default
SUFFIXES = tabular.SUFFIXES
_REPORT_IN_MEMORY = 4 * 1024 * 1024  # an error report past this waits on disk
_ORPHAN_AFTER = timedelta(hours=1)  # an upload file without a job (its upload broke off)
_ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)

# Failure messages of our own (the pages translate them); a file's problem is
# stored as the import states it.
INTERRUPTED = (
    "The import was interrupted: the server stopped while it ran. Import the same file "
    "again: rows recorded already come back as sent before, never twice."
)
UNEXPECTED = (
    "An unexpected error stopped the import. Import the same file again: rows recorded "
    "already come back as sent before, never twice."
)

IMPORTS = JobTable(
    model=ImportJob,
    active=_ACTIVE,
    failed=ImportStatus.FAILED,
    interrupted=INTERRUPTED,
    kind="imports",
)
# Jobs running in this process and the rows they reported last: this process
# shows progress it could not write (see ``run``).
_LIVE = IMPORTS.live
_LIVE_LOCK = IMPORTS.lock


def uploads_folder(settings: Settings) -> Path:
    """Where uploads wait for their import: private to the service's user."""
    return settings.instance_dir / "imports"


# --- starting ----------------------------------------------------------------------------


def start(
    database: Database,
    keyer: CitizenKeyer,
    rules: service.Rules,
    actor: Actor,
    upload: IO[bytes],
    file_name: str,
    *,
    all_or_nothing: bool,
    folder: Path,
    background: Background = in_thread,
    limits: tabular.Limits | None = None,
    reported: int = REPORTED,
) -> ImportJob:
    """Save the upload, create its job (audited) and start importing it in the background.
    The quick checks of ``tabular.inspect`` come first: a file they refuse makes no job."""
    if not actor.can(Scope.DEEDS_WRITE) or actor.agency_id is None:
        raise Forbidden("Importing deeds needs the permission deeds:write of an agency.")
    name = display_name(file_name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise tabular.WRONG_KIND
    limits = limits or tabular.Limits()
    job_id = new_id()
    path = save_upload(upload, folder, job_id, suffix)
    try:
        total = tabular.inspect(path, limits)
        with database.write_session() as session:
            job = _create(
                session,
                actor,
                job_id=job_id,
                file_name=name,
                all_or_nothing=all_or_nothing,
                total=total,
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    IMPORTS.started(job_id)
    try:
        background(
            lambda: run(
                database, keyer, rules, actor, job_id, path, limits=limits, reported=reported
            )
        )
    except BaseException:
        IMPORTS.finish_failed(database, job_id, UNEXPECTED)
        _forget(job_id, path)
        raise
    return job


def display_name(file_name: str) -> str:
    # Only the name (a browser may send a path); never a national ID, even in a name.
    name = redact(Path(file_name.replace("\\", "/")).name.strip())[-255:]
    return name or "upload.csv"


def save_upload(upload: IO[bytes], folder: Path, job_id: uuid.UUID, suffix: str) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{job_id}{suffix}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        shutil.copyfileobj(upload, handle)
    return path


@transactional
def _create(
    session: Session,
    actor: Actor,
    *,
    job_id: uuid.UUID,
    file_name: str,
    all_or_nothing: bool,
    total: int | None,
) -> ImportJob:
    assert actor.agency_id is not None
    now = utcnow()
    job = ImportJob(
        id=job_id,
        agency_id=actor.agency_id,
        started_by=actor.label,
        file_name=file_name,
        status=ImportStatus.QUEUED,
        all_or_nothing=all_or_nothing,
        rows_done=0,
        rows_total=total,
        started_at=now,
        heartbeat_at=now,
        runner=this_runner(),
    )
    session.add(job)
    audit.record(session, actor, "import_job.start", job)
    return job


# --- running -----------------------------------------------------------------------------


class ProgressWriter(_ProgressWriter):
    """The import's ``progress`` callback: remembers the rows done in this process and
    writes them (with a sign of life) to the job in a short transaction of its own,
    at most once every ``every`` seconds."""

    table = IMPORTS


def run(
    database: Database,
    keyer: CitizenKeyer,
    rules: service.Rules,
    actor: Actor,
    job_id: uuid.UUID,
    path: Path,
    *,
    clock: Callable[[], float] = time.monotonic,
    limits: tabular.Limits | None = None,
    reported: int = REPORTED,
) -> None:
    """Import the job's file (in the background): whatever happens ends in the job,
    and the file is removed. The error report is written as the import goes, into a
    temporary file (spilling to disk past a few megabytes), at most ``reported`` errors."""
    file_name = path.name
    try:
        with database.write_session() as session, transaction(session):
            job = session.get_one(ImportJob, job_id)
            job.status, job.heartbeat_at = ImportStatus.RUNNING, utcnow()
            file_name, all_or_nothing = job.file_name, job.all_or_nothing
        # On SQLite an all-or-nothing import holds the database's one write lock until
        # it ends, so its progress cannot be written meanwhile (the write would wait
        # for this very thread): this process shows it from memory instead.
        progress = ProgressWriter(
            database, job_id, store=not (database.is_sqlite and all_or_nothing), clock=clock
        )
        with (
            tempfile.SpooledTemporaryFile(
                _REPORT_IN_MEMORY, mode="w+", encoding="utf-8", newline=""
            ) as out,
            database.write_session() as session,
        ):
            refused = importing.RefusedRows(out, limit=reported)
            summary = importing.import_file(
                session,
                actor,
                keyer,
                rules,
                path,
                all_or_nothing=all_or_nothing,
                progress=progress,
                limits=limits,
                listed=SHOWN_ERRORS,
                report=refused,
            )
            out.seek(0)
            kept = summary.error_count or summary.examples
            report = seal(keyer, job_id, out.read()) if kept else ""
        _finish_done(database, job_id, summary, report)
    except FileProblem as problem:
        IMPORTS.finish_failed(database, job_id, str(problem).replace(path.name, file_name))
    except Exception:
        log.exception("import failed", job_id=str(job_id))
        IMPORTS.finish_failed(database, job_id, UNEXPECTED)
    finally:
        _forget(job_id, path)


def _forget(job_id: uuid.UUID, path: Path) -> None:
    path.unlink(missing_ok=True)
    IMPORTS.ended(job_id)


def _finish_done(
    database: Database, job_id: uuid.UUID, summary: ImportSummary, report: str
) -> None:
    with database.write_session() as session, transaction(session):
        job = session.get_one(ImportJob, job_id)
        job.status = ImportStatus.DONE
        job.finished_at = job.heartbeat_at = utcnow()
        job.rows_done = job.rows_total = summary.rows
        job.imported, job.unchanged = summary.imported, summary.unchanged
        job.rejected, job.rolled_back = summary.rejected, summary.rolled_back
        job.error_report = report
        job.failure = ""


# --- the refused rows, sealed -------------------------------------------------------------

_SEALED = "sealed:v2:"
_SEAL_PURPOSE = b"import refused rows v1"


def seal(keyer: CitizenKeyer, job_id: uuid.UUID, text: str) -> str:
    """The refused rows hold national IDs as the clerk uploaded them (to be fixed and
    sent again): stored sealed (a key derived from the pepper, bound to the job), so
    the database never holds an ID in clear."""
    secret = keyer.derived_key(_SEAL_PURPOSE)
    return _SEALED + sealing.seal(secret, "import", text.encode("utf-8"), bound_to=job_id.bytes)


def unseal(keyer: CitizenKeyer, job_id: uuid.UUID, stored: str) -> str:
    secret = keyer.derived_key(_SEAL_PURPOSE)
    value = stored.removeprefix(_SEALED)
    return sealing.unseal(secret, "import", value, bound_to=job_id.bytes).decode("utf-8")


@dataclass(frozen=True)
class RefusedRow:
    row: int
    cells: tuple[str, ...]
    errors: tuple[RowError, ...]


@dataclass(frozen=True)
class Refused:
    """A job's stored refused rows, read back."""

    heading: list[str]
    rows: list[RefusedRow]  # the first ``limit`` read
    kept: int  # rows refused and kept
    more: int  # rows refused and not kept (past the cap)
    examples: int


def _read_refused(text: str, limit: int | None = None) -> Refused:
    heading: list[str] = []
    rows: list[RefusedRow] = []
    kept = more = examples = 0
    for line in text.splitlines():
        if line.startswith('{"row"'):
            kept += 1
            if limit is not None and len(rows) >= limit:
                continue  # counted, not parsed: a page shows the first ones only
        item: dict[str, Any] = json.loads(line)
        if "heading" in item:
            heading = list(item["heading"])
        elif "row" in item:
            cells = tuple(item["cells"])
            rows.append(
                RefusedRow(
                    item["row"],
                    cells,
                    tuple(
                        RowError(
                            item["row"],
                            column,
                            reason,
                            item["external_id"],
                            code,
                            tuple(params.items()),
                        )
                        for column, code, params, reason in item["errors"]
                    ),
                )
            )
        else:
            more, examples = item.get("more", 0), item.get("examples", 0)
    return Refused(heading, rows, kept, more, examples)


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    """What the pages show of a job: its row, with the progress this process knows."""

    id: uuid.UUID
    file_name: str
    started_by: str
    status: ImportStatus
    all_or_nothing: bool
    rows_done: int
    rows_total: int | None
    started_at: datetime
    finished_at: datetime | None
    imported: int
    unchanged: int
    rejected: int
    rolled_back: bool
    failure: str
    has_report: bool
    errors: tuple[RowError, ...] = ()  # the first SHOWN_ERRORS, when asked for
    examples: int = 0  # example rows checked and accepted (never recorded)
    kept: int | None = None  # refused rows the download holds (None: not read)
    more: int = 0  # refused rows past the cap, not in the download

    @property
    def active(self) -> bool:
        return self.status in _ACTIVE

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.status is ImportStatus.DONE else None
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def partly(self) -> bool:
        """Some rows imported, some to fix: a success with a list."""
        return self.imported > 0 and self.rejected > 0 and not self.rolled_back

    @classmethod
    def of(
        cls, job: ImportJob, *, with_errors: bool = False, keyer: CitizenKeyer | None = None
    ) -> JobView:
        rows = IMPORTS.rows_done(job)
        extra: dict[str, Any] = {}
        if with_errors and job.error_report.startswith(_SEALED) and keyer is not None:
            refused = _read_refused(unseal(keyer, job.id, job.error_report), SHOWN_ERRORS)
            errors = [e for row in refused.rows for e in row.errors][:SHOWN_ERRORS]
            extra = {
                "errors": tuple(errors),
                "examples": refused.examples,
                "kept": refused.kept,
                "more": refused.more,
            }
        elif with_errors:  # a report of an older version: CSV, redacted
            extra = {"errors": _parse_report(job.error_report, SHOWN_ERRORS)}
        return cls(
            id=job.id,
            file_name=job.file_name,
            started_by=job.started_by.split(":", 1)[-1],
            status=job.status,
            all_or_nothing=job.all_or_nothing,
            rows_done=rows,
            rows_total=max(job.rows_total, rows) if job.rows_total is not None else None,
            started_at=job.started_at,
            finished_at=job.finished_at,
            imported=job.imported,
            unchanged=job.unchanged,
            rejected=job.rejected,
            rolled_back=job.rolled_back,
            failure=job.failure,
            has_report=bool(job.error_report),
            **extra,
        )


def _parse_report(text: str, limit: int) -> tuple[RowError, ...]:
    rows = csv.DictReader(io.StringIO(text))
    found: list[RowError] = []
    for line in rows:
        if len(found) >= limit or not line["row"].isdigit():  # the last line: "… and N more"
            break
        found.append(
            RowError(int(line["row"]), line["column"], line["reason"], line["external_id"])
        )
    return tuple(found)


def _own(session: Session, actor: Actor, job_id: uuid.UUID) -> ImportJob:
    if not actor.can(Scope.DEEDS_WRITE):
        raise Forbidden("Imports are seen with the permission deeds:write.")
    job = session.get(ImportJob, job_id)
    if job is None or not actor.acts_for(job.agency_id):
        raise NotFound("Your agency has no such import.")
    return job


def view(
    database: Database, actor: Actor, job_id: uuid.UUID, keyer: CitizenKeyer | None = None
) -> JobView:
    """One of the agency's imports, with its progress or result (404 for others); with
    ``keyer``, its first refused rows too."""
    with database.session() as session:
        job = _own(session, actor, job_id)
    if IMPORTS.expire_stale(database, [job]):
        with database.session() as session:
            job = _own(session, actor, job_id)
    return JobView.of(job, with_errors=job.status is ImportStatus.DONE, keyer=keyer)


def recent(database: Database, actor: Actor, limit: int = RECENT) -> list[JobView]:
    """The agency's latest imports, newest first."""
    if not actor.can(Scope.DEEDS_WRITE) or actor.agency_id is None:
        raise Forbidden("Imports are seen with the permission deeds:write.")
    query = (
        select(ImportJob)
        .where(ImportJob.agency_id == actor.agency_id)
        .order_by(ImportJob.id.desc())
        .limit(limit)
    )
    with database.session() as session:
        jobs = list(session.scalars(query))
    if IMPORTS.expire_stale(database, jobs):
        with database.session() as session:
            jobs = list(session.scalars(query))
    return [JobView.of(job) for job in jobs]


def error_report(
    session: Session,
    actor: Actor,
    job_id: uuid.UUID,
    keyer: CitizenKeyer,
    *,
    reason_heading: str,
    reason_of: Callable[[RefusedRow], str],
    more_note: Callable[[int], str],
) -> str:
    """The refused rows of one of the agency's imports, as CSV with a BOM (so that
    Excel reads the Thai as UTF-8): each row as uploaded, under the file's own
    headings, plus a column with its reasons (``reason_of``, in the page's language),
    so that the clerk fixes the cells and uploads the file as it is. Formula text
    comes back quoted (``tabular.CsvWriter``); the import reads it back unquoted."""
    job = _own(session, actor, job_id)
    if not job.error_report.startswith(_SEALED):  # an older version's report
        return tabular.BOM + (job.error_report or ",".join(importing.REPORT_HEADING) + "\r\n")
    refused = _read_refused(unseal(keyer, job.id, job.error_report))
    width = len(refused.heading)
    out = io.StringIO()
    writer = tabular.CsvWriter(out)
    writer.writerow([*refused.heading, reason_heading])
    for row in refused.rows:
        cells = list(row.cells[:width]) + [""] * (width - len(row.cells))
        writer.writerow([*cells, reason_of(row), *row.cells[width:]])
    if refused.more:
        writer.writerow([*([""] * width), more_note(refused.more)])
    return out.getvalue()


# --- start-up ----------------------------------------------------------------------------


def recover(database: Database, folder: Path) -> int:
    """At start-up: mark failed the jobs that a process of this machine left queued or
    running when it died, and remove upload files that no import will read. Returns
    the number of jobs marked failed."""
    keep, dead = IMPORTS.recover(database)
    _remove_leftovers(database, folder, keep)
    return len(dead)


def _remove_leftovers(database: Database, folder: Path, keep: set[uuid.UUID]) -> None:
    if not folder.is_dir():
        return
    files: dict[uuid.UUID, Path] = {}
    for path in folder.iterdir():
        try:
            job_id = uuid.UUID(path.stem)
        except ValueError:
            continue
        if job_id not in keep and not IMPORTS.runs_here(job_id):
            files[job_id] = path
    if not files:
        return
    with database.session() as session:
        finished = set(session.scalars(select(ImportJob.id).where(ImportJob.id.in_(list(files)))))
    # A file without a job may be an upload that another process is just turning
    # into a job: it is removed only when it is old.
    orphan_before = time.time() - _ORPHAN_AFTER.total_seconds()
    for job_id, path in files.items():
        if job_id in finished or path.stat().st_mtime < orphan_before:
            path.unlink(missing_ok=True)
