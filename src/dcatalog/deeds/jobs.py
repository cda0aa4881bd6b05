"""Importing a file of deeds as a job (kind ``deeds.import``), for the upload page
and the API.

The file's quick checks (``tabular.inspect``, and its first row naming the
columns) run while the request waits: a refused file makes no job. Then one transaction creates the job (audited) and
stores the upload with it in the database, and a worker is woken; the answer
comes at once (the API may wait a little for a small file). Any app process on
any host shows the job's progress and serves its error report. A job belongs to
its agency: other agencies' staff never see it (404).

Every row is accounted for exactly once, even when the worker dies. Each batch of
rows is one transaction that records the deeds, appends the batch's refused rows
to the job's error report and writes the job's checkpoint (rows read, counts,
where the report ends); a run that starts again after a dead worker resumes after
the last batch committed, with its counts. An all-or-nothing import is one
transaction (nothing to resume: it starts over), which writes its counts as it
commits.

Privacy: the upload and the refused rows hold national IDs as the clerk typed
them. Both are stored sealed (keys derived from the pepper, bound to the file and
the chunk); the upload is the job's *input* and goes when the job ends, the
report stays with the job for ``DCATALOG_JOB_RESULTS_KEEP_DAYS`` (30).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog import jobs, tabular
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.db import Database, transaction, utcnow
from dcatalog.deeds import importing, service
from dcatalog.deeds.importing import FileProblem, ImportSummary, RowError
from dcatalog.identity.citizen_key import CitizenKeyer, load_pepper
from dcatalog.jobs import JobStatus, files
from dcatalog.logs import redact
from dcatalog.problems import Forbidden, NotFound

KIND = "deeds.import"
RECENT = 10  # imports listed on the upload page
SHOWN_ERRORS = 200  # refused rows' errors shown on the page; the download has more
SUFFIXES = tabular.SUFFIXES
UPLOAD_SEAL = b"deed import upload v1"  # the key that seals uploads
REPORT_SEAL = b"import refused rows v1"  # ... and the refused rows

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


# --- starting ----------------------------------------------------------------------------


def start(
    database: Database,
    queue: jobs.Jobs,
    keyer: CitizenKeyer,
    actor: Actor,
    upload: IO[bytes],
    file_name: str,
    *,
    all_or_nothing: bool,
    limits: tabular.Limits | None = None,
) -> JobView:
    """Check the file, create its job with the upload (audited) and wake a worker."""
    if not actor.can(Scope.DEEDS_WRITE) or actor.agency_id is None:
        raise Forbidden("Importing deeds needs the permission deeds:write of an agency.")
    name = display_name(file_name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise tabular.WRONG_KIND
    with tempfile.NamedTemporaryFile(suffix=suffix) as spool:
        shutil.copyfileobj(upload, spool)
        spool.flush()
        limits = limits or tabular.Limits()
        total = tabular.inspect(Path(spool.name), limits)
        importing.check_heading(Path(spool.name), limits)
        spool.seek(0)
        with database.write_session() as session, transaction(session):
            job = jobs.create(
                session,
                KIND,
                created_by=actor.label,
                agency_id=actor.agency_id,
                params={
                    "actor": actor.as_params(),
                    "file_name": name,
                    "all_or_nothing": all_or_nothing,
                },
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
            # The refused rows, appended a batch at a time by the run.
            report = files.store(
                session,
                f"refused-rows-{job.id}.jsonl",
                "application/x-ndjson",
                b"",
                job_id=job.id,
                secret=keyer.derived_key(REPORT_SEAL),
            )
            job.params = {**job.params, "report": str(report.id)}
            audit.record(session, actor, "import_job.start", job)
            view = JobView.of(job)
    queue.wake(view.id)
    return view


def display_name(file_name: str) -> str:
    # Only the name (a browser may send a path); never a national ID, even in a name.
    name = redact(Path(file_name.replace("\\", "/")).name.strip())[-255:]
    return name or "upload.csv"


# --- running -----------------------------------------------------------------------------


@dataclass
class _Checkpoint:
    """Where an import stands after its last committed batch."""

    rows: int = 0  # data rows read (blank lines are not rows)
    imported: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: int = 0  # errors of refused rows (a row may have several)
    examples: int = 0
    kept: int = 0  # refused rows written to the report
    more: int = 0  # ... and not written (past the cap)
    chunks: int = 0  # the report's chunks so far
    finished: bool = False  # every row read; the counts are final
    rolled_back: bool = False

    @classmethod
    def of(cls, stored: dict[str, Any]) -> _Checkpoint:
        return cls(**{k: v for k, v in stored.items() if k in cls.__dataclass_fields__})

    def summary(self, all_or_nothing: bool) -> ImportSummary:
        return ImportSummary(
            rows=self.rows,
            imported=self.imported,
            unchanged=self.unchanged,
            rejected=self.rejected,
            error_count=self.errors,
            examples=self.examples,
            all_or_nothing=all_or_nothing,
            rolled_back=self.rolled_back,
        )

    def counts(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
            "examples": self.examples,
            "kept": self.kept,
            "more": self.more,
            "rolled_back": self.rolled_back,
        }


class _ReportSink:
    """The refused rows of the batches since the last checkpoint, on their way into
    the job's stored report."""

    def __init__(self, context: jobs.Context, file_id: uuid.UUID, secret: bytes, at: _Checkpoint):
        self.context, self.file_id, self.secret, self.at = context, file_id, secret, at
        self.out = io.StringIO()
        self.rows = importing.RefusedRows(
            self.out,
            limit=context.settings.import_errors_reported,
            written=at.kept,
            more=at.more,
            started=at.rows > 0 or at.chunks > 0,
        )

    def flush(self, session: Session, summary: ImportSummary, *, finished: bool = False) -> None:
        """Append what was written since the last flush, and the checkpoint, in the
        caller's transaction (the batch's: they commit with its deeds)."""
        written = self.out.getvalue().encode("utf-8")
        self.out.seek(0)
        self.out.truncate()
        self.at.chunks = files.append(session, self.file_id, self.at.chunks, written, self.secret)
        at = self.at
        at.rows, at.imported, at.unchanged = summary.rows, summary.imported, summary.unchanged
        at.rejected, at.errors, at.examples = (
            summary.rejected,
            summary.error_count,
            summary.examples,
        )
        at.kept, at.more = self.rows.written, self.rows.more
        at.finished, at.rolled_back = finished, summary.rolled_back
        self.context.save(
            session,
            checkpoint=at.__dict__,
            counts=at.counts(),
            done=summary.rows,
            heartbeat_at=utcnow(),
        )


