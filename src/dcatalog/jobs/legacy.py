"""Background jobs of the web process: progress, signs of life, and jobs left by a
dead process.

Import jobs (``dcatalog.deeds.jobs``) and eligibility report jobs
(``dcatalog.reports.jobs``) run in a thread of the process that took the
request. Their tables share the columns used here (see ``Job``); a ``JobTable``
describes one of them, and holds the jobs running in this process.

A job writes its progress in short transactions of its own, at most once every
``PROGRESS_EVERY`` seconds (``ProgressWriter``); each write is also its sign of
life. A process that dies leaves its jobs queued or running. They are marked
failed, with the table's ``interrupted`` message:

- when a process of the service starts on the same machine and the process
  that ran the job is gone (``JobTable.recover``), and
- when anyone reads them after ``STALE_AFTER`` without a sign of life, which
  covers another machine (``JobTable.expire_stale``).
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Mapped

from dcatalog.db import Database, transaction, utcnow
from dcatalog.jobs.record import runner_gone
from dcatalog.logs import get_logger, redact

log = get_logger(__name__)

# How a job is started: in a thread of this process (``in_thread``), or at once
# in tests that want to watch it finish.
Background = Callable[[Callable[[], None]], None]


def in_thread(work: Callable[[], None]) -> None:
    """Run ``work`` in a thread of this process (with the request's log context)."""
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), name="dcatalog-job", daemon=True).start()


STALE_AFTER = timedelta(minutes=15)  # no sign of life for this long: the process died
PROGRESS_EVERY = 1.0  # seconds between two progress writes of one job


class Job(Protocol):
    """The columns of a job's table that this module uses. They are declared class
    variables so that both the model's columns (in queries) and a job's values
    type-check; this module changes jobs with UPDATE statements only."""

    id: ClassVar[Mapped[uuid.UUID]]
    status: ClassVar[Mapped[Any]]  # the table's own status enum
    rows_done: ClassVar[Mapped[int]]
    failure: ClassVar[Mapped[str]]
    finished_at: ClassVar[Mapped[datetime | None]]
    runner: ClassVar[Mapped[str]]  # "host:pid" of the process that runs it (``this_runner``)
    heartbeat_at: ClassVar[Mapped[datetime]]  # its last sign of life


def this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, eq=False)
class JobTable:
    """One table of background jobs: its model, its statuses and its message for a
    job whose process died."""

    model: type[Job]
    active: tuple[StrEnum, ...]  # queued or running: a process should be at it
    failed: StrEnum
    interrupted: str  # the failure of a job whose process died
    kind: str  # what the log calls its jobs ("imports")
    # Jobs running in this process and the rows they reported last. It lets this
    # process show progress it could not write and never take its own running
    # jobs for dead ones.
    live: dict[uuid.UUID, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- jobs running in this process --------------------------------------------------

    def started(self, job_id: uuid.UUID) -> None:
        with self.lock:
            self.live[job_id] = 0

    def ended(self, job_id: uuid.UUID) -> None:
        with self.lock:
            self.live.pop(job_id, None)

    def runs_here(self, job_id: uuid.UUID) -> bool:
        with self.lock:
            return job_id in self.live

    def rows_done(self, job: Job) -> int:
        """The rows done of the job: its row's, or more if this process knows more."""
        with self.lock:
            live = self.live.get(job.id)
        if live is not None and job.status in self.active:
            return max(job.rows_done, live)
        return job.rows_done

    # --- ending ------------------------------------------------------------------------

    def finish_failed(self, database: Database, job_id: uuid.UUID, message: str) -> None:
        model, now = self.model, utcnow()
        with database.write_session() as session, transaction(session):
            session.execute(
                update(model)
                .where(model.id == job_id)
                .values(
                    status=self.failed, failure=redact(message), finished_at=now, heartbeat_at=now
                )
            )

    def mark_interrupted(
        self,
        database: Database,
        job_ids: Sequence[uuid.UUID],
        *,
        quiet_since: datetime | None = None,
    ) -> None:
        model = self.model
        query = update(model).where(model.id.in_(job_ids), model.status.in_(self.active))
        if quiet_since is not None:  # unless it showed a sign of life meanwhile
            query = query.where(model.heartbeat_at < quiet_since)
        now = utcnow()
        with database.write_session() as session, transaction(session):
            session.execute(
                query.values(status=self.failed, failure=self.interrupted, finished_at=now)
            )
        log.warning(f"{self.kind} interrupted", jobs=[str(i) for i in job_ids])

    # --- jobs left by a dead process ---------------------------------------------------

    def is_stale(self, job: Job, now: datetime) -> bool:
        return (
            job.status in self.active
            and not self.runs_here(job.id)
            and job.heartbeat_at < now - STALE_AFTER
        )

    def expire_stale(self, database: Database, jobs: Sequence[Job]) -> bool:
        """When jobs are read: mark failed those without a sign of life for
        ``STALE_AFTER``; True if there were any (read them again)."""
        now = utcnow()
        stale = [job.id for job in jobs if self.is_stale(job, now)]
        if stale:
            self.mark_interrupted(database, stale, quiet_since=now - STALE_AFTER)
        return bool(stale)

    def recover(self, database: Database) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
        """At start-up: mark failed the jobs that a process of this machine left queued
        or running when it died. Returns the jobs still active (alive, or another
        machine's) and those marked failed."""
        host = socket.gethostname()
        model = self.model
        with database.session() as session:
            active = session.execute(
                select(model.id, model.runner).where(model.status.in_(self.active))
            ).all()
        dead = [job_id for job_id, runner in active if self.died(job_id, runner, host)]
        if dead:
            self.mark_interrupted(database, dead)
        return {job_id for job_id, _ in active} - set(dead), set(dead)

    def died(self, job_id: uuid.UUID, runner: str, host: str) -> bool:
        # another machine's runner: the read-time timeout covers it
        return not self.runs_here(job_id) and runner_gone(runner, host)


class ProgressWriter:
    """A job's ``progress`` callback: remembers the rows done in this process and
    writes them (with a sign of life) to the job in a short transaction of its own,
    at most once every ``every`` seconds. A subclass names its ``table``."""

    table: ClassVar[JobTable]

    def __init__(
        self,
        database: Database,
        job_id: uuid.UUID,
        *,
        store: bool = True,
        every: float = PROGRESS_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.job_id = job_id
        self.store = store
        self.every = every
        self.clock = clock
        self._last: float | None = None

    def __call__(self, rows: int) -> None:
        table = self.table
        with table.lock:
            if self.job_id in table.live:
                table.live[self.job_id] = rows
        if not self.store:
            return
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        model = table.model
        with self.database.write_session() as session, transaction(session):
            session.execute(
                update(model)
                .where(model.id == self.job_id)
                .values(rows_done=rows, heartbeat_at=utcnow())
            )
