"""The queue and the workers that run jobs (huey 3).

A huey message carries only a job's id: it wakes a worker, which claims the job
in the database (``record.claim``) and runs its kind. huey is configured here
from the settings:

- ``SqliteHuey`` in ``<instance_dir>/queue.sqlite3``: a file of its own, because
  an import holds the app database's one write lock for a long time and the
  queue must still take messages meanwhile;
- ``PostgresHuey``: tables ``huey_*`` in the application's database (made by
  migration 0020), woken by LISTEN/NOTIFY, so no other server is needed;
- ``RedisHuey``, optionally; ``immediate`` runs each job at once, in the
  process that asked (tests).

Workers are ``dcatalog worker`` processes, or threads of ``dcatalog serve``
(``jobs_in_process``, the embedded default). Each minute one of them, whichever
claims the minute in ``job_clock``, runs the periodic work: recovery of jobs
whose worker died, removal of expired jobs and files, and the jobs of kinds
that run on a schedule (``JobKind.every``: the dashboard's refresh).

huey serialises messages with pickle: whoever can write the ``huey_*`` tables
(or the queue file, or the Redis) can run code in the workers. They sit behind
the database's own credentials; give the Redis a password of its own.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from huey.exceptions import RetryTask
from sqlalchemy import update
from sqlalchemy.engine import make_url

from dcatalog.config import Settings
from dcatalog.db import Database, changed_rows, transaction
from dcatalog.jobs import kinds, record
from dcatalog.jobs.models import JobClock
from dcatalog.logs import get_logger

log = get_logger(__name__)

QUEUE_NAME = "dcatalog"
RUN_JOB = "dcatalog.run_job"
TICK = "dcatalog.tick"
CAP_RETRY_SECONDS = 3  # a job whose cap is full is offered again after this long


def make_huey(settings: Settings, database: Database) -> Huey:
    choice = settings.jobs_queue
    if choice == "auto":
        choice = "sqlite" if database.is_sqlite else "postgres"
    common: dict[str, Any] = {"results": False, "utc": True}
    if choice == "immediate":
        return MemoryHuey(QUEUE_NAME, immediate=True, **common)
    if choice == "sqlite":
        settings.instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = settings.instance_dir / "queue.sqlite3"
        return SqliteHuey(QUEUE_NAME, filename=str(path), **common)
    if choice == "postgres":
        if database.is_sqlite:
            raise ValueError("jobs_queue = postgres needs a PostgreSQL database_url")
        url = make_url(str(database.engine.url.render_as_string(hide_password=False)))
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(QUEUE_NAME, dsn=dsn, create_tables=False, **common)
    return RedisHuey(QUEUE_NAME, url=settings.jobs_redis_url, **common)


class Jobs:
    """This process's side of the queue: waking jobs, and running them when it is a
    worker (a ``dcatalog worker``, or ``serve`` with ``jobs_in_process``)."""

    def __init__(self, database: Database, settings: Settings, huey: Huey | None = None) -> None:
        self.database = database
        self.settings = settings
        self.huey = huey or make_huey(settings, database)
        self.caps = record.Caps(
            overall=settings.jobs_running_max, per_agency=settings.jobs_per_agency
        )
        self.stale_after = timedelta(seconds=settings.jobs_stale_after_seconds)
        self.runner = record.this_runner()
        self.stopping = threading.Event()
        self._runs: dict[uuid.UUID, record.Claimed] = {}  # running in this process
        self._lock = threading.Lock()
        self._run_task = self.huey.task(name=RUN_JOB)(self._run_job)
        self.huey.periodic_task(crontab(minute="*"), name=TICK)(self.tick)

    # --- asking ----------------------------------------------------------------------

    def wake(self, job_id: uuid.UUID) -> None:
        """Tell a worker about a job created (and committed) just now."""
        self._run_task(str(job_id))

    # --- running ---------------------------------------------------------------------

    def _run_job(self, job_id: str) -> None:
        try:
            claimed = record.claim(self.database, uuid.UUID(job_id), self.runner, self.caps)
        except record.CapFull as full:
            if self.huey.immediate:
                raise  # tests run one job at a time: a full cap is a bug there
            log.info("job waits for its turn", job_id=job_id, cap=str(full))
            raise RetryTask(delay=CAP_RETRY_SECONDS) from None
        if claimed is None:
            return  # a second wake-up, or the job is running or ended
        self.run(claimed)

    def run(self, claimed: record.Claimed) -> None:
        """One run of a claimed job: whatever happens ends in its record."""
        kind = kinds.get(claimed.kind)
        context = record.Context(self.database, self.settings, claimed, self.stopping.is_set)
        with self._lock:
            self._runs[claimed.job_id] = claimed
        about = {"job_id": str(claimed.job_id), "kind": claimed.kind, "attempt": claimed.attempt}
        try:
            try:
                result = kind.run(context)
            except record.Stopping:
                record.give_back(self.database, claimed)
                log.info("job given back: the worker stops", **about)
            except record.JobFailed as failed:
                record.fail(self.database, claimed, str(failed), self.settings)
                log.info("job failed", reason=str(failed), **about)
            except record.Superseded:
                raise
            except Exception:
                log.exception("job failed unexpectedly", **about)
                record.fail(self.database, claimed, kind.unexpected, self.settings)
            else:
                record.finish(self.database, claimed, result, self.settings)
                log.info("job done", **about)
        except record.Superseded:
            log.warning("job taken over by another worker", **about)
        finally:
            with self._lock:
                self._runs.pop(claimed.job_id, None)
            record.forget_shown(claimed.job_id)

    def running_here(self) -> list[record.Claimed]:
        with self._lock:
            return list(self._runs.values())

    # --- keeping the queue healthy ---------------------------------------------------

    def recover(self) -> record.Recovered:
        """Queue again the jobs of dead workers, and wake every queued job."""
        live = {claimed.job_id for claimed in self.running_here()}
        found = record.recover(
            self.database, stale_after=self.stale_after, live=live, settings=self.settings
        )
        for job_id in found.queued:
            self.wake(job_id)
        return found

    def beat(self) -> None:
        """Signs of life of this process's runs (PostgreSQL: see ``record.recover``)."""
        runs = self.running_here()
        if runs and not self.database.is_sqlite:
            record.beat(self.database, runs)

    def tick(self) -> None:
        """The periodic work, once a minute over every worker."""
        slot = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
        if not self._claim_minute(slot):
            return
        found = self.recover()
        removed = record.remove_expired(self.database)
        due = record.create_due(self.database, self.settings)
        for job_id in due:
            self.wake(job_id)
        log.info("jobs tick", slot=slot, woken=len(found.queued), expired=removed, due=len(due))

    def _claim_minute(self, slot: str) -> bool:
        with self.database.write_session() as session, transaction(session):
            if session.get(JobClock, "tick") is None:
                session.add(JobClock(name="tick", last_slot=""))
                session.flush()
            won = changed_rows(
                session.execute(
                    update(JobClock)
                    .where(JobClock.name == "tick", JobClock.last_slot < slot)
                    .values(last_slot=slot)
                )
            )
        return bool(won)

    # --- consumers -------------------------------------------------------------------

    def consumer(self, threads: int | None = None, *, embedded: bool = False) -> Consumer:
        """huey's consumer for this process: ``threads`` workers (threads, not
        processes: the web process must not fork) and the minute's periodic task."""
        options: dict[str, Any] = {}
        if embedded:
            options["max_delay"] = 1.0  # SQLite polls: a new job starts within a second
        else:
            # systemd and Kubernetes stop a process with SIGTERM; a job still running
            # after 30 s is given back at its next step or resumed by recovery.
            options |= {"graceful_signal": "TERM", "shutdown_timeout": 30}
        return WorkerConsumer(
            self,
            embedded=embedded,
            workers=threads or self.settings.jobs_threads,
            worker_type="thread",
            periodic=True,
            **options,
        )


class WorkerConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer, which tells our runs to give their jobs back when it stops.
    Inside ``dcatalog serve`` (``embedded``) it leaves the signal handlers alone:
    huey's would replace the server's, and Ctrl-C would no longer stop it."""

    def __init__(self, jobs: Jobs, *, embedded: bool, **options: Any) -> None:
        super().__init__(jobs.huey, **options)
        self.jobs = jobs
        self.embedded = embedded

    def stop(self, graceful: bool = False) -> None:
        self.jobs.stopping.set()
        super().stop(graceful)

    def _set_signal_handlers(self) -> None:
        if not self.embedded:
            super()._set_signal_handlers()


class Heartbeat:
    """A thread that writes the signs of life of this process's runs and, inside
    ``serve`` (where huey's own loop does not run), restarts dead huey workers."""

    def __init__(self, jobs: Jobs, consumer: Consumer | None = None) -> None:
        self.jobs = jobs
        self.consumer = consumer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="dcatalog-jobs", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        every = max(1.0, self.jobs.stale_after.total_seconds() / 4)
        while not self._stop.wait(every):
            try:
                if self.consumer is not None:
                    self.consumer.check_worker_health()
                self.jobs.beat()
            except Exception:  # never let it die; the next beat tries again
                log.exception("jobs heartbeat")


class InProcess:
    """The jobs of ``serve`` with ``jobs_in_process`` (the embedded default)."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs
        self.consumer = jobs.consumer(embedded=True)
        self.heartbeat = Heartbeat(jobs, self.consumer)

    def start(self) -> None:
        self.jobs.recover()
        self.consumer.start()
        self.heartbeat.__enter__()

    def stop(self) -> None:
        self.consumer.stop(graceful=True)  # runs give their jobs back at their next step
        self.heartbeat.__exit__()