def run(context: jobs.Context) -> dict[str, Any]:
    """The job: import the stored upload from its checkpoint on."""
    params, settings = context.params, context.settings
    actor = Actor.from_params(params["actor"])
    keyer = CitizenKeyer(load_pepper(settings))
    all_or_nothing = bool(params["all_or_nothing"])
    at = _Checkpoint.of(context.checkpoint)
    if at.finished:  # the last run ended just before the job did
        return {"summary": at.counts()}
    with context.database.session() as session:
        upload = session.scalar(
            select(jobs.StoredFile.id).where(
                jobs.StoredFile.job_id == context.job_id, jobs.StoredFile.is_input
            )
        )
    if upload is None:
        raise jobs.JobFailed(UNEXPECTED)
    if all_or_nothing:
        at = _Checkpoint()  # a past run that did not finish committed nothing
    sink = _ReportSink(context, uuid.UUID(params["report"]), keyer.derived_key(REPORT_SEAL), at)
    # On SQLite an all-or-nothing import holds the database's one write lock until it
    # ends: its progress is shown from this process's memory meanwhile.
    context.store_progress = not (context.database.is_sqlite and all_or_nothing)
    suffix = Path(params["file_name"]).suffix
    secret = keyer.derived_key(UPLOAD_SEAL)
    with files.to_temporary(context.database, upload, suffix, secret) as source:
        try:
            summary = _import(context, sink, actor, keyer, Path(source.name), all_or_nothing, at)
        except FileProblem as problem:
            shown = str(problem).replace(Path(source.name).name, params["file_name"])
            raise jobs.JobFailed(shown) from problem
    return {"summary": summary}


def _import(
    context: jobs.Context,
    sink: _ReportSink,
    actor: Actor,
    keyer: CitizenKeyer,
    path: Path,
    all_or_nothing: bool,
    at: _Checkpoint,
) -> dict[str, Any]:
    settings = context.settings
    with context.database.write_session() as session:
        summary = importing.import_file(
            session,
            actor,
            keyer,
            service.Rules.from_settings(settings),
            path,
            all_or_nothing=all_or_nothing,
            progress=context.progress if all_or_nothing else None,
            limits=tabular.Limits.of(settings),
            listed=0,
            report=sink.rows,
            resume=at.summary(all_or_nothing),
            # In each batch's transaction (or the all-or-nothing one, as it commits).
            checkpoint=lambda batch, so_far: _batch_done(context, sink, batch, so_far),
        )
        if not at.finished:  # import_file closed the report
            with transaction(session):
                sink.flush(session, summary, finished=True)
    return at.counts()


def _batch_done(
    context: jobs.Context, sink: _ReportSink, session: Session, summary: ImportSummary
) -> None:
    if context.stopping():
        raise jobs.Stopping()  # the batch rolls back; the next worker does it again
    if summary.all_or_nothing:  # the import commits with this: its counts are final
        sink.rows.close(summary)
        sink.flush(session, summary, finished=True)
    else:
        sink.flush(session, summary)


