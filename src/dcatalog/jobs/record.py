"""The job record: a job is created, claimed for a run, reports its progress,
ends; the jobs of dead workers are run again.

Delivery. The queue delivers a wake-up at most once (huey removes a message
before running it; a worker killed meanwhile loses it). The record makes it
*at least once*:

- **claim**: one short transaction moves the job from queued to running,
  counts the attempt and checks the caps; a second wake-up for the same job, or
  one for a job that is running or ended, does nothing;
- **fencing**: every later write of the run names its attempt
  (``WHERE id = … AND attempt = …``); a runner wrongly taken for dead finds
  nothing to write, and stops (``Superseded``);
- **recovery** (when a worker starts, and every minute): a running job whose
  runner is gone goes back to queued (or fails, once ``max_attempts`` runs have
  started), and every queued job is woken again.

So a kind's ``run`` must be safe to run again: it resumes from its checkpoint
(written in the same transaction as the work it covers) or starts over.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from dcatalog.db import Database, changed_rows, transaction, utcnow
from dcatalog.jobs import files, kinds
from dcatalog.jobs.models import ACTIVE, FileChunk, Job, JobStatus, StoredFile
from dcatalog.logs import get_logger, redact

log = get_logger(__name__)

PROGRESS_EVERY = 1.0  # seconds between two progress writes of one run
CLAIM_LOCK = 0x6463_6A6F62  # PostgreSQL advisory lock: one claim at a time, over every host


class JobFailed(Exception):
    """Raised by a kind: the job ends failed with this message (shown to people,
    translated by the pages), without another attempt."""


class Superseded(Exception):
    """This run's attempt is no longer the job's: it was taken for dead and given to
    another runner (or the job was ended meanwhile). The run must stop writing."""


class Stopping(Exception):
    """Raised by a kind when ``Context.stopping()``: the process is shutting down;
    the job goes back to the queue and resumes from its checkpoint."""


@dataclass(frozen=True)
class Caps:
    """How many jobs may run at once, over every worker."""

    overall: int
    per_agency: int


class CapFull(Exception):
    """The job must wait: too many jobs run (overall, of its agency or of its kind)."""


def this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- creating ----------------------------------------------------------------------------


def create(
    session: Session,
    kind: str,
    *,
    created_by: str,
    agency_id: uuid.UUID | None = None,
    params: dict[str, Any] | None = None,
    total: int | None = None,
    step: str = "",
    job_id: uuid.UUID | None = None,
) -> Job:
    """A queued job, in the caller's transaction (which audits it). Wake it once the
    transaction has committed (``Jobs.wake``); were the wake-up lost, recovery
    wakes it again."""
    known = kinds.get(kind)  # an unknown kind fails here, not in a worker
    job = Job(
        kind=kind,
        agency_id=agency_id,
        created_by=created_by,
        status=JobStatus.QUEUED,
        params=params or {},
        max_attempts=known.max_attempts,
        total=total,
        step=step,
        counts={},
        checkpoint={},
        result={},
    )
    if job_id is not None:
        job.id = job_id
    session.add(job)
    session.flush()
    return job


# --- claiming ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """One run of a job: what its kind needs to do it."""

    job_id: uuid.UUID
    attempt: int
    kind: str
    agency_id: uuid.UUID | None
    created_by: str
    params: dict[str, Any]
    checkpoint: dict[str, Any]
    counts: dict[str, Any]


def claim(database: Database, job_id: uuid.UUID, runner: str, caps: Caps) -> Claimed | None:
    """Take a queued job for a run by ``runner``, or None when there is nothing to do
    (no such job, or it is running or ended). Raises ``CapFull`` when it must wait."""
    with database.write_session() as session, transaction(session):
        if not database.is_sqlite:  # SQLite's write lock already serialises claims
            session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
        job = session.get(Job, job_id, populate_existing=True)
        if job is None or job.status is not JobStatus.QUEUED:
            return None
        kind = kinds.get(job.kind)
        _check_caps(session, job, kind, caps)
        now = utcnow()
        job.status, job.attempt, job.runner = JobStatus.RUNNING, job.attempt + 1, runner
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        return Claimed(
            job.id,
            job.attempt,
            job.kind,
            job.agency_id,
            job.created_by,
            dict(job.params),
            dict(job.checkpoint),
            dict(job.counts),
        )


def _check_caps(session: Session, job: Job, kind: kinds.JobKind, caps: Caps) -> None:
    running = select(func.count()).select_from(Job).where(Job.status == JobStatus.RUNNING)
    if (session.scalar(running) or 0) >= caps.overall:
        raise CapFull("overall")
    if job.agency_id is not None:
        mine = session.scalar(running.where(Job.agency_id == job.agency_id)) or 0
        if mine >= caps.per_agency:
            raise CapFull("agency")
    if kind.at_once is not None:
        alike = session.scalar(running.where(Job.kind == job.kind)) or 0
        if alike >= kind.at_once:
            raise CapFull("kind")


# --- a run -------------------------------------------------------------------------------


@dataclass
class Context:
    """What a kind's ``run`` gets: the job's input and where it stands, and the
    fenced writes of this run."""

    database: Database
    settings: Any  # dcatalog.config.Settings
    claimed: Claimed
    stopping: Callable[[], bool] = lambda: False
    clock: Callable[[], float] = time.monotonic
    # False while the run holds SQLite's one write lock in a long transaction: its
    # progress is then kept in this process's memory (``done_shown``), not written.
    store_progress: bool = True
    _last: float | None = field(default=None, repr=False)

    @property
    def job_id(self) -> uuid.UUID:
        return self.claimed.job_id

    @property
    def params(self) -> dict[str, Any]:
        return self.claimed.params

    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.claimed.checkpoint

    def progress(self, done: int, total: int | None = None, step: str | None = None) -> None:
        """Where the run stands, written in a short transaction of its own (also its
        sign of life), at most once every ``PROGRESS_EVERY`` seconds unless the step
        changes. Raises ``Superseded`` when the job is no longer this run's, and
        ``Stopping`` when the process is shutting down."""
        if self.stopping():
            raise Stopping()
        if not self.store_progress:
            _SHOWN[self.job_id] = done
            return
        now = self.clock()
        if step is None and self._last is not None and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        values: dict[str, Any] = {"done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["total"] = total
        if step is not None:
            values["step"] = step
        with self.database.write_session() as session, transaction(session):
            self.save(session, **values)

    def save(self, session: Session, **values: Any) -> None:
        """Write the job's columns (``checkpoint``, ``counts``, ``done``, …) in the
        caller's transaction, so that they commit with the work they describe."""
        changed = changed_rows(session.execute(_fenced(self.claimed).values(**values)))
        if not changed:
            raise Superseded(str(self.job_id))

    def keep_file(
        self, session: Session, name: str, media_type: str, data: bytes | IO[bytes]
    ) -> uuid.UUID:
        """Store a file of the job in the database (it goes when the job expires)."""
        return files.store(session, name, media_type, data, job_id=self.job_id).id


# Progress of runs of this process that cannot write it (``Context.store_progress``).
_SHOWN: dict[uuid.UUID, int] = {}


def done_shown(job: Job) -> int:
    """The job's units done, as written or as its run in this process knows them."""
    return max(job.done, _SHOWN.get(job.id, 0))


def forget_shown(job_id: uuid.UUID) -> None:
    _SHOWN.pop(job_id, None)


def _fenced(claimed: Claimed) -> Any:
    return update(Job).where(
        Job.id == claimed.job_id,
        Job.attempt == claimed.attempt,
        Job.status == JobStatus.RUNNING,
    )


def _drop_inputs(session: Session, job_id: uuid.UUID) -> None:
    """A job's input files go when it ends, whatever the end."""
    inputs = select(StoredFile.id).where(StoredFile.job_id == job_id, StoredFile.is_input)
    session.execute(delete(FileChunk).where(FileChunk.file_id.in_(inputs)))
    session.execute(delete(StoredFile).where(StoredFile.id.in_(inputs)))


def finish(
    database: Database, claimed: Claimed, result: dict[str, Any], settings: Any = None
) -> None:
    _end(database, claimed, JobStatus.DONE, settings, result=result, failure="")


def fail(database: Database, claimed: Claimed, message: str, settings: Any = None) -> None:
    _end(database, claimed, JobStatus.FAILED, settings, failure=redact(message))


def _end(
    database: Database, claimed: Claimed, status: JobStatus, settings: Any, **values: Any
) -> None:
    """End the run's job (its input files go with it), or raise ``Superseded``, in
    which case nothing changes."""
    kind = kinds.get(claimed.kind)
    now = utcnow()
    ending = {"finished_at": now, "heartbeat_at": now, "expires_at": now + kind.kept(settings)}
    with database.write_session() as session, transaction(session):
        ended = session.execute(_fenced(claimed).values(status=status, **ending, **values))
        if not changed_rows(ended):
            raise Superseded(str(claimed.job_id))  # rolls back: the other run owns it
        _drop_inputs(session, claimed.job_id)


def give_back(database: Database, claimed: Claimed) -> None:
    """The process stops: the job waits in the queue for the next worker (this run
    does not count as one of its attempts)."""
    with database.write_session() as session, transaction(session):
        session.execute(
            _fenced(claimed).values(status=JobStatus.QUEUED, attempt=claimed.attempt - 1, runner="")
        )


def beat(database: Database, runs: Iterable[Claimed]) -> None:
    """Signs of life of the runs of this process (one short transaction)."""
    now = utcnow()
    with database.write_session() as session, transaction(session):
        for claimed in runs:
            session.execute(_fenced(claimed).values(heartbeat_at=now))


# --- dead workers and old jobs -----------------------------------------------------------