JOB_KIND = jobs.JobKind(
    KIND,
    run,
    keep=jobs.agency_results,
    interrupted=INTERRUPTED,
    unexpected=UNEXPECTED,
)


# --- the refused rows, read back ----------------------------------------------------------


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


def _refused(database: Database, job: jobs.Job, keyer: CitizenKeyer) -> Refused:
    """The whole report (for its download)."""
    with database.session() as session:
        text = files.read(session, uuid.UUID(job.params["report"]), keyer.derived_key(REPORT_SEAL))
    return _read_refused(text.decode("utf-8"))


def _first_refused(
    database: Database, job: jobs.Job, keyer: CitizenKeyer, limit: int
) -> list[RefusedRow]:
    """The report's first ``limit`` rows, reading only the chunks they are in (a page
    shows 200 of what may be 100,000)."""
    report = uuid.UUID(job.params["report"])
    lines: list[str] = []
    rows = 0
    pending = b""
    for chunk in files.chunks(database, report, keyer.derived_key(REPORT_SEAL)):
        *complete, pending = (pending + chunk).split(b"\n")
        for line in complete:
            text = line.decode("utf-8")
            lines.append(text)
            rows += text.startswith('{"row"')
        if rows >= limit:
            break
    return _read_refused("\n".join(lines), limit).rows


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobView(jobs.ShownProgress):
    """What the pages and the API show of an import job."""

    id: uuid.UUID
    file_name: str
    started_by: str
    status: JobStatus
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
    errors_total: int = 0

    @property
    def partly(self) -> bool:
        """Some rows imported, some to fix: a success with a list."""
        return self.imported > 0 and self.rejected > 0 and not self.rolled_back

    @classmethod
    def of(cls, job: jobs.Job, **extra: Any) -> JobView:
        done = job.status is JobStatus.DONE
        counts = job.counts if done else {}
        rows = jobs.done_shown(job)
        return cls(
            id=job.id,
            file_name=job.params["file_name"],
            started_by=job.created_by.split(":", 1)[-1],
            status=job.status,
            all_or_nothing=bool(job.params["all_or_nothing"]),
            rows_done=rows,
            rows_total=max(job.total, rows) if job.total is not None else None,
            started_at=job.created_at,
            finished_at=job.finished_at,
            imported=int(counts.get("imported", 0)),
            unchanged=int(counts.get("unchanged", 0)),
            rejected=int(counts.get("rejected", 0)),
            rolled_back=bool(counts.get("rolled_back", False)),
            failure=job.failure,
            has_report=done and bool(counts.get("errors") or counts.get("examples")),
            errors_total=int(counts.get("errors", 0)),
            **extra,
        )


def _check(actor: Actor) -> None:
    if not actor.can(Scope.DEEDS_WRITE) or actor.agency_id is None:
        raise Forbidden("Imports are seen with the permission deeds:write of an agency.")


def _own(database: Database, actor: Actor, job_id: uuid.UUID) -> jobs.Job:
    _check(actor)
    job = jobs.views.find(database, job_id, KIND, actor.acts_for)
    if job is None:
        raise NotFound("Your agency has no such import.")
    return job


def view(
    database: Database,
    actor: Actor,
    job_id: uuid.UUID,
    keyer: CitizenKeyer | None = None,
    *,
    listed: int = SHOWN_ERRORS,
) -> JobView:
    """One of the agency's imports, with its progress or result (404 for others); with
    ``keyer``, the errors of its first ``listed`` refused rows too."""
    job = _own(database, actor, job_id)
    view = JobView.of(job)
    if keyer is None or not view.has_report:
        return view
    first = _first_refused(database, job, keyer, listed)
    errors = [e for row in first for e in row.errors][:listed]
    counts = job.counts
    return JobView.of(
        job,
        errors=tuple(errors),
        examples=int(counts.get("examples", 0)),
        kept=int(counts.get("kept", 0)),
        more=int(counts.get("more", 0)),
    )


def wait(
    database: Database,
    actor: Actor,
    job_id: uuid.UUID,
    seconds: float,
    *,
    poll: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
) -> JobView:
    """The job once it ended, or as it stands after ``seconds``."""
    until = clock() + seconds
    while (job := view(database, actor, job_id)).active and clock() < until:
        time.sleep(poll)
    return job


def recent(database: Database, actor: Actor, limit: int = RECENT) -> list[JobView]:
    """The agency's latest imports, newest first."""
    _check(actor)
    return [JobView.of(job) for job in jobs.views.latest(database, KIND, actor.agency_id, limit)]


def error_report(
    database: Database,
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
    job = _own(database, actor, job_id)
    if job.status is not JobStatus.DONE:
        raise NotFound("This import has no error report (not finished, or it failed).")
    refused = _refused(database, job, keyer)
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