@dataclass(frozen=True)
class Recovered:
    requeued: list[uuid.UUID]  # running jobs of dead runners, queued again
    failed: list[uuid.UUID]  # ... that had used up their attempts
    queued: list[uuid.UUID]  # every queued job: wake them


def recover(
    database: Database,
    *,
    stale_after: timedelta,
    live: set[uuid.UUID] = frozenset(),  # type: ignore[assignment]
    now: datetime | None = None,
    settings: Any = None,
) -> Recovered:
    """Queue again (or fail) the running jobs whose runner is dead: on this host, its
    process is gone; on any host (PostgreSQL), it gave no sign of life for
    ``stale_after``. On SQLite a long write holds the database's one lock, so a
    runner cannot always write signs of life: there, only a gone process counts
    (SQLite is one host). Jobs in ``live`` run in this process."""
    now = now or utcnow()
    host = socket.gethostname()
    with database.session() as session:
        running = session.execute(
            select(Job.id, Job.runner, Job.heartbeat_at, Job.attempt, Job.max_attempts).where(
                Job.status == JobStatus.RUNNING
            )
        ).all()
    requeued: list[uuid.UUID] = []
    failed: list[uuid.UUID] = []
    for job_id, runner, heartbeat, attempt, max_attempts in running:
        if job_id in live:
            continue
        stale = heartbeat is None or heartbeat < now - stale_after
        if not (runner_gone(runner, host) or (stale and not database.is_sqlite)):
            continue
        (failed if attempt >= max_attempts else requeued).append(job_id)
        _take_back(database, job_id, attempt, give_up=attempt >= max_attempts, settings=settings)
    with database.session() as session:
        queued = list(session.scalars(select(Job.id).where(Job.status == JobStatus.QUEUED)))
    if requeued or failed:
        log.warning(
            "jobs of dead workers",
            requeued=[str(i) for i in requeued],
            failed=[str(i) for i in failed],
        )
    return Recovered(requeued, failed, queued)


def _take_back(
    database: Database, job_id: uuid.UUID, attempt: int, *, give_up: bool, settings: Any
) -> None:
    now = utcnow()
    with database.write_session() as session, transaction(session):
        job = session.get(Job, job_id, populate_existing=True)
        if job is None or job.status is not JobStatus.RUNNING or job.attempt != attempt:
            return  # it moved on meanwhile
        if give_up:
            _drop_inputs(session, job_id)
            kind = _kind_or_none(job.kind)
            job.status = JobStatus.FAILED
            job.failure = kind.interrupted if kind else kinds.INTERRUPTED
            job.finished_at = now
            job.expires_at = now + (kind.kept(settings) if kind else timedelta(days=1))
        else:
            job.status, job.runner = JobStatus.QUEUED, ""


def _kind_or_none(name: str) -> kinds.JobKind | None:
    try:
        return kinds.get(name)
    except kinds.UnknownKind:
        return None


def runner_gone(runner: str, host: str) -> bool:
    """The runner's process ran on this host and is no longer there."""
    name, _, pid_text = runner.rpartition(":")
    if name != host or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # an earlier life of this process id (a restarted container)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by someone else
        return False
    return False


PERIODIC = "system:periodic"  # who creates the periodic jobs


def create_due(database: Database, settings: Any, now: datetime | None = None) -> list[uuid.UUID]:
    """The periodic jobs that are due: a kind with ``every`` gets a job when none of
    its jobs is active and the last one was created longer ago than that."""
    now = now or utcnow()
    created: list[uuid.UUID] = []
    for kind in kinds.registered():
        interval = kind.every(settings) if kind.every else None
        if interval is None:
            continue
        with database.write_session() as session, transaction(session):
            mine = select(Job.created_at).where(Job.kind == kind.name)
            active = session.scalar(mine.where(Job.status.in_(ACTIVE)).limit(1))
            last = session.scalar(select(func.max(Job.created_at)).where(Job.kind == kind.name))
            if active is None and (last is None or last <= now - interval):
                created.append(create(session, kind.name, created_by=PERIODIC).id)
    return created


def remove_expired(database: Database, now: datetime | None = None) -> int:
    """Delete ended jobs past their expiry with their files, and files past theirs."""
    now = now or utcnow()
    with database.write_session() as session, transaction(session):
        expired_jobs = select(Job.id).where(Job.expires_at < now, Job.status.not_in(ACTIVE))
        doomed = select(StoredFile.id).where(
            (StoredFile.job_id.in_(expired_jobs)) | (StoredFile.expires_at < now)
        )
        session.execute(delete(FileChunk).where(FileChunk.file_id.in_(doomed)))
        session.execute(delete(StoredFile).where(StoredFile.id.in_(doomed)))
        return changed_rows(session.execute(delete(Job).where(Job.id.in_(expired_jobs))))


# --- reading -----------------------------------------------------------------------------


def get(session: Session, job_id: uuid.UUID, kind: str) -> Job | None:
    """The job, if it is of ``kind`` (a page for one kind never shows another's)."""
    job = session.get(Job, job_id)
    return job if job is not None and job.kind == kind else None
